//! `adb install` (adb 29 streams into `cmd package install -S`), `pm` and app launching,
//! against the virtual-device binary with the fixture APKs of `playrack-apk`.

mod adb_support;

use adb_support::{AdbServer, DeviceProcess};

fn fixture(name: &str) -> (std::path::PathBuf, playrack_apk::ApkInfo) {
    let path = playrack_test_support::fixtures::apk(name);
    let info = playrack_apk::inspect(
        std::fs::File::open(&path).unwrap(),
        &playrack_apk::Limits::default(),
    )
    .unwrap();
    (path, info)
}

#[test]
fn install_list_launch_upgrade_and_survive_a_restart() {
    let (v1, info1) = fixture("tapper-v1");
    let (v2, info2) = fixture("tapper-v2");
    assert_eq!(info1.package, info2.package);
    assert!(info2.version_code > info1.version_code);
    let pkg = info1.package.clone();
    let activity = info1
        .launchable_activity
        .clone()
        .expect("tapper has a launcher activity");

    let device = DeviceProcess::start(&[]);
    let adb = AdbServer::start();
    let s = device.serial();
    adb.connect(&s);

    let o = adb.adb_s(&s, &["install", v1.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "install: {out} {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("Success"), "{out}");
    let list = adb.shell(&s, "pm list packages").0;
    assert!(
        list.lines().any(|l| l == format!("package:{pkg}")),
        "{list}"
    );
    assert_eq!(
        adb.shell(&s, &format!("pm path {pkg}")).0,
        format!("package:/data/app/{pkg}-1/base.apk\n")
    );
    assert_eq!(
        adb.shell(&s, &format!("pm list packages -3 -f {pkg}")).0,
        format!("package:/data/app/{pkg}-1/base.apk={pkg}\n")
    );
    // The installed APK is byte-identical to the fixture, and the data dir exists.
    assert_eq!(
        std::fs::read(
            device
                .data_dir
                .join(format!("fs/data/app/{pkg}-1/base.apk"))
        )
        .unwrap(),
        std::fs::read(&v1).unwrap()
    );
    assert_eq!(adb.shell(&s, &format!("ls -d /data/data/{pkg}/files")).2, 0);

    // Launching: monkey resolves the launcher activity, am start takes the component.
    let (out, _, code) = adb.shell(
        &s,
        &format!("monkey -p {pkg} -c android.intent.category.LAUNCHER 1"),
    );
    assert_eq!(code, 0);
    assert!(out.contains("Events injected: 1"), "{out}");
    let short = activity
        .strip_prefix(&pkg)
        .map(|r| format!("{pkg}/{r}"))
        .unwrap_or(format!("{pkg}/{activity}"));
    let (out, _, code) = adb.shell(&s, &format!("am start -n {short}"));
    assert_eq!(code, 0);
    assert_eq!(out, format!("Starting: Intent {{ cmp={short} }}\n"));
    // `-W` waits for the first frame and says how the launch went: the process is running,
    // so HOT; after `-S` (stopped first) it is COLD, the app having loaded its assets.
    let (out, _, code) = adb.shell(&s, &format!("am start -W -n {short}"));
    assert_eq!(code, 0);
    assert!(out.contains("Status: ok\nLaunchState: HOT\n"), "{out}");
    assert!(out.ends_with("Complete\n"), "{out}");
    let (out, _, code) = adb.shell(&s, &format!("am start -W -S -n {short}"));
    assert_eq!(code, 0);
    assert!(out.contains("LaunchState: COLD\n"), "{out}");
    assert!(
        out.contains(&format!("Activity: {short}\nTotalTime: ")),
        "{out}"
    );
    // What automation greps for to see the foreground app and the installed version.
    let resumed = adb.shell(&s, "dumpsys activity activities").0;
    assert!(
        resumed.contains(&format!(
            "mResumedActivity: ActivityRecord{{1 u0 {short} t1}}"
        )),
        "{resumed}"
    );
    let window = adb.shell(&s, "dumpsys window windows").0;
    assert!(
        window.contains(&format!("mCurrentFocus=Window{{1 u0 {pkg}/{activity}}}")),
        "{window}"
    );
    let dump = adb.shell(&s, &format!("dumpsys package {pkg}")).0;
    assert!(
        dump.contains(&format!("versionCode={} ", info1.version_code)),
        "{dump}"
    );
    // The app runs as a process named after its package; HOME sends it to the background
    // (the process lives on), `am crash` kills it as an uncaught exception does.
    let (pid, _, code) = adb.shell(&s, &format!("pidof {pkg}"));
    assert_eq!(code, 0);
    let pid: u32 = pid.trim().parse().expect("a pid");
    adb.shell(&s, "input keyevent KEYCODE_HOME");
    let home = adb.shell(&s, "dumpsys window").0;
    assert!(home.contains("com.android.launcher3"), "{home}");
    assert_eq!(adb.shell(&s, &format!("pidof {pkg}")).0, format!("{pid}\n"));
    assert_eq!(adb.shell(&s, &format!("am start -n {short}")).2, 0);
    assert_eq!(adb.shell(&s, &format!("am crash {pkg}")).2, 0);
    let (out, _, code) = adb.shell(&s, &format!("pidof {pkg}"));
    assert_eq!((out.as_str(), code), ("", 1));
    assert!(
        adb.shell(&s, "dumpsys activity activities")
            .0
            .contains("mResumedActivity: null")
    );
    // The log says so, as logcat prints it.
    let crash = adb.shell(&s, "logcat -d -v brief -s AndroidRuntime").0;
    assert!(
        crash.contains(&format!(
            "E/AndroidRuntime({pid:5}): FATAL EXCEPTION: main\n"
        )) && crash.contains(&format!("Process: {pkg}, PID: {pid}")),
        "{crash}"
    );
    let system = adb.shell(&s, "logcat -d -v tag ActivityManager:I *:S").0;
    assert!(
        system.contains(&format!("I/ActivityManager: Start proc {pid}:{pkg}/u0a"))
            && system.contains(&format!("Process {pkg} (pid {pid}) has died")),
        "{system}"
    );
    assert!(!system.contains("AndroidRuntime"), "{system}");
    assert_eq!(adb.shell(&s, "logcat -t 1 -v raw").0.lines().count(), 1);
    let (_, err, code) = adb.shell(&s, "logcat -v fancy");
    assert_eq!(
        (err.as_str(), code),
        ("logcat: Invalid parameter \"fancy\" to -v.\n", 1)
    );
    assert_eq!(adb.shell(&s, "log -p w -t Probe hello there").2, 0);
    assert_eq!(
        adb.shell(&s, "logcat -d -v brief -s Probe").0,
        "W/Probe   ( 4242): hello there\n"
    );
    assert_eq!(adb.shell(&s, "log -p q x").2, 255);
    assert_eq!(adb.shell(&s, "logcat -c").2, 0);
    assert_eq!(adb.shell(&s, "logcat -d").0, "");
    assert_ne!(
        adb.shell(&s, &format!("am crash {pkg}")).2,
        0,
        "no process to crash"
    );
    assert_eq!(adb.shell(&s, &format!("am start -n {short}")).2, 0);
    let (again, _, _) = adb.shell(&s, &format!("pidof {pkg}"));
    assert_ne!(again.trim(), pid.to_string(), "a new process");
    let after_stop = adb
        .shell(
            &s,
            &format!("am force-stop {pkg} && dumpsys activity activities"),
        )
        .0;
    assert!(
        after_stop.contains("mResumedActivity: null"),
        "{after_stop}"
    );
    let (_, err, code) = adb.shell(&s, "am start -n com.not.installed/.Main");
    assert_eq!(code, 1);
    assert!(err.contains("does not exist"), "{err}");
    assert_eq!(adb.shell(&s, "monkey -p com.not.installed 1").2, 251);

    // pm clear empties the app's data directory and keeps the app.
    adb.shell(&s, &format!("echo 5 > /data/data/{pkg}/files/state"));
    assert_eq!(adb.shell(&s, &format!("pm clear {pkg}")).0, "Success\n");
    assert_eq!(adb.shell(&s, &format!("ls /data/data/{pkg}")).0, "");
    assert_eq!(adb.shell(&s, "pm clear com.not.installed").0, "Failed\n");

    // Upgrade to v2, then a downgrade is refused as Android refuses it.
    let o = adb.adb_s(&s, &["install", "-r", v2.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let o = adb.adb_s(&s, &["install", v1.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        out.contains("Failure [INSTALL_FAILED_VERSION_DOWNGRADE"),
        "{out}"
    );

    // The package database survives a restart of the device process.
    let data_dir = device.data_dir.clone();
    let keep = device.stop();
    let device = DeviceProcess::start_in(&data_dir, &[]);
    let s = device.serial();
    adb.connect(&s);
    assert!(
        adb.shell(&s, "pm list packages -3")
            .0
            .contains(&format!("package:{pkg}\n"))
    );
    assert_eq!(adb.shell(&s, &format!("monkey -p {pkg} 1")).2, 0);

    // Uninstall removes the record, the APK and the data.
    assert_eq!(adb.shell(&s, &format!("pm uninstall {pkg}")).0, "Success\n");
    assert!(!adb.shell(&s, "pm list packages").0.contains(&pkg));
    assert_eq!(adb.shell(&s, &format!("ls /data/data/{pkg}")).2, 1);
    assert_eq!(
        adb.shell(&s, &format!("pm uninstall {pkg}")).0,
        "Failure [DELETE_FAILED_INTERNAL_ERROR]\n"
    );
    drop(keep);
}

#[test]
fn pm_install_from_a_pushed_path_and_invalid_apks() {
    let (v1, info) = fixture("tapper-v1");
    let device = DeviceProcess::start(&[]);
    let adb = AdbServer::start();
    let s = device.serial();
    adb.connect(&s);
    assert!(
        adb.adb_s(&s, &["push", v1.to_str().unwrap(), "/data/local/tmp/t.apk"])
            .status
            .success()
    );
    let (out, _, code) = adb.shell(&s, "pm install -r -g /data/local/tmp/t.apk");
    assert_eq!((out.as_str(), code), ("Success\n", 0));
    assert!(
        adb.shell(&s, "cmd package list packages")
            .0
            .contains(&format!("package:{}\n", info.package))
    );

    // Not an APK, by path and streamed.
    adb.shell(&s, "echo not-a-zip > /data/local/tmp/bad.apk");
    let (out, _, code) = adb.shell(&s, "pm install /data/local/tmp/bad.apk");
    assert_eq!(code, 1);
    assert!(
        out.starts_with("Failure [INSTALL_FAILED_INVALID_APK: "),
        "{out}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.apk");
    std::fs::write(&bad, vec![0x50u8; 4096]).unwrap();
    let o = adb.adb_s(&s, &["install", bad.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(out.contains("Failure [INSTALL_FAILED_INVALID_APK"), "{out}");
    // A missing path.
    let (out, _, code) = adb.shell(&s, "pm install /data/local/tmp/none.apk");
    assert_eq!(code, 1);
    assert!(out.contains("No such file or directory"), "{out}");
    // No staging leftovers.
    assert_eq!(
        adb.shell(&s, "ls /data/app").0,
        format!("{}-1\n", info.package)
    );
}
