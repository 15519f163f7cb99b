//! Play recordings end to end: a real controller, the real agent with a virtual device and a
//! native WebRTC player. The tenant starts a recording of a live play, stops it, and downloads
//! an MP4 that Debian's `ffprobe` reads whole with exactly the frames the board counted; a
//! second recording is closed by the play's end; a recording past its retention is deleted,
//! row and file.

mod support;

#[allow(unused_imports)]
use playrack_test_support as ctl;
#[path = "support/peer.rs"]
mod peer;
#[path = "support/stack.rs"]
mod stack;

use std::time::Duration;

use peer::Peer;
use playrack_wire::api::*;
use playrack_wire::signaling::PeerRole;
use reqwest::{Method, StatusCode};
use stack::{Options, Stack, stack};
use support::wait_until;

async fn ready(st: &Stack, id: &str) -> Recording {
    let mut last = None;
    assert!(
        wait_until(Duration::from_secs(60), async || {
            let r: Recording = st
                .ctl
                .get(&format!("/v1/recordings/{id}"), &st.tenant_token)
                .await;
            let done = r.state != RecordingState::Recording;
            last = Some(r);
            done
        })
        .await,
        "the recording was delivered: {last:?}"
    );
    let r = last.unwrap();
    assert_eq!(r.state, RecordingState::Ready, "{r:?}");
    r
}

fn probe(file: &std::path::Path) -> serde_json::Value {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-of",
            "json",
            "-count_frames",
            "-select_streams",
            "v:0",
        ])
        .args([
            "-show_entries",
            "stream=codec_name,width,height,nb_frames,nb_read_frames",
        ])
        .arg(file)
        .output()
        .expect("ffprobe is installed (scripts/install-deps.sh: Debian's ffmpeg)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_records_a_play_and_downloads_an_mp4_of_its_frames() {
    let st = stack(Options::default()).await;
    let sid = st.acquire(1).await;
    let info = st.connect_info(&sid).await;
    let mut p = Peer::connect(&info.signaling_url, &info.token, PeerRole::Player)
        .await
        .expect("admitted");
    assert!(
        p.run_until(Duration::from_secs(60), |p| p.decoded >= 10)
            .await,
        "the play streams"
    );

    // Start, let about two seconds of frames go by, stop.
    let rec: Recording = st
        .ctl
        .ok::<(), _>(
            Method::POST,
            &format!("/v1/sessions/{sid}/recordings"),
            &st.tenant_token,
            None,
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(rec.state, RecordingState::Recording);
    let from = p.decoded;
    assert!(
        p.run_until(Duration::from_secs(30), |p| p.decoded >= from + 60)
            .await,
        "frames go on while recording"
    );
    let _: Recording = st
        .ctl
        .ok::<(), _>(
            Method::POST,
            &format!("/v1/recordings/{}/stop", rec.id),
            &st.tenant_token,
            None,
            StatusCode::ACCEPTED,
        )
        .await;
    let done = ready(&st, &rec.id).await;
    assert!(done.frames >= 30, "{done:?}");
    assert!(done.duration_ms >= 1000, "{done:?}");

    // The download: an MP4 that ffprobe decodes whole, frame for frame.
    let resp = st
        .ctl
        .http
        .get(format!("{}/v1/recordings/{}/file", st.ctl.url, rec.id))
        .bearer_auth(&st.tenant_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "video/mp4");
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, done.size_bytes);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("play.mp4");
    std::fs::write(&file, &bytes).unwrap();
    let info = probe(&file);
    let s = &info["streams"][0];
    assert_eq!(s["codec_name"], "h264", "{info}");
    assert_eq!(
        (s["width"].as_u64(), s["height"].as_u64()),
        (Some(360), Some(640))
    );
    assert_eq!(
        s["nb_read_frames"].as_str(),
        Some(done.frames.to_string().as_str()),
        "{info}"
    );
    // Stopped means stopped: it is not running any more.
    let (again, _) = st
        .ctl
        .raw::<()>(
            Method::POST,
            &format!("/v1/recordings/{}/stop", rec.id),
            Some(&st.tenant_token),
            None,
        )
        .await;
    assert_eq!(again, StatusCode::CONFLICT);

    // A recording still running when the play ends is closed and delivered by the end.
    let second: Recording = st
        .ctl
        .ok::<(), _>(
            Method::POST,
            &format!("/v1/sessions/{sid}/recordings"),
            &st.tenant_token,
            None,
            StatusCode::CREATED,
        )
        .await;
    let from = p.decoded;
    assert!(
        p.run_until(Duration::from_secs(30), |p| p.decoded >= from + 30)
            .await
    );
    st.leave(&sid).await;
    let second = ready(&st, &second.id).await;
    assert!(second.frames > 0, "{second:?}");
    let listed: Page<Recording> = st
        .ctl
        .get(
            &format!("/v1/recordings?session_id={sid}"),
            &st.tenant_token,
        )
        .await;
    assert_eq!(listed.items.len(), 2);
    // A play that is over cannot be recorded.
    let (late, _) = st
        .ctl
        .raw::<()>(
            Method::POST,
            &format!("/v1/sessions/{sid}/recordings"),
            Some(&st.tenant_token),
            None,
        )
        .await;
    assert_eq!(late, StatusCode::CONFLICT);

    // Past its retention a recording goes, row and file.
    let stored = st
        .ctl
        .store_root()
        .join("recordings")
        .join(format!("{}.mp4", rec.id));
    assert!(stored.exists());
    let far = array_controller::now().millis() + 30 * 24 * 3600 * 1000;
    let gone = array_controller::recordings::sweep(st.ctl.state(), far)
        .await
        .unwrap();
    assert_eq!(gone, 2);
    assert!(!stored.exists());
    let (missing, _) = st
        .ctl
        .raw::<()>(
            Method::GET,
            &format!("/v1/recordings/{}", rec.id),
            Some(&st.tenant_token),
            None,
        )
        .await;
    assert_eq!(missing, StatusCode::NOT_FOUND);
    st.stop().await;
}
