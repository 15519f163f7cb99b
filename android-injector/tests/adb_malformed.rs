//! Malformed adb traffic over real sockets: each bad connection is dropped with a clear
//! error while the device keeps serving its other connections (a real adb session here).
//! The byte-level rules themselves are unit-tested in `adb::packet` and `adb::transport`.

mod adb_support;

use adb_support::{AdbServer, DeviceProcess, RawHost};
use playrack_adb_proto::packet::{
    self, A_CLSE, A_CNXN, A_OKAY, A_OPEN, A_VERSION, A_WRTE, MAX_PAYLOAD, Packet,
};

fn cnxn() -> Packet {
    Packet::new(
        A_CNXN,
        A_VERSION,
        MAX_PAYLOAD,
        b"host::features=shell_v2\0".to_vec(),
    )
}

#[test]
fn malformed_packets_drop_only_their_connection() {
    let device = DeviceProcess::start(&["--no-auth"]);
    let adb = AdbServer::start();
    let s = device.serial();
    adb.connect(&s);

    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut bad_magic = packet::encode(&cnxn());
    bad_magic[20] ^= 0xff;
    cases.push(("bad magic", bad_magic));
    let mut oversize = packet::encode(&cnxn());
    oversize[12..16].copy_from_slice(&(16 * 1024 * 1024u32).to_le_bytes());
    cases.push(("oversize length", oversize));
    let mut bad_sum = packet::encode(&cnxn());
    bad_sum[16] ^= 0x01;
    cases.push(("bad checksum", bad_sum));
    cases.push((
        "unknown command",
        packet::encode(&Packet::new(0x4b4e_4a55, 0, 0, Vec::new())),
    ));
    cases.push((
        "OPEN before CNXN",
        packet::encode(&Packet::new(A_OPEN, 1, 0, b"shell:id\0".to_vec())),
    ));
    let mut garbage = vec![0u8; 24];
    garbage[..4].copy_from_slice(b"GET ");
    cases.push(("http garbage", garbage));

    for (what, bytes) in cases {
        let mut raw = RawHost::connect(device.port);
        std::io::Write::write_all(&mut raw.sock, &bytes).unwrap();
        assert!(raw.recv().is_none(), "{what}: connection not dropped");
        // The established adb session is untouched.
        assert_eq!(
            adb.shell(&s, &format!("echo after {what}")).0,
            format!("after {what}\n")
        );
    }

    // After a good handshake: WRTE on a stream that was never opened.
    let mut raw = RawHost::connect(device.port);
    raw.handshake();
    raw.send(&Packet::new(A_WRTE, 1, 4242, b"x".to_vec()));
    assert!(
        raw.recv().is_none(),
        "WRTE on unknown stream: connection not dropped"
    );
    assert_eq!(adb.shell(&s, "echo still").0, "still\n");
    let log = std::fs::read_to_string(device.data_dir.join("virtual-device.log")).unwrap();
    assert!(
        log.contains("WRTE on unknown stream 4242"),
        "the reason is logged"
    );
    assert!(log.contains("bad magic"), "the reason is logged");
}

#[test]
fn unknown_services_are_closed_and_the_connection_goes_on() {
    let device = DeviceProcess::start(&["--no-auth"]);
    let mut raw = RawHost::connect(device.port);
    let reply = raw.handshake();
    let banner = String::from_utf8_lossy(&reply.data).into_owned();
    assert!(
        banner.starts_with("device::ro.product.name=playrack_arm64;ro.product.model="),
        "{banner}"
    );
    assert!(
        banner.contains("features=shell_v2,cmd,stat_v2,ls_v2"),
        "{banner}"
    );
    assert_eq!(raw.open(1, "frobnicate:now"), None);
    assert_eq!(raw.open(2, "jdwp:1234"), None);
    assert_eq!(raw.open(3, "localabstract:nobody"), None);
    // The connection still serves a v1 shell: output, then CLSE.
    let id = raw.open(4, "shell:echo hi").expect("shell opens");
    let mut got = Vec::new();
    assert!(!raw.read_at_least(4, id, usize::MAX, &mut got));
    assert_eq!(got, b"hi\n");
    // …and OKAYs for a stream it just closed are ignored, not fatal.
    raw.send(&Packet::new(A_OKAY, 4, id, Vec::new()));
    raw.send(&Packet::new(A_CLSE, 4, id, Vec::new()));
    let id = raw.open(5, "shell:echo again").expect("shell opens");
    let mut got = Vec::new();
    raw.read_at_least(5, id, usize::MAX, &mut got);
    assert_eq!(got, b"again\n");
}
