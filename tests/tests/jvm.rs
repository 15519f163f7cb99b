//! The Android SDK's Java side through Maven (`sdk-android/pom.xml`): the Android glue
//! (`sdk-android/android`) compiles against Robolectric's `android-all` (the framework's real
//! classes), and on a host JVM JUnit 5 (`sdk-android/java`) loads
//! libplayrack (sdk-android's `cdylib`, with its test hooks: an openh264 decoder that reads the
//! test game's tap counter) and, against a [`DemoStack`] started here (one board, one slot),
//! plays the demo link, decodes ≥ 60 access units, taps and sees the counter move, leaves; a
//! second player waits in line and plays once the first leaves; 20 play/leave cycles leave no
//! JNI global reference behind and grow RSS by less than 64 MB; a revoked link reaches the
//! listener as `LINK_REVOKED`; bad input is a Java exception; a listener may close its own
//! client; text and a key-frame request reach the play.
//!
//! Needs Java 17+ and Maven (`mvn`), which fetches JUnit and android-all from Maven Central the
//! first time.

use std::path::PathBuf;
use std::process::Command;

use playrack_tests::demo::{DemoOptions, DemoStack, sibling_binary, workspace};

/// libplayrack with its test hooks, built into the debug output directory; that directory.
fn libplayrack() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "-p",
            "sdk-android",
            "--features",
            "test-hooks",
            "--lib",
        ])
        .current_dir(workspace())
        .status()
        .expect("run cargo");
    assert!(status.success(), "building libplayrack");
    let dir = sibling_binary("virtual-device")
        .parent()
        .expect("the output directory")
        .to_owned();
    assert!(
        dir.join("libplayrack.so").exists(),
        "libplayrack.so in {}",
        dir.display()
    );
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_java_facade_plays_on_a_host_jvm() {
    let lib = libplayrack();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut options = DemoOptions::new(dir.path().join("demo"));
    options.virtual_device = playrack_test_support::bins::virtual_device(false);
    options.apk = playrack_test_support::fixtures::apk("tapper-v1");
    options.boards = 1;
    options.slots = 1;
    let mut stack = DemoStack::start(options)
        .await
        .expect("the demo stack starts");
    let revoked = stack.link_with_trial(60).await.expect("a second link");
    let _: serde_json::Value = stack
        .api
        .post(
            &format!("/v1/links/{}/revoke", revoked.id),
            &stack.tenant_token,
            &serde_json::json!({}),
        )
        .await
        .expect("the link is revoked");
    let out = tokio::process::Command::new("mvn")
        .args(["-q", "-B", "test"])
        .arg(format!("-Dplayrack.lib.dir={}", lib.display()))
        .current_dir(workspace().join("sdk-android"))
        .env("PLAYRACK_API_BASE", &stack.controller_url)
        .env("PLAYRACK_LINK_CODE", &stack.link.code)
        .env("PLAYRACK_REVOKED_CODE", &revoked.code)
        .output()
        .await
        .expect("mvn runs (Java 17+ and Maven installed)");
    stack.stop().await;
    assert!(
        out.status.success(),
        "the JUnit suite failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
