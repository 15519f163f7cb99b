//! Instances for real: with the process driver, virtual devices boot, the warm pool fills and
//! refills, and busy instances are reset on adoption; and a whole play is prepared end to end —
//! the APK synced into the cache and `adb install`ed (real `adb`), the player's archive
//! restored, the scrcpy server started through `app_process` on a process-driver instance (the
//! real `virtual-device` binary), its forwarded video socket read for ≥ 30 H.264 frames (one
//! decoded with openh264) and its audio socket for Opus packets.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use node_agent::adb::Adb;
use node_agent::packages::{PackageCache, default_source};
use node_agent::play::{self, Injector, PlayRequest};
use node_agent::pool::Pool;
use node_agent::runtime::process::ProcessDriver;
use node_agent::runtime::{InstanceSpec, Runtime, adbd_answers};
use openh264::decoder::Decoder;
use openh264::formats::YUVSource;
use playrack_scrcpy::StreamEvent;
use playrack_scrcpy::stream::{CODEC_ID_H264, CODEC_ID_OPUS, PacketMerger};
use playrack_wire::agent::InstanceState;
use sha2::{Digest, Sha256};
use support::{virtual_device, wait_until};

const BOOT: Duration = Duration::from_secs(60);

fn spec(id: &str, w: u32, h: u32, fps: u32) -> InstanceSpec {
    InstanceSpec::parse(&format!("{id}={w}x{h}@{fps}")).unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_boots_warm_virtual_devices_refills_and_resets_on_adoption() {
    let dir = tempfile::tempdir().unwrap();
    let driver = Arc::new(ProcessDriver::new(
        virtual_device(),
        dir.path().join("instances"),
    ));
    let sd = spec("sd-30", 360, 640, 30);
    let specs = BTreeMap::from([(sd.id.clone(), sd.clone())]);
    let targets = BTreeMap::from([(sd.id.clone(), 2)]);
    let capacity = BTreeMap::from([(sd.id.clone(), 3)]);
    let pool = Pool::new(
        driver.clone(),
        specs.clone(),
        targets.clone(),
        capacity.clone(),
        dir.path().into(),
    );
    let runner = tokio::spawn(pool.clone().run());
    assert!(
        wait_until(BOOT, async || pool.warm("sd-30") == 2).await,
        "pool never warmed: {:?}",
        pool.slots()
    );
    for s in pool.slots() {
        let inst = s.instance.unwrap();
        assert!(adbd_answers(inst.adb_addr).await, "{inst:?} answers adb");
        assert_eq!(inst.spec_id, "sd-30");
    }

    // A play takes one; the pool boots a replacement (capacity 3 allows it).
    let taken = pool.take(&sd, "ses_1", None).await.unwrap().0;
    assert!(
        wait_until(BOOT, async || pool.warm("sd-30") == 2).await,
        "pool never refilled: {:?}",
        pool.slots()
    );
    assert_eq!(pool.slots().len(), 3);
    // At capacity, a play with no warm instance left is refused rather than overbooking.
    let t2 = pool.take(&sd, "ses_2", None).await.unwrap().0;
    let t3 = pool.take(&sd, "ses_3", None).await.unwrap().0;
    assert!(pool.take(&sd, "ses_4", None).await.is_err());
    assert!(
        pool.reports()
            .iter()
            .all(|r| r.state == InstanceState::Preparing)
    );
    // Ending plays resets (removes) their instances and the pool warms fresh ones.
    pool.release(&t2.id).await.unwrap();
    pool.release(&t3.id).await.unwrap();
    assert!(
        !adbd_answers(t2.adb_addr).await,
        "a released instance is gone"
    );
    assert!(
        wait_until(BOOT, async || pool.warm("sd-30") == 2).await,
        "pool never refilled after release: {:?}",
        pool.slots()
    );
    runner.abort();

    // An agent restart over the same driver: the instance left in a play is reset, the warm
    // ones are adopted as warm.
    let pool2 = Pool::new(driver.clone(), specs, targets, capacity, dir.path().into());
    pool2.adopt().await.unwrap();
    let slots = pool2.slots();
    assert_eq!(slots.len(), 2, "{slots:?}");
    assert!(slots.iter().all(|s| s.state == InstanceState::Warm));
    assert!(slots.iter().all(|s| s.id != taken.id));
    assert!(
        !adbd_answers(taken.adb_addr).await,
        "the busy one was reset"
    );
    pool2.shutdown().await;
    assert!(driver.list().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_play_is_prepared_end_to_end_on_a_virtual_device() {
    let dir = tempfile::tempdir().unwrap();
    // A process-driver instance: the real `virtual-device` binary (scrcpy server included).
    let driver = ProcessDriver::new(virtual_device(), dir.path().join("instances"));
    let instance = driver
        .create("play-1", &spec("sd-30", 360, 640, 30))
        .await
        .unwrap();
    let adb = Adb::start("adb".into(), free_port(), dir.path().join("adb-home"))
        .await
        .unwrap();
    let _adb_guard = support::AdbGuard(adb.clone());

    // The package comes through the cache from the shared volume.
    let apk_bytes = playrack_test_support::fixtures::apk_bytes("tapper-v1");
    let info = playrack_apk::inspect_bytes(&apk_bytes, &playrack_apk::Limits::default()).unwrap();
    let sha = hex::encode(Sha256::digest(&apk_bytes));
    let volume = dir.path().join("volume");
    let src = volume.join(default_source(&sha));
    std::fs::create_dir_all(src.parent().unwrap()).unwrap();
    std::fs::write(&src, &apk_bytes).unwrap();
    let cache = PackageCache::open(
        dir.path().join("cache"),
        1 << 30,
        volume.to_string_lossy().into_owned(),
    )
    .unwrap();
    let apk = cache
        .sync(&sha, apk_bytes.len() as u64, "", |_| {})
        .await
        .unwrap();

    // The player's archive: a save file, fetched by URL and checked by hash.
    // Members are named from the root, as the agent saves them.
    let save = dir.path().join("save");
    let prefs = save.join(format!("data/data/{}/shared_prefs", info.package));
    std::fs::create_dir_all(&prefs).unwrap();
    std::fs::write(
        prefs.join("save.xml"),
        "<map><int name=\"taps\" value=\"7\"/></map>",
    )
    .unwrap();
    let tarball = dir.path().join("archive.tar.gz");
    let st = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&tarball)
        .arg("-C")
        .arg(&save)
        .arg("data")
        .status()
        .unwrap();
    assert!(st.success());
    let tar_sha = hex::encode(Sha256::digest(std::fs::read(&tarball).unwrap()));
    let fetched = dir.path().join("fetched.tar.gz");
    let http = reqwest::Client::new();
    let url = format!("file://{}", tarball.display());
    assert!(
        node_agent::archive::fetch(&http, &url, None, &"0".repeat(64), &fetched)
            .await
            .is_err(),
        "a wrong hash is refused"
    );
    assert!(!fetched.exists());
    node_agent::archive::fetch(&http, &url, None, &tar_sha, &fetched)
        .await
        .unwrap();

    let jar = dir.path().join("scrcpy-server.jar");
    std::fs::write(&jar, b"PK\x03\x04 the injector").unwrap();
    let req = PlayRequest {
        session_id: "ses_1".into(),
        package_name: info.package.clone(),
        launch_activity: info.launchable_activity.clone(),
        apk,
        archive: Some(fetched),
        width: 360,
        height: 640,
        fps: 30,
        bitrate_bps: 2_000_000,
        audio: true,
        scid: 0x0bad_cafe,
        encoder: node_agent::play::EncoderChoice::Pick { deny: vec![] },
        primed: false,
        slices: 0,
    };
    let injector = Injector {
        jar,
        version: "4.1".into(),
    };
    let mut p = tokio::time::timeout(
        Duration::from_secs(120),
        play::prepare(&adb, &instance, &injector, &req),
    )
    .await
    .expect("prepare in time")
    .unwrap();
    assert_eq!(p.video_codec, CODEC_ID_H264);
    assert_eq!(
        p.video_encoder.as_deref(),
        Some(playrack_scrcpy::encoders::HW_AVC),
        "the instance's hardware encoder is chosen from its list"
    );
    assert_eq!((p.width, p.height), (360, 640));
    assert!(p.device_name.is_some());
    assert!(p.control.is_some());
    assert_eq!(p.audio_codec, Some(CODEC_ID_OPUS));
    assert!(p.audio.is_some());

    // The APK is installed and the archive restored.
    let serial = instance.serial();
    let o = adb.shell(&serial, "pm list packages").await.unwrap();
    assert!(
        o.stdout
            .lines()
            .any(|l| l.trim() == format!("package:{}", info.package)),
        "{}",
        o.stdout
    );
    let o = adb
        .shell(
            &serial,
            &format!("cat /data/data/{}/shared_prefs/save.xml", info.package),
        )
        .await
        .unwrap();
    assert!(o.stdout.contains("value=\"7\""), "{o:?}");

    // ≥ 30 H.264 frames from the forwarded video socket; one decodes to a 360×640 picture.
    let mut frames = 0;
    let mut decoded = 0;
    let mut decoder = Decoder::new().unwrap();
    let mut merger = PacketMerger::new();
    while frames < 30 {
        let ev = tokio::time::timeout(Duration::from_secs(20), p.video.as_mut().unwrap().next())
            .await
            .expect("a packet in time")
            .unwrap()
            .expect("video open");
        match ev {
            StreamEvent::Config(c) => merger.config(c),
            StreamEvent::Frame { data, .. } => {
                frames += 1;
                if let Some(yuv) = decoder.decode(&merger.merge(data)).unwrap() {
                    assert_eq!(yuv.dimensions(), (360, 640));
                    decoded += 1;
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(decoded > 0, "no frame decoded");

    // Audio packets (Opus) arrive on the audio socket too, in order after its codec id.
    let audio = p.audio.as_mut().unwrap();
    let mut audio_frames = 0;
    while audio_frames < 5 {
        let ev = tokio::time::timeout(Duration::from_secs(20), audio.next())
            .await
            .expect("an audio packet in time")
            .unwrap()
            .expect("audio open");
        match ev {
            StreamEvent::Config(_) => {}
            StreamEvent::Frame { data, .. } => {
                assert!(!data.is_empty());
                audio_frames += 1;
            }
            other => panic!("unexpected audio event {other:?}"),
        }
    }

    let port = p.forward_port;
    play::stop(&adb, p).await;
    let o = adb.run(&["forward", "--list"]).await.unwrap();
    assert!(!o.stdout.contains(&format!("tcp:{port}")), "{}", o.stdout);
    adb.kill_server().await;
    driver.remove("play-1").await.unwrap();
}

/// An instance's `/data` has the quota its spec gives: a write beyond it fails inside the
/// instance ("No space left on device", as Android says it) and leaves nothing on the board's
/// disk; writes within it work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_data_partition_is_held_to_its_quota() {
    let dir = tempfile::tempdir().unwrap();
    let driver = ProcessDriver::new(virtual_device(), dir.path().join("instances"));
    let small = InstanceSpec::parse("tiny=360x640@30:320/0/0/8").unwrap();
    let instance = driver.create("quota-1", &small).await.unwrap();
    let adb = Adb::start("adb".into(), free_port(), dir.path().join("adb-home"))
        .await
        .unwrap();
    let _adb_guard = support::AdbGuard(adb.clone());
    let serial = instance.serial();
    adb.connect(&serial, BOOT).await.unwrap();
    let big = dir.path().join("big.bin");
    std::fs::write(&big, vec![7u8; 12 << 20]).unwrap();
    let push = adb
        .run_s(
            &serial,
            &["push", big.to_str().unwrap(), "/data/local/tmp/big.bin"],
        )
        .await
        .unwrap();
    assert!(!push.ok(), "a 12-MiB push into an 8-MiB /data succeeded");
    assert!(
        format!("{}{}", push.stdout, push.stderr).contains("No space left on device"),
        "{push:?}"
    );
    let listed = adb.shell(&serial, "ls /data/local/tmp").await.unwrap();
    assert!(!listed.stdout.contains("big.bin"), "{listed:?}");
    let fill = adb
        .shell(
            &serial,
            "echo within the quota > /data/local/tmp/small.txt && cat /data/local/tmp/small.txt",
        )
        .await
        .unwrap();
    assert_eq!(fill.stdout, "within the quota\n");
    driver.remove("quota-1").await.unwrap();
}
