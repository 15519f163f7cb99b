//! AUTH against real adb: an `adb_keys` file that lists the host's key lets it in, one that
//! does not leaves it unauthorised; the default mode accepts and remembers any key.

mod adb_support;

use adb_support::{AdbServer, DeviceProcess, TIMEOUT, wait_for};

#[test]
fn adb_keys_listing_the_hosts_key_is_accepted() {
    let adb = AdbServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("adb_keys");
    // adb created its key pair in the isolated HOME when the server started.
    std::fs::write(&keys, format!("# test operators\n{}", adb.public_key())).unwrap();
    let device = DeviceProcess::start(&["--adb-keys", keys.to_str().unwrap()]);
    let s = device.serial();
    adb.connect(&s);
    assert_eq!(adb.shell(&s, "echo authorised").0, "authorised\n");
}

#[test]
fn adb_keys_without_the_hosts_key_leaves_it_unauthorized() {
    let adb = AdbServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("adb_keys");
    // Some other host's key (the crate's test vector), not this server's.
    std::fs::write(
        &keys,
        include_str!("../../crates/adb-proto/src/testdata/adbkey.pub"),
    )
    .unwrap();
    let device = DeviceProcess::start(&["--adb-keys", keys.to_str().unwrap()]);
    let s = device.serial();
    adb.connect_until(&s, "unauthorized");
    let (_, err, code) = adb.shell(&s, "echo should-not-run");
    assert_ne!(code, 0);
    assert!(err.contains("unauthorized"), "{err}");

    // adbd re-reads adb_keys for each connection: list the key, reconnect, and it is let in.
    std::fs::write(&keys, adb.public_key()).unwrap();
    adb.adb(&["disconnect", &s]);
    assert!(wait_for(TIMEOUT, || adb.state(&s).is_none()));
    adb.connect(&s);
    assert_eq!(adb.shell(&s, "echo now-authorised").0, "now-authorised\n");
}

#[test]
fn default_mode_accepts_any_key_and_remembers_it() {
    let adb = AdbServer::start();
    let device = DeviceProcess::start(&[]);
    let s = device.serial();
    adb.connect(&s);
    assert_eq!(adb.shell(&s, "echo in").0, "in\n");
    let remembered = std::fs::read_to_string(device.data_dir.join("state/adb_keys")).unwrap();
    let key = adb.public_key();
    assert!(
        remembered.contains(key.split_whitespace().next().unwrap()),
        "key not remembered"
    );
}
