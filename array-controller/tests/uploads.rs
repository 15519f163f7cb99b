//! APK ingest over tus, end to end: real fixture APKs (built with aapt and apksigner), every
//! rejection code, interrupted and resumed uploads, concurrent uploads of the same bytes, a
//! controller restart mid-upload, expiry and cancellation. On SQLite and PostgreSQL.

use playrack_test_support as support;

use futures_util::StreamExt;
use playrack_wire::api::*;
use reqwest::{Method, StatusCode};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::time::{Duration, Instant};
use support::{Ctl, backends, fixture};

fn sha_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Files in the store's scratch directory (uploads in progress).
/// Cancels an upload (tus termination).
async fn cancel(ctl: &Ctl, token: &str, upload_id: &str) -> reqwest::Response {
    ctl.http
        .delete(format!("{}/v1/uploads/{upload_id}", ctl.url))
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .unwrap()
}

fn incoming(ctl: &Ctl) -> Vec<String> {
    std::fs::read_dir(ctl.store_root().join(".incoming"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect()
}

/// Stored package hashes.
fn stored(ctl: &Ctl) -> Vec<String> {
    array_controller::ingest::PackageStore::open(&ctl.store_root())
        .unwrap()
        .list()
        .unwrap()
}

/// Builds a zip from (name, bytes) entries, deflated.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap();
    }
    buf.into_inner()
}

/// The manifest of a real fixture, for building malformed packages around it.
fn real_manifest() -> Vec<u8> {
    let apk = fixture("tapper-v1.apk");
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(apk)).unwrap();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut z.by_name("AndroidManifest.xml").unwrap(), &mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_apk_becomes_a_ready_version_with_its_manifest_facts() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (_, t) = ctl.tenant("Acme").await;
        let game = ctl.game(&t, "tapper").await;
        let bytes = fixture("tapper-v1.apk");
        let v = ctl.upload(&t, &game.id, &bytes).await;
        assert_eq!(v.state, VersionState::Ready, "{backend}: {:?}", v.failure);
        assert_eq!(v.sha256.as_deref(), Some(sha_hex(&bytes).as_str()));
        assert_eq!(v.size_bytes, bytes.len() as u64);
        let apk = v.apk.clone().expect("parsed");
        assert_eq!(apk.package, "com.playrack.demo.tapper");
        assert_eq!(apk.version_code, 1);
        assert_eq!(apk.version_name.as_deref(), Some("1.0"));
        assert_eq!(apk.min_sdk, Some(24));
        assert_eq!(apk.target_sdk, Some(33));
        assert_eq!(apk.label.as_deref(), Some("Tap Tap Demo"));
        assert_eq!(
            apk.launchable_activity.as_deref(),
            Some("com.playrack.demo.tapper.MainActivity")
        );
        assert!(
            apk.permissions
                .contains(&"android.permission.INTERNET".to_owned())
        );
        assert_eq!(
            apk.abis,
            vec!["arm64-v8a".to_owned(), "armeabi-v7a".to_owned()]
        );
        assert!(apk.has_icon);
        // Stored once, under its hash, with nothing left in the scratch directory.
        assert_eq!(stored(&ctl), vec![sha_hex(&bytes)]);
        assert!(incoming(&ctl).is_empty());
        // The game's package is now fixed; the icon is served as an image.
        let g: Game = ctl
            .ok::<(), _>(
                Method::GET,
                &format!("/v1/games/{}", game.id),
                &t,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(g.package_name.as_deref(), Some("com.playrack.demo.tapper"));
        assert_eq!(g.default_version_id, None, "not published yet");
        let icon = ctl
            .http
            .get(format!("{}/v1/versions/{}/icon", ctl.url, v.id))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(icon.status(), StatusCode::OK);
        assert_eq!(icon.headers()["content-type"], "image/png");
        assert_eq!(&icon.bytes().await.unwrap()[..4], b"\x89PNG");

        // Publishing makes it the default; a newer published version takes over; revoking it
        // falls back.
        let _: Version = ctl
            .ok::<(), _>(
                Method::POST,
                &format!("/v1/versions/{}/publish", v.id),
                &t,
                None,
                StatusCode::OK,
            )
            .await;
        let v2 = ctl.upload(&t, &game.id, &fixture("tapper-v2.apk")).await;
        assert_eq!(v2.state, VersionState::Ready);
        let _: Version = ctl
            .ok::<(), _>(
                Method::POST,
                &format!("/v1/versions/{}/publish", v2.id),
                &t,
                None,
                StatusCode::OK,
            )
            .await;
        let g: Game = ctl
            .ok::<(), _>(
                Method::GET,
                &format!("/v1/games/{}", game.id),
                &t,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(g.default_version_id.as_deref(), Some(v2.id.as_str()));
        assert_eq!(g.icon_url, Some(format!("/v1/games/{}/icon", game.id)));
        let _: Version = ctl
            .ok::<(), _>(
                Method::POST,
                &format!("/v1/versions/{}/revoke", v2.id),
                &t,
                None,
                StatusCode::OK,
            )
            .await;
        let g: Game = ctl
            .ok::<(), _>(
                Method::GET,
                &format!("/v1/games/{}", game.id),
                &t,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(g.default_version_id.as_deref(), Some(v.id.as_str()));
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_package_fails_with_its_code_and_leaves_no_file() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (_, t) = ctl.tenant("Acme").await;
        let game = ctl.game(&t, "tapper").await;
        let good = ctl.upload(&t, &game.id, &fixture("tapper-v1.apk")).await;
        assert_eq!(good.state, VersionState::Ready);

        let manifest = real_manifest();
        let mut broken_manifest = manifest.clone();
        broken_manifest[4..8].copy_from_slice(&u32::MAX.to_le_bytes()); // chunk size past the end
        let zeros = vec![0u8; 16 << 20];
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "random bytes",
                b"this is not an apk at all, only some text".repeat(50),
                "APK_NOT_A_ZIP",
            ),
            (
                "truncated zip",
                fixture("tapper-v2.apk")[..4000].to_vec(),
                "APK_NOT_A_ZIP",
            ),
            (
                "no manifest",
                zip_of(&[("classes.dex", b"dex\n035\0")]),
                "APK_NO_MANIFEST",
            ),
            (
                "garbage manifest",
                zip_of(&[(
                    "AndroidManifest.xml",
                    b"<manifest/> is text, not binary XML",
                )]),
                "APK_MALFORMED_MANIFEST",
            ),
            (
                "broken chunk size",
                zip_of(&[("AndroidManifest.xml", &broken_manifest)]),
                "APK_MALFORMED_MANIFEST",
            ),
            (
                "zip bomb",
                zip_of(&[
                    ("AndroidManifest.xml", &manifest),
                    ("assets/zeros.bin", &zeros),
                ]),
                "APK_ZIP_BOMB",
            ),
            (
                "another package",
                fixture("runner-v1.apk"),
                "PACKAGE_MISMATCH",
            ),
            (
                "same versionCode",
                fixture("tapper-v1.apk")[..].to_vec(),
                "DUPLICATE_VERSION_CODE",
            ),
        ];
        for (what, bytes, code) in cases {
            let v = ctl.upload(&t, &game.id, &bytes).await;
            assert_eq!(v.state, VersionState::Failed, "{backend} {what}");
            let failure = v.failure.expect("failure recorded");
            assert_eq!(failure.code, code, "{backend} {what}: {}", failure.message);
            assert!(!failure.message.is_empty());
        }
        // Only the one good package is stored; nothing is left half-written.
        assert_eq!(stored(&ctl), vec![good.sha256.clone().unwrap()]);
        assert!(incoming(&ctl).is_empty());
        let versions: Page<Version> = ctl
            .ok::<(), _>(
                Method::GET,
                &format!("/v1/games/{}/versions", game.id),
                &t,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(
            versions
                .items
                .iter()
                .filter(|v| v.state == VersionState::Ready)
                .count(),
            1
        );
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_violations_are_refused_with_stable_codes() {
    for backend in backends() {
        let ctl = Ctl::start_with(backend, |c| c.max_upload_bytes = 1 << 20).await;
        ctl.specs().await;
        let (_, t) = ctl.tenant("Acme").await;
        let game = ctl.game(&t, "tapper").await;

        // Over the configured limit: refused before a byte is sent.
        let resp = ctl.create_upload(&t, &game.id, 2 << 20).await;
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let p: playrack_wire::Problem = resp.json().await.unwrap();
        assert_eq!(p.code, "UPLOAD_TOO_LARGE");

        // Without the tus header.
        let resp = ctl
            .http
            .post(format!("{}/v1/games/{}/uploads", ctl.url, game.id))
            .bearer_auth(&t)
            .header("upload-length", "10")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::PRECONDITION_FAILED);

        let resp = ctl.create_upload(&t, &game.id, 100).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        assert_eq!(resp.headers()["tus-resumable"], "1.0.0");
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        let up: Upload = resp.json().await.unwrap();
        assert_eq!(location, format!("/v1/uploads/{}", up.id));

        // Wrong offset, wrong content type, too many bytes.
        let resp = ctl.patch(&t, &up.id, 5, vec![1; 10]).await;
        assert_eq!(resp.status(), StatusCode::CONFLICT);
        assert_eq!(
            resp.json::<playrack_wire::Problem>().await.unwrap().code,
            "OFFSET_MISMATCH"
        );
        let resp = ctl
            .http
            .patch(format!("{}/v1/uploads/{}", ctl.url, up.id))
            .bearer_auth(&t)
            .header("tus-resumable", "1.0.0")
            .header("upload-offset", "0")
            .body(vec![1u8; 10])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let resp = ctl.patch(&t, &up.id, 0, vec![1; 101]).await;
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            resp.json::<playrack_wire::Problem>().await.unwrap().code,
            "UPLOAD_EXCEEDS_LENGTH"
        );
        assert_eq!(
            ctl.head_offset(&t, &up.id).await,
            0,
            "nothing past the declared length is kept"
        );

        // Cancelling fails the version and removes the scratch file.
        let resp = cancel(&ctl, &t, &up.id).await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        let v: Version = ctl
            .ok::<(), _>(
                Method::GET,
                &format!("/v1/versions/{}", up.version_id),
                &t,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(v.failure.unwrap().code, "UPLOAD_CANCELLED");
        assert!(incoming(&ctl).is_empty());
        let resp = ctl.patch(&t, &up.id, 0, vec![1; 10]).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);

        // OPTIONS advertises the protocol and the limit.
        let resp = ctl
            .http
            .request(Method::OPTIONS, format!("{}/v1/uploads", ctl.url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.headers()["tus-version"], "1.0.0");
        assert_eq!(
            resp.headers()["tus-max-size"],
            (1u64 << 20).to_string().as_str()
        );
        ctl.stop().await;
    }
}

/// Polls the upload's offset until it equals `want` (or the timeout passes).
async fn wait_offset(ctl: &Ctl, t: &str, id: &str, want: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = ctl.head_offset(t, id).await;
        if got == want || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_upload_resumes_where_it_stopped() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (_, t) = ctl.tenant("Acme").await;
        let game = ctl.game(&t, "tapper").await;
        let bytes = fixture("tapper-v1.apk");
        let up: Upload = ctl
            .create_upload(&t, &game.id, bytes.len() as u64)
            .await
            .json()
            .await
            .unwrap();
        let cut = bytes.len() / 3;

        // The client sends a third of the file; once the server has those bytes (HEAD answers
        // while the PATCH streams), the client's connection breaks.
        let (broken_tx, broken_rx) = tokio::sync::oneshot::channel::<()>();
        let first = bytes::Bytes::from(bytes[..cut].to_vec());
        let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(first) })
            .chain(futures_util::stream::once(async move {
                let _ = broken_rx.await;
                Err(std::io::Error::other("network dropped"))
            }));
        let request = ctl
            .http
            .patch(format!("{}/v1/uploads/{}", ctl.url, up.id))
            .bearer_auth(&t)
            .header("tus-resumable", "1.0.0")
            .header("upload-offset", "0")
            .header("content-type", "application/offset+octet-stream")
            .body(reqwest::Body::wrap_stream(stream))
            .send();
        let request = tokio::spawn(request);
        assert_eq!(
            wait_offset(&ctl, &t, &up.id, cut as u64).await,
            cut as u64,
            "{backend}: bytes arrive"
        );
        broken_tx.send(()).unwrap();
        assert!(
            request.await.unwrap().is_err(),
            "the broken body must fail the request"
        );

        // What arrived is kept; the client resumes from there.
        let offset = wait_offset(&ctl, &t, &up.id, cut as u64).await;
        assert_eq!(offset, cut as u64, "{backend}");
        let v: Version = ctl
            .ok::<(), _>(
                Method::GET,
                &format!("/v1/versions/{}", up.version_id),
                &t,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(v.state, VersionState::Uploading);
        let resp = ctl.patch(&t, &up.id, offset, bytes[cut..].to_vec()).await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            resp.headers()["upload-offset"],
            bytes.len().to_string().as_str()
        );
        let v: Version = ctl
            .ok::<(), _>(
                Method::GET,
                &format!("/v1/versions/{}", up.version_id),
                &t,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(v.state, VersionState::Ready, "{:?}", v.failure);
        assert_eq!(
            v.sha256.unwrap(),
            sha_hex(&bytes),
            "the resumed hash covers every byte once"
        );
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_upload_keeps_the_upload_resumable() {
    for backend in backends() {
        let mut ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (_, t) = ctl.tenant("Acme").await;
        let game = ctl.game(&t, "tapper").await;
        let bytes = fixture("tapper-v2.apk");
        let up: Upload = ctl
            .create_upload(&t, &game.id, bytes.len() as u64)
            .await
            .json()
            .await
            .unwrap();
        let half = bytes.len() / 2;
        assert_eq!(
            ctl.patch(&t, &up.id, 0, bytes[..half].to_vec())
                .await
                .status(),
            StatusCode::NO_CONTENT
        );

        ctl.restart().await;
        assert_eq!(ctl.head_offset(&t, &up.id).await, half as u64);
        assert_eq!(
            ctl.patch(&t, &up.id, half as u64, bytes[half..].to_vec())
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
        let v: Version = ctl
            .ok::<(), _>(
                Method::GET,
                &format!("/v1/versions/{}", up.version_id),
                &t,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(v.state, VersionState::Ready, "{backend}: {:?}", v.failure);
        assert_eq!(v.sha256.unwrap(), sha_hex(&bytes));
        assert!(incoming(&ctl).is_empty());
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_uploads_of_the_same_apk_store_it_once() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (_, t) = ctl.tenant("Acme").await;
        let game = ctl.game(&t, "tapper").await;
        let bytes = fixture("tapper-v1.apk");
        let (a, b) = tokio::join!(
            ctl.upload(&t, &game.id, &bytes),
            ctl.upload(&t, &game.id, &bytes)
        );
        let mut states = [
            (a.state, a.failure.map(|f| f.code)),
            (b.state, b.failure.map(|f| f.code)),
        ];
        states.sort_by_key(|s| format!("{:?}", s.0));
        assert_eq!(
            states[0],
            (
                VersionState::Failed,
                Some("DUPLICATE_VERSION_CODE".to_owned())
            ),
            "{backend}"
        );
        assert_eq!(states[1], (VersionState::Ready, None), "{backend}");
        assert_eq!(
            stored(&ctl),
            vec![sha_hex(&bytes)],
            "one copy, still present for the READY version"
        );
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_uploads_expire_and_leave_nothing() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (_, t) = ctl.tenant("Acme").await;
        let game = ctl.game(&t, "tapper").await;
        let up: Upload = ctl
            .create_upload(&t, &game.id, 1000)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            ctl.patch(&t, &up.id, 0, vec![7; 100]).await.status(),
            StatusCode::NO_CONTENT
        );
        assert_eq!(incoming(&ctl).len(), 1);
        let state = ctl.running.as_ref().unwrap().state.clone();
        // Not yet expired: nothing happens.
        let n = array_controller::ingest::upload::expire(&state, array_controller::now())
            .await
            .unwrap();
        assert_eq!(n, 0);
        // Past the expiry (24 h by default): the upload goes, its version fails.
        let later = array_controller::now().plus_secs(25 * 3600);
        let n = array_controller::ingest::upload::expire(&state, later)
            .await
            .unwrap();
        assert_eq!(n, 1);
        let v: Version = ctl
            .ok::<(), _>(
                Method::GET,
                &format!("/v1/versions/{}", up.version_id),
                &t,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(v.failure.unwrap().code, "UPLOAD_EXPIRED");
        assert!(incoming(&ctl).is_empty());
        ctl.stop().await;
    }
}

/// A tenant has at most four uploads in progress (each holds a scratch file of up to the upload
/// limit); a finished or cancelled one makes room. Another tenant is not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_has_at_most_four_uploads_in_progress() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (_, t) = ctl.tenant("Acme").await;
        let (_, other) = ctl.tenant("Other").await;
        let game = ctl.game(&t, "tapper").await;
        let theirs = ctl.game(&other, "tapper").await;
        let mut ids = Vec::new();
        for _ in 0..4 {
            let resp = ctl.create_upload(&t, &game.id, 100).await;
            assert_eq!(resp.status(), StatusCode::CREATED, "{backend}");
            ids.push(resp.json::<Upload>().await.unwrap().id);
        }
        let before = incoming(&ctl).len();
        let resp = ctl.create_upload(&t, &game.id, 100).await;
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "{backend}");
        let p: playrack_wire::Problem = resp.json().await.unwrap();
        assert_eq!(p.code, "UPLOADS_IN_PROGRESS", "{p:?}");
        assert_eq!(
            incoming(&ctl).len(),
            before,
            "{backend}: no scratch file is left behind"
        );
        let resp = ctl.create_upload(&other, &theirs.id, 100).await;
        assert_eq!(
            resp.status(),
            StatusCode::CREATED,
            "{backend}: another tenant uploads"
        );
        // Cancelling one makes room.
        let resp = cancel(&ctl, &t, &ids[0]).await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT, "{backend}");
        let resp = ctl.create_upload(&t, &game.id, 100).await;
        assert_eq!(resp.status(), StatusCode::CREATED, "{backend}");
        ctl.stop().await;
    }
}

/// A tenant's packages count against its storage quota from the moment an upload starts (at
/// its declared length): an upload that would go beyond it is refused with
/// `STORAGE_QUOTA_EXCEEDED` and leaves nothing; a cancelled upload gives its bytes back; an
/// operator can give the tenant a larger quota; the tenant sees its usage; other tenants are
/// untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_packages_are_held_to_its_storage_quota() {
    for backend in backends() {
        let ctl = Ctl::start_with(backend, |c| c.tenant_storage_quota_bytes = 1_000).await;
        ctl.specs().await;
        let (tenant, t) = ctl.tenant("Acme").await;
        let (_, other) = ctl.tenant("Other").await;
        let game = ctl.game(&t, "tapper").await;
        let theirs = ctl.game(&other, "tapper").await;
        let usage = async || -> (u64, u64) {
            let me: Tenant = ctl.get(&format!("/v1/tenants/{}", tenant.id), &t).await;
            (me.package_bytes, me.storage_quota_bytes)
        };
        assert_eq!(usage().await, (0, 1_000), "{backend}");

        let resp = ctl.create_upload(&t, &game.id, 600).await;
        assert_eq!(resp.status(), StatusCode::CREATED, "{backend}");
        let first = resp.json::<Upload>().await.unwrap().id;
        assert_eq!(usage().await, (600, 1_000), "{backend}");
        let before = incoming(&ctl).len();
        let resp = ctl.create_upload(&t, &game.id, 500).await;
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE, "{backend}");
        let p: playrack_wire::Problem = resp.json().await.unwrap();
        assert_eq!(p.code, "STORAGE_QUOTA_EXCEEDED", "{p:?}");
        assert!(p.detail.contains("600 of its 1000"), "{p:?}");
        assert_eq!(incoming(&ctl).len(), before, "{backend}: no scratch file");
        assert_eq!(
            usage().await,
            (600, 1_000),
            "{backend}: the refusal took nothing"
        );
        let resp = ctl.create_upload(&other, &theirs.id, 900).await;
        assert_eq!(
            resp.status(),
            StatusCode::CREATED,
            "{backend}: another tenant's own quota"
        );

        // Cancelling gives the bytes back.
        let resp = cancel(&ctl, &t, &first).await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT, "{backend}");
        assert_eq!(usage().await, (0, 1_000), "{backend}");

        // A tenant cannot raise its own quota; an operator can.
        let body = serde_json::json!({"storage_quota_bytes": 1_000_000});
        let (status, _) = ctl
            .raw(
                Method::PATCH,
                &format!("/v1/tenants/{}", tenant.id),
                Some(&t),
                Some(&body),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");
        let _: Tenant = ctl
            .ok(
                Method::PATCH,
                &format!("/v1/tenants/{}", tenant.id),
                &ctl.op,
                Some(&body),
                StatusCode::OK,
            )
            .await;
        // A later change of something else keeps the tenant's own quota.
        let _: Tenant = ctl
            .ok(
                Method::PATCH,
                &format!("/v1/tenants/{}", tenant.id),
                &ctl.op,
                Some(&serde_json::json!({"priority_tier": 2})),
                StatusCode::OK,
            )
            .await;
        assert_eq!(usage().await, (0, 1_000_000), "{backend}");
        let apk = fixture("tapper-v1.apk");
        let v = ctl.upload(&t, &game.id, &apk).await;
        assert_eq!(v.state, VersionState::Ready, "{backend}");
        assert_eq!(usage().await, (apk.len() as u64, 1_000_000), "{backend}");
        ctl.stop().await;
    }
}

/// A tmpfs mounted for one test and unmounted however it ends.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &std::path::Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let st = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("mount");
        assert!(
            st.success(),
            "mounting a tmpfs needs root (the test command runs as root)"
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Fault drill: the package store is a small file system that fills up during an upload. The
/// upload fails with a clear error (`STORAGE_FULL`, 507) and leaves no version READY and no
/// partial file; once space is freed the same APK uploads and becomes READY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_store_that_fills_during_an_upload_fails_it_cleanly() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let _fs = Tmpfs::mount(&store, "4m");
        let ctl = Ctl::start_with(backend, |c| c.package_store = store.clone()).await;
        ctl.specs().await;
        let (_, t) = ctl.tenant("Acme").await;
        let game = ctl.game(&t, "tapper").await;
        // Something else has taken most of the disk.
        let filler = store.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let mut written = 0usize;
        while f.write_all(&[0u8; 64 << 10]).is_ok() {
            written += 64 << 10;
        }
        drop(f);
        std::fs::write(&filler, vec![0u8; written.saturating_sub(1 << 20)]).unwrap();

        let apk = fixture("tapper-v1.apk");
        let len = 3u64 << 20;
        let resp = ctl.create_upload(&t, &game.id, len).await;
        assert_eq!(resp.status(), StatusCode::CREATED, "{backend}");
        let up: Upload = resp.json().await.unwrap();
        let resp = ctl.patch(&t, &up.id, 0, vec![1u8; len as usize]).await;
        let status = resp.status();
        let p: playrack_wire::Problem = resp.json().await.unwrap();
        assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{backend}: {p:?}");
        assert_eq!(p.code, "STORAGE_FULL", "{backend}: {p:?}");
        assert!(
            incoming(&ctl).is_empty(),
            "{backend}: a partial file is left: {:?}",
            incoming(&ctl)
        );
        let versions: Page<Version> = ctl
            .get(&format!("/v1/games/{}/versions", game.id), &t)
            .await;
        assert!(
            versions
                .items
                .iter()
                .all(|v| v.state == VersionState::Failed),
            "{backend}: {:?}",
            versions.items
        );

        // Space is freed: the same APK uploads and becomes READY.
        std::fs::remove_file(&filler).unwrap();
        let v = ctl.upload(&t, &game.id, &apk).await;
        assert_eq!(v.state, VersionState::Ready, "{backend}");
        ctl.stop().await;
    }
}
