//! Real Debian `adb` against the virtual-device binary: connect, getprop, shell v2 exit
//! codes and stderr, boot completion, wm, and push/pull of a 50 MB file.

mod adb_support;

use adb_support::{AdbServer, DeviceProcess, TIMEOUT, wait_for};
use sha2::{Digest, Sha256};

#[test]
fn connect_getprop_and_exit_codes() {
    let device = DeviceProcess::start(&[
        "--model",
        "Playrack Test Model",
        "--width",
        "1080",
        "--height",
        "1920",
        "--dpi",
        "480",
    ]);
    let adb = AdbServer::start();
    let s = device.serial();
    adb.connect(&s);

    let (out, _, code) = adb.shell(&s, "getprop ro.product.cpu.abi");
    assert_eq!((out.as_str(), code), ("arm64-v8a\n", 0));
    assert_eq!(adb.shell(&s, "getprop ro.build.version.sdk").0, "33\n");
    assert_eq!(adb.shell(&s, "getprop ro.build.version.release").0, "13\n");
    assert_eq!(
        adb.shell(&s, "getprop ro.product.model").0,
        "Playrack Test Model\n"
    );
    assert!(
        adb.shell(&s, "getprop")
            .0
            .contains("[ro.product.cpu.abilist]: [arm64-v8a,armeabi-v7a,armeabi]\n")
    );
    // `adb devices -l` shows the banner's identity.
    let l = String::from_utf8_lossy(&adb.adb(&["devices", "-l"]).stdout).into_owned();
    assert!(l.contains("model:Playrack_Test_Model"), "{l}");

    // Exit codes and separate stderr through shell v2.
    assert_eq!(adb.shell(&s, "false").2, 1);
    assert_eq!(adb.shell(&s, "true").2, 0);
    let (out, err, code) = adb.shell(&s, "frobnicate --now");
    assert_eq!(
        (out.as_str(), err.as_str(), code),
        ("", "/system/bin/sh: frobnicate: not found\n", 127)
    );
    let (out, err, code) = adb.shell(&s, "echo out; echo err >&2; exit 3");
    assert_eq!((out.as_str(), err.as_str(), code), ("out\n", "err\n", 3));
    assert_eq!(
        adb.shell(&s, "false || echo fallback && echo \"$?\"").0,
        "fallback\n0\n"
    );
    assert_eq!(
        adb.shell(&s, "id").0.split_whitespace().next(),
        Some("uid=2000(shell)")
    );

    // The display the device was started with.
    assert_eq!(adb.shell(&s, "wm size").0, "Physical size: 1080x1920\n");
    assert_eq!(adb.shell(&s, "wm density").0, "Physical density: 480\n");
    assert_eq!(
        adb.shell(&s, "wm size 720x1280 && wm size").0,
        "Physical size: 1080x1920\nOverride size: 720x1280\n"
    );

    // Files through the shell, with redirection.
    let (_, _, code) = adb.shell(
        &s,
        "mkdir -p /sdcard/a/b && echo hello > /sdcard/a/b/f && cat /storage/emulated/0/a/b/f",
    );
    assert_eq!(code, 0);
    assert_eq!(adb.shell(&s, "cat /sdcard/a/b/f").0, "hello\n");
    assert_eq!(
        adb.shell(&s, "stat -c '%s %F' /sdcard/a/b/f").0,
        "6 regular file\n"
    );
    assert_eq!(adb.shell(&s, "ls /sdcard/a/b").0, "f\n");
    assert_eq!(adb.shell(&s, "rm -r /sdcard/a && ls /sdcard/a").2, 1);
    assert_eq!(
        adb.shell(
            &s,
            "mkdir -p /sdcard/r/s && echo 1 > /sdcard/r/f && ls -R /sdcard/r"
        )
        .0,
        "/sdcard/r:\nf\ns\n\n/sdcard/r/s:\n"
    );
    // setprop / getprop, and ro.* being write-once.
    assert_eq!(
        adb.shell(
            &s,
            "setprop debug.playrack.x on && getprop debug.playrack.x"
        )
        .0,
        "on\n"
    );
    assert_eq!(adb.shell(&s, "setprop ro.product.model other").2, 1);
    assert_eq!(
        adb.shell(&s, "getprop no.such.prop fallback").0,
        "fallback\n"
    );
    // chown is recorded only; on a missing file it fails.
    assert_eq!(adb.shell(&s, "chown system:system /sdcard/r/f").2, 0);
    assert_eq!(adb.shell(&s, "chown system /sdcard/r/missing").2, 1);
    // Nothing outside the map.
    let (_, err, code) = adb.shell(&s, "cat /etc/passwd");
    assert_eq!(code, 1);
    assert!(err.contains("Permission denied"), "{err}");
    assert_eq!(adb.shell(&s, "echo x > /data/../../../tmp/escape").2, 1);
}

#[test]
fn boot_completes_after_the_configured_delay() {
    // Started the way the Docker driver starts redroid: the display from boot arguments.
    let device = DeviceProcess::start(&[
        "--boot-delay-ms",
        "3000",
        "androidboot.redroid_width=540",
        "androidboot.redroid_height=960",
        "androidboot.redroid_fps=30",
        "androidboot.redroid_dpi=240",
    ]);
    let adb = AdbServer::start();
    let s = device.serial();
    adb.connect(&s);
    // adb is up before Android has booted, as on a real device.
    let early = adb.shell(&s, "getprop sys.boot_completed").0;
    assert!(
        wait_for(TIMEOUT, || adb.shell(&s, "getprop sys.boot_completed").0
            == "1\n"),
        "never booted"
    );
    assert_eq!(early, "\n", "boot completed before the delay");
    assert_eq!(adb.shell(&s, "wm size").0, "Physical size: 540x960\n");
    assert_eq!(adb.shell(&s, "getprop ro.sf.lcd_density").0, "240\n");

    // `adb reboot`: the connection drops, adb re-connects by itself (its CNXN then carries a
    // zero checksum), and Android boots again. Files survive.
    assert_eq!(adb.shell(&s, "echo kept > /data/local/tmp/f").2, 0);
    assert!(adb.adb_s(&s, &["reboot"]).status.success());
    assert!(
        wait_for(TIMEOUT, || adb.state(&s).as_deref() == Some("device")),
        "no re-connect after reboot"
    );
    let (boot, _, code) = adb.shell(&s, "getprop sys.boot_completed");
    assert_eq!(
        (boot.as_str(), code),
        ("\n", 0),
        "boot_completed right after the reboot"
    );
    assert!(wait_for(TIMEOUT, || adb
        .shell(&s, "getprop sys.boot_completed")
        .0
        == "1\n"));
    assert_eq!(adb.shell(&s, "cat /data/local/tmp/f").0, "kept\n");
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

#[test]
fn push_and_pull_50_mb_with_identical_sha256() {
    let device = DeviceProcess::start(&[]);
    let adb = AdbServer::start();
    let s = device.serial();
    adb.connect(&s);
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("big.bin");
    // 50 MB of non-repeating bytes (a simple LCG; no two 64 KiB chunks alike).
    let mut data = Vec::with_capacity(50_000_000);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while data.len() < 50_000_000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        data.extend_from_slice(&x.to_le_bytes());
    }
    data.truncate(50_000_000);
    std::fs::write(&src, &data).unwrap();

    let o = adb.adb_s(
        &s,
        &["push", src.to_str().unwrap(), "/data/local/tmp/big.bin"],
    );
    assert!(
        o.status.success(),
        "push: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        adb.shell(&s, "stat -c %s /data/local/tmp/big.bin").0,
        "50000000\n"
    );
    let dst = tmp.path().join("back.bin");
    let o = adb.adb_s(
        &s,
        &["pull", "/data/local/tmp/big.bin", dst.to_str().unwrap()],
    );
    assert!(
        o.status.success(),
        "pull: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(sha256(&std::fs::read(&dst).unwrap()), sha256(&data));
    // The bytes really are inside the device's data directory.
    let on_disk = device.data_dir.join("fs/data/local/tmp/big.bin");
    assert_eq!(std::fs::metadata(on_disk).unwrap().len(), 50_000_000);
}

#[test]
fn oversized_push_fails_with_a_message_and_the_device_keeps_serving() {
    let device = DeviceProcess::start(&["--storage-quota-mb", "1"]);
    let adb = AdbServer::start();
    let s = device.serial();
    adb.connect(&s);
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("two-mb.bin");
    std::fs::write(&src, vec![7u8; 2 << 20]).unwrap();
    let o = adb.adb_s(&s, &["push", src.to_str().unwrap(), "/sdcard/two-mb.bin"]);
    // adb 29 prints sync errors on stdout when it is not a terminal.
    let err = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!o.status.success());
    assert!(err.contains("No space left on device"), "{err}");
    // The partial file is gone, and the device still works.
    assert_eq!(adb.shell(&s, "ls /sdcard/two-mb.bin").2, 1);
    assert_eq!(adb.shell(&s, "echo still here").0, "still here\n");
    // A small push still fits.
    std::fs::write(&src, b"small").unwrap();
    let o = adb.adb_s(&s, &["push", src.to_str().unwrap(), "/sdcard/small.bin"]);
    assert!(
        o.status.success(),
        "small push: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn stdin_flows_through_shell_v2_and_scripts_run_without_prompts() {
    use std::io::Write;
    use std::process::Stdio;
    let device = DeviceProcess::start(&[]);
    let adb = AdbServer::start();
    let s = device.serial();
    adb.connect(&s);
    let run = |args: &[&str], input: Vec<u8>| {
        let mut child = adb
            .command()
            .args(["-s", &s])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        out
    };
    // 3 MB through stdin (many shell v2 stdin packets, each acknowledged) into a file.
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let o = run(&["shell", "cat > /data/local/tmp/in.bin"], data.clone());
    assert!(o.status.success());
    let o = adb.adb_s(&s, &["exec-out", "cat /data/local/tmp/in.bin"]);
    assert_eq!(sha256(&o.stdout), sha256(&data));
    // Both directions at once: input that the command echoes while more input arrives
    // (a stall here would be a flow-control deadlock).
    let o = run(&["shell", "cat"], data.clone());
    assert_eq!(sha256(&o.stdout), sha256(&data));
    // `exec-in`: raw stream, the host closing it is the end of input; the command finishes.
    let o = run(
        &["exec-in", "cat > /data/local/tmp/exec-in.bin"],
        data.clone(),
    );
    assert!(o.status.success());
    assert!(wait_for(TIMEOUT, || adb
        .shell(&s, "stat -c %s /data/local/tmp/exec-in.bin")
        .0
        == "3000000\n"));
    // `adb shell` with no command and a script on stdin: no prompts on a non-terminal.
    let o = run(
        &["shell"],
        b"getprop ro.build.version.sdk\ncd /sdcard\npwd\n".to_vec(),
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), "33\n/sdcard\n");
}

#[test]
fn push_and_pull_directories_and_adb_ls() {
    let device = DeviceProcess::start(&[]);
    let adb = AdbServer::start();
    let s = device.serial();
    adb.connect(&s);
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("tree");
    std::fs::create_dir_all(src.join("sub/deeper")).unwrap();
    std::fs::write(src.join("a.txt"), b"a").unwrap();
    std::fs::write(src.join("sub/b.txt"), b"bb").unwrap();
    std::fs::write(src.join("sub/deeper/c.txt"), b"ccc").unwrap();
    let o = adb.adb_s(&s, &["push", src.to_str().unwrap(), "/sdcard/"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(adb.shell(&s, "cat /sdcard/tree/sub/deeper/c.txt").0, "ccc");
    let ls = String::from_utf8_lossy(&adb.adb_s(&s, &["ls", "/sdcard/tree"]).stdout).into_owned();
    let names: Vec<&str> = ls
        .lines()
        .filter_map(|l| l.split_whitespace().nth(3))
        .collect();
    assert_eq!(names, [".", "..", "a.txt", "sub"], "{ls}");
    let back = tmp.path().join("back");
    let o = adb.adb_s(&s, &["pull", "/sdcard/tree", back.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(std::fs::read(back.join("a.txt")).unwrap(), b"a");
    assert_eq!(std::fs::read(back.join("sub/b.txt")).unwrap(), b"bb");
    assert_eq!(
        std::fs::read(back.join("sub/deeper/c.txt")).unwrap(),
        b"ccc"
    );
}
