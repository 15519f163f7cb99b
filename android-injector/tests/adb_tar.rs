//! `tar` on the device through real adb: a save archive of `/data/data/<pkg>` restored into a
//! fresh device, and hostile archives whose traversal members are refused.

mod adb_support;

use adb_support::{AdbServer, DeviceProcess};

#[test]
fn app_data_survives_tar_into_a_fresh_device() {
    let adb = AdbServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("save.tgz");
    {
        let device = DeviceProcess::start(&[]);
        let s = device.serial();
        adb.connect(&s);
        let (_, err, code) = adb.shell(&s, "mkdir -p /data/data/com.example.game/files && echo 42 > /data/data/com.example.game/files/taps && echo cfg > /data/data/com.example.game/prefs.xml");
        assert_eq!(code, 0, "{err}");
        let (_, err, code) = adb.shell(
            &s,
            "tar -czf /sdcard/save.tgz -C /data/data com.example.game",
        );
        assert_eq!(code, 0, "{err}");
        let listing = adb.shell(&s, "tar -tzf /sdcard/save.tgz").0;
        assert!(listing.contains("com.example.game/files/taps"), "{listing}");
        assert!(
            adb.adb_s(&s, &["pull", "/sdcard/save.tgz", archive.to_str().unwrap()])
                .status
                .success()
        );
    }
    let device = DeviceProcess::start(&[]);
    let s = device.serial();
    adb.connect(&s);
    assert_eq!(
        adb.shell(&s, "cat /data/data/com.example.game/files/taps")
            .2,
        1
    );
    assert!(
        adb.adb_s(
            &s,
            &[
                "push",
                archive.to_str().unwrap(),
                "/data/local/tmp/save.tgz"
            ]
        )
        .status
        .success()
    );
    let (_, err, code) = adb.shell(&s, "cd /data/data && tar xzf /data/local/tmp/save.tgz");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        adb.shell(&s, "cat /data/data/com.example.game/files/taps")
            .0,
        "42\n"
    );
    assert_eq!(
        adb.shell(&s, "cat /data/data/com.example.game/prefs.xml").0,
        "cfg\n"
    );
    // Through stdin/stdout too: `exec-out tar -cf - …` is what streaming tools use.
    let o = adb.adb_s(
        &s,
        &["exec-out", "tar -cf - -C /data/data com.example.game"],
    );
    assert!(o.status.success());
    let mut ar = tar::Archive::new(std::io::Cursor::new(o.stdout));
    let names: Vec<String> = ar
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(
        names.contains(&"com.example.game/files/taps".to_string()),
        "{names:?}"
    );
}

/// A tar header for `name` with raw bytes (bypassing the tar crate's own path checks).
fn raw_entry(out: &mut Vec<u8>, name: &str, kind: u8, link: &str, data: &[u8]) {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = kind;
    h[157..157 + link.len()].copy_from_slice(link.as_bytes());
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

#[test]
fn traversal_members_are_refused() {
    let device = DeviceProcess::start(&[]);
    let adb = AdbServer::start();
    let s = device.serial();
    adb.connect(&s);
    let mut t = Vec::new();
    raw_entry(&mut t, "../../../../escape-dotdot", b'0', "", b"x");
    raw_entry(&mut t, "ok/../../escape-inner", b'0', "", b"x");
    raw_entry(&mut t, "link-out", b'2', "/etc", b"");
    raw_entry(&mut t, "hard-out", b'1', "/etc/passwd", b"");
    raw_entry(&mut t, "/abs/inside.txt", b'0', "", b"abs");
    raw_entry(&mut t, "good/file.txt", b'0', "", b"good");
    t.extend_from_slice(&[0u8; 1024]);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("evil.tar");
    std::fs::write(&path, &t).unwrap();
    assert!(
        adb.adb_s(
            &s,
            &["push", path.to_str().unwrap(), "/data/local/tmp/evil.tar"]
        )
        .status
        .success()
    );
    let (_, err, code) = adb.shell(
        &s,
        "mkdir -p /data/local/tmp/x && tar -xf /data/local/tmp/evil.tar -C /data/local/tmp/x",
    );
    assert_eq!(code, 1);
    for member in [
        "../../../../escape-dotdot",
        "ok/../../escape-inner",
        "link-out",
        "hard-out",
    ] {
        assert!(
            err.contains(&format!("refusing to extract '{member}'")),
            "{member}: {err}"
        );
    }
    // Safe members were extracted; the leading '/' was stripped.
    assert_eq!(
        adb.shell(&s, "cat /data/local/tmp/x/good/file.txt").0,
        "good"
    );
    assert_eq!(
        adb.shell(&s, "cat /data/local/tmp/x/abs/inside.txt").0,
        "abs"
    );
    assert_eq!(adb.shell(&s, "ls /data/local/tmp/x").0, "abs\ngood\n");
    // Nothing appeared anywhere up the tree.
    let mut p = device.data_dir.join("fs/data/local/tmp");
    for _ in 0..6 {
        for f in ["escape-dotdot", "escape-inner"] {
            assert!(!p.join(f).exists(), "{}", p.join(f).display());
        }
        if !p.pop() {
            break;
        }
    }
}
