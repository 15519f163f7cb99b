//! APK ingest throughput: a 200 MB APK uploaded over HTTP (tus), hashed, stored and parsed until
//! READY, next to a plain file copy (+ fsync) of the same bytes on the same disk, in the same
//! run. Target (shared/design/targets.md): ingest ≥ 0.8× the plain copy.
//!
//! Each round copies, then ingests (into a tenant of its own, so every round is a first upload);
//! the figure is MB/s per round beside the copy's. A second figure says where ingest's time
//! goes: the same request (the same client and body) to a server on loopback that only reads
//! the body and drops it — the HTTP transfer alone, beside the same copy. `playrack-bench ingest`, or
//! `cargo bench -p array-controller --bench ingest`; `INGEST_MB` sets the size (default 200;
//! `--short`: 8) and `INGEST_ROUNDS` the rounds (default 3; `--short`: 1).

use playrack_test_support as support;
use playrack_test_support::figure::Figure;
use playrack_test_support::large_apk;

use playrack_wire::api::{Upload, VersionState};
use std::time::Instant;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A server on loopback that reads a request's body, drops it and answers its length: the URL
/// to PATCH.
async fn sink() -> String {
    use futures_util::StreamExt;
    let app = axum::Router::new().route(
        "/sink",
        axum::routing::patch(|body: axum::body::Body| async move {
            let mut stream = body.into_data_stream();
            let mut n = 0;
            while let Some(chunk) = stream.next().await {
                n += chunk.expect("the body").len();
            }
            n.to_string()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/sink")
}

#[tokio::main]
async fn main() {
    // `--short` (CI: proves the bench runs); `cargo test` passes its own flags, ignored here.
    let short = std::env::args().any(|a| a == "--short");
    let mb = env_or("INGEST_MB", if short { 8 } else { 200 });
    let rounds = env_or("INGEST_ROUNDS", if short { 1 } else { 3 });
    let apk = large_apk::with_assets(support::fixture("tapper-v1.apk"), mb);
    let size = apk.len() as f64 / 1e6;

    let ctl = support::Ctl::start("sqlite").await;
    ctl.specs().await;
    println!("ingest: {size:.1} MB APK, {rounds} rounds");
    let sink = sink().await;
    let (mut copy_rates, mut ingest_rates, mut http_rates) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (_, t) = ctl.tenant(&format!("Bench {round}")).await;
        let game = ctl.game(&t, "bench").await;

        // Plain copy of the same bytes on the same filesystem, flushed like the store flushes.
        let src = ctl.dir.path().join("source.apk");
        std::fs::write(&src, &apk).unwrap();
        let dst = ctl.dir.path().join("copy.apk");
        let started = Instant::now();
        std::fs::copy(&src, &dst).unwrap();
        std::fs::File::open(&dst).unwrap().sync_all().unwrap();
        let copy_secs = started.elapsed().as_secs_f64();
        std::fs::remove_file(&dst).unwrap();

        // The HTTP transfer alone: the body read and dropped.
        let body = apk.clone();
        let started = Instant::now();
        let resp = ctl.http.patch(&sink).body(body).send().await.unwrap();
        assert_eq!(resp.text().await.unwrap(), apk.len().to_string());
        let http_secs = started.elapsed().as_secs_f64();

        // Ingest: create, one streamed PATCH, hash, fsync, rename, parse → READY.
        let body = apk.clone();
        let started = Instant::now();
        let up: Upload = ctl
            .create_upload(&t, &game.id, apk.len() as u64)
            .await
            .json()
            .await
            .unwrap();
        let resp = ctl.patch(&t, &up.id, 0, body).await;
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

        let (copy_rate, ingest_rate) = (size / copy_secs, size / ingest_secs);
        let http_rate = size / http_secs;
        println!(
            "  round {round}: plain copy + fsync {copy_secs:7.3} s {copy_rate:8.1} MB/s; \
             HTTP ingest → READY {ingest_secs:7.3} s {ingest_rate:8.1} MB/s; ratio {:.2}× (target ≥ 0.80×); \
             the HTTP transfer alone {http_secs:7.3} s {http_rate:8.1} MB/s",
            ingest_rate / copy_rate
        );
        copy_rates.push(copy_rate);
        ingest_rates.push(ingest_rate);
        http_rates.push(http_rate);
    }
    Figure::new("ingest.apk", "MB/s", ingest_rates)
        .baseline("plain file copy + fsync", copy_rates.clone())
        .target("≥ 0.8× the plain copy")
        .print();
    Figure::new("ingest.http_transfer", "MB/s", http_rates)
        .baseline("plain file copy + fsync", copy_rates)
        .print();
    ctl.stop().await;
}
