//! The `adb_client` crate (3.2.3) as a second real peer: through the real adb server (shell,
//! push, pull, stat, list), and directly over TCP with its own CNXN/AUTH implementation, its
//! key listed in the device's `adb_keys` (so the device verifies adb_client's signature).

mod adb_support;

use std::io::Cursor;
use std::net::{Ipv4Addr, SocketAddrV4};

use adb_client::ADBDeviceExt;
use adb_client::server::ADBServer;
use adb_support::{AdbServer, DeviceProcess};

#[test]
fn adb_client_shell_push_pull_through_the_adb_server() {
    let device = DeviceProcess::start(&[]);
    let adb = AdbServer::start();
    let s = device.serial();
    adb.connect(&s);

    let mut server = ADBServer::new(SocketAddrV4::new(Ipv4Addr::LOCALHOST, adb.port));
    let mut dev = server
        .get_device_by_name(&s)
        .expect("adb_client finds the device");
    // adb_client picks shell v2 from the features our banner advertises.
    let features = dev.host_features().unwrap();
    assert!(
        features.contains(&adb_client::HostFeatures::ShellV2),
        "{features:?}"
    );

    let mut out = Vec::new();
    // (adb_client 3.2.3 reads the v2 exit packet but returns None once the stream closes
    // after it, so only the streams are compared; exit codes are checked with adb itself.)
    dev.shell_command(&"getprop ro.product.cpu.abi", Some(&mut out), None)
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out), "arm64-v8a\n");
    let mut out = Vec::new();
    let mut err = Vec::new();
    dev.shell_command(&"echo to-stdout; nosuch", Some(&mut out), Some(&mut err))
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out), "to-stdout\n");
    assert_eq!(
        String::from_utf8_lossy(&err),
        "/system/bin/sh: nosuch: not found\n"
    );

    let payload: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
    dev.push(
        &mut Cursor::new(payload.clone()),
        "/sdcard/Download/from-adb-client.bin",
    )
    .unwrap();
    let st = dev.stat("/sdcard/Download/from-adb-client.bin").unwrap();
    assert_eq!(st.file_size as usize, payload.len());
    let mut back = Vec::new();
    dev.pull(&"/sdcard/Download/from-adb-client.bin", &mut back)
        .unwrap();
    assert_eq!(back, payload);
    let names: Vec<String> = dev
        .list("/sdcard/Download")
        .unwrap()
        .into_iter()
        .map(|i| format!("{i:?}"))
        .collect();
    assert!(
        names.iter().any(|n| n.contains("from-adb-client.bin")),
        "{names:?}"
    );
}

#[test]
fn adb_client_talks_to_adbd_directly_over_tcp() {
    use adb_client::tcp::ADBTcpDevice;
    // No adb server in between: adb_client's own transport does CNXN/AUTH with its key.
    let adb = AdbServer::start(); // only to have adb generate a key pair in its HOME
    let key = adb.home.path().join(".android/adbkey");
    adb.public_key();
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("adb_keys");
    std::fs::write(&keys, adb.public_key()).unwrap();
    let device = DeviceProcess::start(&["--adb-keys", keys.to_str().unwrap()]);
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], device.port));
    let mut dev = ADBTcpDevice::new_with_custom_private_key(addr, &key).expect("direct connect");
    let mut out = Vec::new();
    dev.shell_command(&"getprop ro.build.version.sdk", Some(&mut out), None)
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out), "33\n");
    let payload: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_be_bytes()).collect();
    dev.push(
        &mut Cursor::new(payload.clone()),
        &"/data/local/tmp/direct.bin",
    )
    .unwrap();
    let mut back = Vec::new();
    dev.pull(&"/data/local/tmp/direct.bin", &mut back).unwrap();
    assert_eq!(back, payload);
}
