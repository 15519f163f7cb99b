//! `adb forward tcp:N localabstract:NAME` reaching a socket registered in the device, the
//! hooks that `monkey`/`am`/`input` call, and a command registered from outside the shell
//! module (the way the scrcpy side adds `app_process`). Uses an in-process device so the test
//! can use its Rust API.

mod adb_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

use adb_support::{AdbServer, InProcessDevice, TIMEOUT, wait_for};
use android_injector::device::shell::Context;
use android_injector::device::{AuthConfig, Device, DeviceHooks, InputEvent, InstalledPackage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn forward(adb: &AdbServer, serial: &str, name: &str) -> u16 {
    let o = adb.adb_s(
        serial,
        &["forward", "tcp:0", &format!("localabstract:{name}")],
    );
    assert!(
        o.status.success(),
        "forward: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .expect("adb prints the chosen port")
}

#[test]
fn forward_reaches_an_abstract_socket_and_refuses_when_nobody_listens() {
    let dev = InProcessDevice::start(AuthConfig::AcceptAny);
    let adb = AdbServer::start();
    let s = dev.serial();
    adb.connect(&s);

    // A server in the device: sends a dummy byte first (as scrcpy's forward tunnel does),
    // then echoes, upper-cased.
    let mut listener = dev.device.sockets().listen("test_sock").unwrap();
    dev.runtime.spawn(async move {
        while let Ok(mut conn) = listener.accept().await {
            tokio::spawn(async move {
                conn.write_all(&[0]).await.unwrap();
                let mut buf = [0u8; 1024];
                while let Ok(n) = conn.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    let up: Vec<u8> = buf[..n].to_ascii_uppercase();
                    conn.write_all(&up).await.unwrap();
                }
            });
        }
    });

    let port = forward(&adb, &s, "test_sock");
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut b = [9u8; 1];
    sock.read_exact(&mut b).unwrap();
    assert_eq!(b, [0]);
    sock.write_all(b"ping").unwrap();
    let mut reply = [0u8; 4];
    sock.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"PING");
    // A large transfer in both directions crosses many WRTE/OKAY round trips.
    let big: Vec<u8> = (0..1_000_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut w = sock.try_clone().unwrap();
    let big2 = big.clone();
    let writer = std::thread::spawn(move || w.write_all(&big2).unwrap());
    let mut back = vec![0u8; big.len()];
    sock.read_exact(&mut back).unwrap();
    writer.join().unwrap();
    assert_eq!(back, big.to_ascii_uppercase());
    drop(sock);

    // A quiet reader: takes 4 MB without writing anything until the end. The device must
    // keep pulling host data as the socket drains (no output arrives to wake it).
    let mut quiet = dev.device.sockets().listen("quiet_sock").unwrap();
    dev.runtime.spawn(async move {
        let mut conn = quiet.accept().await.unwrap();
        let mut total = 0usize;
        let mut buf = [0u8; 4096];
        while total < 4_000_000 {
            let n = conn.read(&mut buf).await.unwrap();
            assert!(n > 0);
            total += n;
        }
        conn.write_all(b"done").await.unwrap();
    });
    let port = forward(&adb, &s, "quiet_sock");
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(TIMEOUT)).unwrap();
    sock.write_all(&vec![7u8; 4_000_000]).unwrap();
    let mut done = [0u8; 4];
    sock.read_exact(&mut done).unwrap();
    assert_eq!(&done, b"done");
    drop(sock);

    // Nobody listens on this name: adbd closes the stream, so the forwarded connection ends.
    let port = forward(&adb, &s, "nobody_here");
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(
        sock.read(&mut buf).unwrap_or(0),
        0,
        "expected the connection to be closed"
    );
    // The device is unaffected.
    assert_eq!(adb.shell(&s, "echo ok").0, "ok\n");
}

#[test]
fn forward_to_a_device_tcp_port() {
    let dev = InProcessDevice::start(AuthConfig::AcceptAny);
    let adb = AdbServer::start();
    let s = dev.serial();
    adb.connect(&s);
    // A TCP service "on the device" (its loopback is this machine's).
    let service = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let service_port = service.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut c, _) = service.accept().unwrap();
        let mut buf = [0u8; 5];
        c.read_exact(&mut buf).unwrap();
        c.write_all(&buf.to_ascii_uppercase()).unwrap();
    });
    let o = adb.adb_s(&s, &["forward", "tcp:0", &format!("tcp:{service_port}")]);
    let port: u16 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(TIMEOUT)).unwrap();
    sock.write_all(b"hello").unwrap();
    let mut reply = [0u8; 5];
    sock.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"HELLO");
    server.join().unwrap();
}

#[derive(Default)]
struct Recorder {
    started: Mutex<Vec<(String, String)>>,
    stopped: Mutex<Vec<String>>,
    input: Mutex<Vec<InputEvent>>,
}

impl DeviceHooks for Recorder {
    fn app_started(&self, _d: &Device, app: &InstalledPackage, activity: &str) {
        self.started
            .lock()
            .unwrap()
            .push((app.package.clone(), activity.to_string()));
    }
    fn app_stopped(&self, _d: &Device, package: &str) {
        self.stopped.lock().unwrap().push(package.to_string());
    }
    fn input(&self, _d: &Device, event: &InputEvent) {
        self.input.lock().unwrap().push(event.clone());
    }
}

#[test]
fn hooks_see_launches_and_input_and_registered_commands_run() {
    let dev = InProcessDevice::start(AuthConfig::Disabled);
    let hooks = Arc::new(Recorder::default());
    dev.device.set_hooks(hooks.clone());
    // What the scrcpy side does for app_process: a command seeing env and arguments.
    dev.device
        .register_command("app_process", |mut ctx: Context| async move {
            let cp = ctx.env.get("CLASSPATH").cloned().unwrap_or_default();
            let line = format!("classpath={cp} args={}\n", ctx.args().join(","));
            ctx.out(line).await;
            if ctx.args().get(2).map(String::as_str) == Some("9.9") {
                1
            } else {
                0
            }
        });
    let adb = AdbServer::start();
    let s = dev.serial();
    adb.connect(&s);

    let apk = playrack_test_support::fixtures::apk("tapper-v1");
    assert!(
        adb.adb_s(&s, &["install", apk.to_str().unwrap()])
            .status
            .success()
    );
    let app = dev
        .device
        .packages
        .list()
        .into_iter()
        .next()
        .expect("installed");
    let activity = app.launchable_activity.clone().unwrap();
    assert_eq!(
        adb.shell(
            &s,
            &format!(
                "monkey -p {} -c android.intent.category.LAUNCHER 1",
                app.package
            )
        )
        .2,
        0
    );
    assert_eq!(
        hooks.started.lock().unwrap().clone(),
        vec![(app.package.clone(), activity.clone())]
    );
    assert_eq!(
        dev.device.foreground(),
        Some((app.package.clone(), activity.clone()))
    );

    assert_eq!(adb.shell(&s, "input tap 100 200 && input swipe 1 2 3 4 50 && input keyevent KEYCODE_F12 && input text hi%sthere").2, 0);
    assert_eq!(
        hooks.input.lock().unwrap().clone(),
        vec![
            InputEvent::Tap { x: 100.0, y: 200.0 },
            InputEvent::Swipe {
                x1: 1.0,
                y1: 2.0,
                x2: 3.0,
                y2: 4.0,
                duration_ms: 50
            },
            InputEvent::Key {
                code: 142,
                longpress: false
            },
            InputEvent::Text("hi there".into()),
        ]
    );
    assert_eq!(adb.shell(&s, "input tap x y").2, 1);

    assert_eq!(
        adb.shell(&s, &format!("am force-stop {}", app.package)).2,
        0
    );
    assert!(wait_for(TIMEOUT, || hooks
        .stopped
        .lock()
        .unwrap()
        .contains(&app.package)));
    assert_eq!(dev.device.foreground(), None);

    let (out, _, code) = adb.shell(&s, "CLASSPATH=/data/local/tmp/scrcpy-server.jar app_process / com.genymobile.scrcpy.Server 4.1 scid=0000002a log_level=info");
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "classpath=/data/local/tmp/scrcpy-server.jar args=/,com.genymobile.scrcpy.Server,4.1,scid=0000002a,log_level=info\n"
    );
    assert_eq!(
        adb.shell(&s, "app_process / com.genymobile.scrcpy.Server 9.9")
            .2,
        1
    );
    // exec: is raw (no shell protocol) but runs the same shell.
    let o = adb.adb_s(&s, &["exec-out", "echo raw"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "raw\n");
}

#[test]
fn reverse_connects_a_device_socket_to_a_host_port() {
    let dev = InProcessDevice::start(AuthConfig::AcceptAny);
    let adb = AdbServer::start();
    let s = dev.serial();
    adb.connect(&s);
    // The host side: what scrcpy's client listens on in reverse-tunnel mode.
    let host = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host_port = host.local_addr().unwrap().port();
    let o = adb.adb_s(
        &s,
        &[
            "reverse",
            "localabstract:rev_sock",
            &format!("tcp:{host_port}"),
        ],
    );
    assert!(
        o.status.success(),
        "reverse: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let list = String::from_utf8_lossy(&adb.adb_s(&s, &["reverse", "--list"]).stdout).into_owned();
    assert!(
        list.contains(&format!("localabstract:rev_sock tcp:{host_port}")),
        "{list}"
    );
    let o = adb.adb_s(
        &s,
        &["reverse", "--no-rebind", "localabstract:rev_sock", "tcp:1"],
    );
    assert!(
        !o.status.success(),
        "no-rebind must refuse an existing name"
    );

    // The device side: a client connects to the abstract name (as the scrcpy server does).
    let sockets = dev.device.sockets().clone();
    let device_side = dev.runtime.spawn(async move {
        let mut c = sockets.connect("rev_sock").unwrap();
        c.write_all(b"from device").await.unwrap();
        let mut reply = [0u8; 9];
        c.read_exact(&mut reply).await.unwrap();
        reply
    });
    let (mut conn, _) = host.accept().unwrap();
    conn.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut got = [0u8; 11];
    conn.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"from device");
    conn.write_all(b"from host").unwrap();
    assert_eq!(&dev.runtime.block_on(device_side).unwrap(), b"from host");

    // Removing the rule stops the device-side listener.
    assert!(adb.adb_s(&s, &["reverse", "--remove-all"]).status.success());
    assert!(wait_for(TIMEOUT, || !dev
        .device
        .sockets()
        .is_listening("rev_sock")));
    // A rule is per connection: it also goes when the host disconnects.
    assert!(
        adb.adb_s(&s, &["reverse", "localabstract:rev2", "tcp:1"])
            .status
            .success()
    );
    assert!(dev.device.sockets().is_listening("rev2"));
    adb.adb(&["disconnect", &s]);
    assert!(wait_for(TIMEOUT, || !dev
        .device
        .sockets()
        .is_listening("rev2")));
}
