//! Path traversal through the sync protocol, sent by a raw host (real adb pre-checks some
//! paths itself, so it cannot send all of these): SEND/RECV/STAT/LIST with `..`, unmapped
//! absolute paths and symlinks pointing out of the data directory are refused, and nothing
//! outside the data directory is read or created.

mod adb_support;

use adb_support::{DeviceProcess, RawHost};
use playrack_adb_proto::sync;

/// Runs one sync request on a fresh `sync:` stream; returns everything the device sent
/// before closing the stream (or at least `want` bytes).
fn sync_exchange(raw: &mut RawHost, host_id: u32, request: &[u8], want: usize) -> Vec<u8> {
    let dev = raw.open(host_id, "sync:").expect("sync opens");
    let mut got = Vec::new();
    raw.write(host_id, dev, request, &mut got);
    raw.read_at_least(host_id, dev, want, &mut got);
    got
}

fn req(id: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut v = id.to_vec();
    v.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    v.extend_from_slice(payload);
    v
}

/// A complete push: SEND, one DATA, DONE.
fn push(path: &str, data: &[u8]) -> Vec<u8> {
    let mut v = req(b"SEND", format!("{path},33188").as_bytes());
    v.extend(req(b"DATA", data));
    v.extend_from_slice(b"DONE");
    v.extend_from_slice(&1_700_000_000u32.to_le_bytes());
    v
}

fn fail_message(reply: &[u8]) -> String {
    assert!(
        reply.len() >= 8 && &reply[..4] == b"FAIL",
        "expected FAIL, got {:?}",
        String::from_utf8_lossy(reply)
    );
    let n = u32::from_le_bytes(reply[4..8].try_into().unwrap()) as usize;
    String::from_utf8_lossy(&reply[8..8 + n]).into_owned()
}

#[test]
fn sync_traversal_is_refused_and_nothing_outside_is_touched() {
    let device = DeviceProcess::start(&["--no-auth"]);
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), b"top secret").unwrap();
    let out = outside
        .path()
        .to_str()
        .unwrap()
        .trim_start_matches('/')
        .to_string();
    // A symlink inside the device pointing out of it (as a hostile tar or rsync could leave).
    std::os::unix::fs::symlink(
        outside.path(),
        device.data_dir.join("fs/data/local/tmp/out"),
    )
    .unwrap();

    let mut raw = RawHost::connect(device.port);
    raw.handshake();
    let mut id = 10;
    let mut next = || {
        id += 1;
        id
    };

    // SEND with .. escaping to a real host directory, absolute unmapped, and via the symlink.
    for target in [
        format!("/data/local/tmp/../../../../../../{out}/evil1"),
        format!("/{out}/evil2"),
        "/data/local/tmp/out/evil3".to_string(),
        "/system/bin/evil4".to_string(),
    ] {
        let reply = sync_exchange(&mut raw, next(), &push(&target, b"pwned"), 8);
        let msg = fail_message(&reply);
        assert!(
            msg.contains("Permission denied") || msg.contains("Read-only"),
            "{target}: {msg}"
        );
    }
    for f in ["evil1", "evil2", "evil3"] {
        assert!(
            !outside.path().join(f).exists(),
            "{f} was created outside the data directory"
        );
    }
    assert!(!device.data_dir.join("fs/system/bin/evil4").exists());

    // RECV of files outside: FAIL, no bytes of the secret.
    for src in [
        format!("/data/../{out}/secret"),
        "/data/local/tmp/out/secret".to_string(),
        "/etc/passwd".to_string(),
    ] {
        let reply = sync_exchange(&mut raw, next(), &req(b"RECV", src.as_bytes()), 8);
        let msg = fail_message(&reply);
        assert!(
            msg.starts_with("open failed: Permission denied"),
            "{src}: {msg}"
        );
        assert!(!String::from_utf8_lossy(&reply).contains("top secret"));
    }

    // STAT (v1): all zeros, like a missing file. STA2/LST2: EACCES.
    let reply = sync_exchange(
        &mut raw,
        next(),
        &req(b"STAT", b"/data/local/tmp/out/secret"),
        16,
    );
    assert_eq!(reply, sync::stat_v1(None));
    let reply = sync_exchange(
        &mut raw,
        next(),
        &req(b"STA2", format!("/data/../{out}/secret").as_bytes()),
        72,
    );
    assert_eq!(&reply[..8], b"STA2\x0d\x00\x00\x00");
    let reply = sync_exchange(&mut raw, next(), &req(b"LST2", b"/proc/self/environ"), 72);
    assert_eq!(&reply[..8], b"LST2\x0d\x00\x00\x00");

    // LIST of an outside directory (directly or through the symlink): just DONE.
    let reply = sync_exchange(&mut raw, next(), &req(b"LIST", b"/data/local/tmp/out"), 20);
    assert_eq!(reply, sync::dent_v1_done());
    let reply = sync_exchange(
        &mut raw,
        next(),
        &req(b"LIS2", format!("/data/../../{out}").as_bytes()),
        76,
    );
    assert_eq!(reply, sync::dent_v2_done());

    // The same connection still pushes and pulls inside the sandbox.
    let reply = sync_exchange(
        &mut raw,
        next(),
        &push("/data/local/tmp/ok.txt", b"fine"),
        8,
    );
    assert_eq!(reply, sync::okay());
    let reply = sync_exchange(
        &mut raw,
        next(),
        &req(b"RECV", b"/sdcard/../data/local/tmp/ok.txt"),
        8 + 4 + 8,
    );
    let mut want = sync::data(b"fine");
    want.extend(sync::done());
    assert_eq!(reply, want);
    let reply = sync_exchange(&mut raw, next(), &req(b"LIS2", b"/"), 76 * 5);
    for name in ["data", "sdcard", "storage", "system"] {
        assert!(
            reply.windows(name.len()).any(|w| w == name.as_bytes()),
            "/ lists {name}"
        );
    }
    assert_eq!(
        std::fs::read(outside.path().join("secret")).unwrap(),
        b"top secret"
    );
}

#[test]
fn malformed_sync_requests_fail_the_session_only() {
    let device = DeviceProcess::start(&["--no-auth"]);
    let mut raw = RawHost::connect(device.port);
    raw.handshake();
    let reply = sync_exchange(&mut raw, 1, &req(b"ZZZZ", b""), 8);
    assert!(fail_message(&reply).contains("unknown sync message id"));
    let mut too_long = b"RECV".to_vec();
    too_long.extend_from_slice(&100_000u32.to_le_bytes());
    let reply = sync_exchange(&mut raw, 2, &too_long, 8);
    assert!(fail_message(&reply).contains("too long"));
    // DATA without SEND.
    let reply = sync_exchange(&mut raw, 3, &req(b"DATA", b"x"), 8);
    assert!(fail_message(&reply).contains("outside SEND"));
    let reply = sync_exchange(&mut raw, 4, &req(b"STAT", b"/data"), 16);
    assert_eq!(&reply[..4], b"STAT");
    assert_eq!(
        u32::from_le_bytes(reply[4..8].try_into().unwrap()) & 0o170000,
        0o040000
    );
}
