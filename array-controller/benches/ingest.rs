//! APK ingest throughput: a 200 MB APK uploaded over HTTP (tus), hashed, stored and parsed until
//! READY, next to a plain file copy (+ fsync) of the same bytes on the same disk, in the same
//! run. Target (shared/design/targets.md): ingest ≥ 0.8× the plain copy.
//!
//! `cargo bench -p array-controller --bench ingest` (set `INGEST_MB` to change the size).

use playrack_test_support as support;
use playrack_test_support::large_apk;

use playrack_wire::api::{Upload, VersionState};
use std::time::Instant;

#[tokio::main]
async fn main() {
    let mb: usize = std::env::var("INGEST_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let apk = large_apk::with_assets(support::fixture("tapper-v1.apk"), mb);
    let size = apk.len() as f64 / 1e6;

    let ctl = support::Ctl::start("sqlite").await;
    ctl.specs().await;
    let (_, t) = ctl.tenant("Bench").await;
    let game = ctl.game(&t, "bench").await;

    // Plain copy of the same bytes on the same filesystem, flushed like the store flushes.
    let src = ctl.dir.path().join("source.apk");
    std::fs::write(&src, &apk).unwrap();
    let dst = ctl.dir.path().join("copy.apk");
    let started = Instant::now();
    std::fs::copy(&src, &dst).unwrap();
    std::fs::File::open(&dst).unwrap().sync_all().unwrap();
    let copy_secs = started.elapsed().as_secs_f64();

    // Ingest: create, one streamed PATCH, hash, fsync, rename, parse → READY.
    let started = Instant::now();
    let up: Upload = ctl
        .create_upload(&t, &game.id, apk.len() as u64)
        .await
        .json()
        .await
        .unwrap();
    let resp = ctl.patch(&t, &up.id, 0, apk).await;
    assert_eq!(resp.status(), reqwest::StatusCode::NO_CONTENT);
    let ingest_secs = started.elapsed().as_secs_f64();
    let v: playrack_wire::api::Version = ctl
        .ok::<(), _>(
            reqwest::Method::GET,
            &format!("/v1/versions/{}", up.version_id),
            &t,
            None,
            reqwest::StatusCode::OK,
        )
        .await;
    assert_eq!(v.state, VersionState::Ready, "{:?}", v.failure);

    let copy_rate = size / copy_secs;
    let ingest_rate = size / ingest_secs;
    println!("ingest: {size:.1} MB APK");
    println!("  plain file copy + fsync : {copy_secs:8.3} s  {copy_rate:8.1} MB/s");
    println!("  HTTP ingest → READY     : {ingest_secs:8.3} s  {ingest_rate:8.1} MB/s");
    println!(
        "  ratio ingest / copy     : {:.2}× (target ≥ 0.80×)",
        ingest_rate / copy_rate
    );
    ctl.stop().await;
}
