//! Save archives end to end on SQLite and PostgreSQL: a board agent uploads a session's archive
//! through the controller (hash checked while streaming), tenants list, tag, pin and delete
//! them, the agent downloads one to restore it; corrupted, truncated and oversized uploads are
//! refused and leave nothing behind; the newest N are kept; restores onto an older Android are
//! refused; other tenants see nothing.

use playrack_test_support as support;

use array_controller::archives::{self, Archive};
use array_controller::play::identity::anonymous_user;
use playrack_wire::api::Page;
use reqwest::{Method, StatusCode};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::Duration;
use support::{Ctl, World, backends, wait_for, world};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn bytes(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[0] ^ seed)
        .collect()
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// PUT an archive as `credential`.
async fn put(
    ctl: &Ctl,
    credential: &str,
    session: &str,
    body: Vec<u8>,
    sha256: &str,
    sdk: &str,
) -> (StatusCode, String) {
    let resp = ctl
        .http
        .put(format!("{}/v1/agent/sessions/{session}/archive", ctl.url))
        .bearer_auth(credential)
        .header("x-archive-sha256", sha256)
        .header("x-android-sdk", sdk)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.text().await.unwrap())
}

async fn upload(ctl: &Ctl, w: &World, session: &str, board: &str, b: &[u8], sdk: u32) -> Archive {
    let (status, text) = put(
        ctl,
        &w.agent(board).credential,
        session,
        b.to_vec(),
        &sha(b),
        &sdk.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{}: {text}", ctl.backend);
    serde_json::from_str(&text).unwrap()
}

fn code_of(text: &str) -> String {
    support::problem_of(text).code
}

fn archive_dir(ctl: &Ctl) -> PathBuf {
    ctl.store_root().join("archives")
}

/// Names of the stored archive files and of the scratch files.
fn files(ctl: &Ctl) -> (Vec<String>, Vec<String>) {
    let names = |p: PathBuf| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(p)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.path().is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    (
        names(archive_dir(ctl)),
        names(archive_dir(ctl).join(".tmp")),
    )
}

async fn rows(ctl: &Ctl) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM archives")
        .fetch_one(&ctl.state().db.pool)
        .await
        .unwrap()
}

/// Sends a request head and `body` over a bare connection, half-closes it, and returns all
/// the controller answered within 10 s.
async fn raw_put(ctl: &Ctl, head: &str, body: &[u8]) -> String {
    let mut tcp = tokio::net::TcpStream::connect(ctl.running.as_ref().unwrap().addr)
        .await
        .unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(body).await.unwrap();
    tcp.shutdown().await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

async fn download(ctl: &Ctl, credential: &str, id: &str) -> reqwest::Response {
    ctl.http
        .get(format!("{}/v1/agent/archives/{id}", ctl.url))
        .bearer_auth(credential)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archives_round_trip_and_corrupt_uploads_leave_nothing_behind() {
    for backend in backends() {
        let ctl = Ctl::start_with(backend, |c| c.archive_max_bytes = 1 << 20).await;
        let w = world(&ctl, 2, 4, 10).await;
        let (session, board) = w.play(&ctl, 0).await;
        let other_board = w
            .agents
            .iter()
            .find(|a| a.board_id != board)
            .unwrap()
            .credential
            .clone();
        let cred = w.agent(&board).credential.clone();

        // Upload → list → get → download the identical bytes.
        let data = bytes(7, 300_000);
        let a = upload(&ctl, &w, &session, &board, &data, 30).await;
        assert_eq!(a.sha256, sha(&data));
        assert_eq!(a.size_bytes, data.len() as u64);
        assert_eq!((a.android_sdk, a.pinned), (30, false));
        assert_eq!(a.user, anonymous_user(&support::device(0)));
        ctl.audited("archive.create", &a.id, &board).await;
        // The agent retries the same upload: the stored archive is returned, not a second one.
        let (status, text) = put(&ctl, &cred, &session, data.clone(), &sha(&data), "30").await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(serde_json::from_str::<Archive>(&text).unwrap().id, a.id);
        let listed: Page<Archive> = ctl
            .get(
                &format!(
                    "/v1/archives?user={}&game_id={}",
                    anonymous_user(&support::device(0)),
                    w.game.id
                ),
                &w.tenant_token,
            )
            .await;
        assert_eq!(listed.items, vec![a.clone()]);
        let got: Archive = ctl
            .get(&format!("/v1/archives/{}", a.id), &w.tenant_token)
            .await;
        assert_eq!(got, a);
        let resp = download(&ctl, &cred, &a.id).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["x-archive-sha256"], a.sha256.as_str());
        let body = resp.bytes().await.unwrap();
        assert_eq!(sha(&body), a.sha256, "{backend}: downloaded bytes differ");
        assert_eq!(body.as_ref(), data.as_slice());

        // Only the board running the player's session may download or upload. (Requests refused
        // before their body is read carry a small body: the controller answers and closes without
        // reading the rest, which a client still sending may see as a reset.)
        assert_eq!(
            download(&ctl, &other_board, &a.id).await.status(),
            StatusCode::NOT_FOUND
        );
        let (status, _) = put(
            &ctl,
            &other_board,
            &session,
            b"tiny".to_vec(),
            &sha(&data),
            "30",
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = put(
            &ctl,
            "pbc_nope_x",
            &session,
            b"tiny".to_vec(),
            &sha(&data),
            "30",
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            download(&ctl, &w.tenant_token, &a.id).await.status(),
            StatusCode::UNAUTHORIZED,
            "a tenant token is not a board credential"
        );

        // Refused uploads: nothing is stored, nothing is left in the scratch area.
        let before = files(&ctl);
        assert_eq!(before.0, vec![format!("{}.bin", a.id)]);
        let other = bytes(8, 200_000);
        let (status, text) = put(&ctl, &cred, &session, other.clone(), &sha(&data), "30").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
        assert_eq!(code_of(&text), "ARCHIVE_HASH_MISMATCH");
        let (status, text) = put(&ctl, &cred, &session, b"tiny".to_vec(), "abc", "30").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
        assert_eq!(code_of(&text), "VALIDATION_FAILED");
        let (status, text) = put(&ctl, &cred, &session, b"tiny".to_vec(), &sha(&other), "x").await;
        assert_eq!(
            (status, code_of(&text)),
            (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED".into())
        );
        // Too large: declared up front, and streamed without a length.
        // (The controller answers before reading the body, so the test sends only the head.)
        let big = bytes(9, (1 << 20) + 1);
        let answer = raw_put(
            &ctl,
            &format!(
                "PUT /v1/agent/sessions/{session}/archive HTTP/1.1\r\nhost: test\r\nauthorization: Bearer {cred}\r\n\
                 x-archive-sha256: {}\r\nx-android-sdk: 30\r\ncontent-length: {}\r\n\r\n",
                sha(&big),
                big.len()
            ),
            &[],
        )
        .await;
        assert!(
            answer.contains("413 Payload Too Large") && answer.contains("ARCHIVE_TOO_LARGE"),
            "{backend}: {answer}"
        );
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            big.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
        let resp = ctl
            .http
            .put(format!("{}/v1/agent/sessions/{session}/archive", ctl.url))
            .bearer_auth(&cred)
            .header("x-archive-sha256", sha(&big))
            .header("x-android-sdk", "30")
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            )))
            .send()
            .await;
        if let Ok(resp) = resp {
            // The controller may close the connection before the client has sent everything.
            assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
            assert_eq!(code_of(&resp.text().await.unwrap()), "ARCHIVE_TOO_LARGE");
        }
        // Truncated: the agent announces 100 000 bytes, sends 40 000 and stops.
        let answer = raw_put(
            &ctl,
            &format!(
                "PUT /v1/agent/sessions/{session}/archive HTTP/1.1\r\nhost: test\r\nauthorization: Bearer {cred}\r\n\
                 x-archive-sha256: {}\r\nx-android-sdk: 30\r\ncontent-length: 100000\r\n\r\n",
                sha(&other)
            ),
            &other[..40_000],
        )
        .await;
        assert!(
            answer.contains("400 Bad Request") && answer.contains("ARCHIVE_TRUNCATED"),
            "{backend}: {answer}"
        );
        wait_for(
            "refused uploads to be cleaned up",
            Duration::from_secs(10),
            || async { files(&ctl) == before },
        )
        .await;
        assert_eq!(
            rows(&ctl).await,
            1,
            "{backend}: a refused upload left a row"
        );

        // Another tenant sees nothing of it: the same 404 as a missing archive.
        let (_, other_token) = ctl.tenant("Globex").await;
        let path = format!("/v1/archives/{}", a.id);
        for method in [Method::GET, Method::DELETE] {
            ctl.refused(
                method,
                &path,
                Some(&other_token),
                None,
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
            )
            .await;
        }
        ctl.refused(
            Method::PATCH,
            &path,
            Some(&other_token),
            Some(&serde_json::json!({"pinned": true})),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
        let theirs: Page<Archive> = ctl.get("/v1/archives", &other_token).await;
        assert!(theirs.items.is_empty());
        ctl.refused(
            Method::GET,
            &format!("/v1/archives?tenant_id={}", w.tenant.id),
            Some(&other_token),
            None,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
        // Operators see every tenant's.
        let all: Page<Archive> = ctl
            .get(&format!("/v1/archives?tenant_id={}", w.tenant.id), &ctl.op)
            .await;
        assert_eq!(all.items.len(), 1);

        // Tag, then delete: the row and the file go.
        let tagged: Archive = ctl
            .ok(
                Method::PATCH,
                &path,
                &w.tenant_token,
                Some(&serde_json::json!({"tag": "before the boss", "pinned": true})),
                StatusCode::OK,
            )
            .await;
        assert_eq!(
            (tagged.tag.as_deref(), tagged.pinned),
            (Some("before the boss"), true)
        );
        ctl.audited("archive.update", &a.id, &ctl.me(&w.tenant_token).await.id)
            .await;
        let resp = ctl
            .send(Method::DELETE, &path, Some(&w.tenant_token), None, &[])
            .await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        assert_eq!(rows(&ctl).await, 0);
        assert_eq!(files(&ctl), (vec![], vec![]));
        assert_eq!(
            download(&ctl, &cred, &a.id).await.status(),
            StatusCode::NOT_FOUND
        );
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_newest_unpinned_archives_are_kept_and_leftovers_are_repaired() {
    for backend in backends() {
        let mut ctl = Ctl::start_with(backend, |c| c.archive_keep = 2).await;
        let mut w = world(&ctl, 1, 4, 10).await;
        let (session, board) = w.play(&ctl, 0).await;
        let (other_session, _) = w.play(&ctl, 1).await;
        let first = upload(&ctl, &w, &session, &board, &bytes(1, 1000), 30).await;
        let _: Archive = ctl
            .ok(
                Method::PATCH,
                &format!("/v1/archives/{}", first.id),
                &w.tenant_token,
                Some(&serde_json::json!({"pinned": true})),
                StatusCode::OK,
            )
            .await;
        let mut later = Vec::new();
        for seed in 2..=5 {
            later.push(upload(&ctl, &w, &session, &board, &bytes(seed, 1000), 30).await);
        }
        // Another player's archive of the same game is counted apart.
        let theirs = upload(&ctl, &w, &other_session, &board, &bytes(9, 1000), 30).await;
        let mut kept: Vec<String> = ctl
            .list_all::<Archive>(
                &format!("/v1/archives?user={}", anonymous_user(&support::device(0))),
                &w.tenant_token,
            )
            .await
            .into_iter()
            .map(|a| a.id)
            .collect();
        kept.sort();
        let mut want = vec![first.id.clone(), later[2].id.clone(), later[3].id.clone()];
        want.sort();
        assert_eq!(kept, want, "{backend}: the pinned one and the newest two");
        let mut stored = files(&ctl).0;
        let mut want_files: Vec<String> = want
            .iter()
            .chain(std::iter::once(&theirs.id))
            .map(|id| format!("{id}.bin"))
            .collect();
        want_files.sort();
        stored.sort();
        assert_eq!(
            stored, want_files,
            "{backend}: deleted archives' files are gone"
        );

        // Leftovers of a crash (a scratch file, a file whose row is gone) are removed at the
        // next start; stored archives stay.
        std::fs::write(archive_dir(&ctl).join(".tmp").join("x.part"), b"half").unwrap();
        std::fs::write(archive_dir(&ctl).join("arc_0orphan.bin"), b"no row").unwrap();
        drop(std::mem::take(&mut w.sockets));
        ctl.restart().await;
        wait_for("start-up repair", Duration::from_secs(10), || async {
            files(&ctl) == (want_files.clone(), vec![])
        })
        .await;
        ctl.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restores_pick_the_chosen_or_newest_archive_and_refuse_a_newer_android() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let w = world(&ctl, 1, 4, 10).await;
        let (session, board) = w.play(&ctl, 0).await;
        let old = upload(&ctl, &w, &session, &board, &bytes(1, 5000), 30).await;
        // (3 MB: larger than any default request-body limit, well under the archive limit.)
        let new = upload(&ctl, &w, &session, &board, &bytes(2, 3 << 20), 33).await;
        let user = anonymous_user(&support::device(0));
        let restore = |requested: Option<String>, sdk: u32| {
            let (ctl, w, user) = (&ctl, &w, user.clone());
            async move {
                archives::to_restore(
                    &ctl.state().db.pool,
                    &w.tenant.id,
                    &user,
                    &w.game.id,
                    requested.as_deref(),
                    sdk,
                )
                .await
            }
        };
        // The newest, when nothing is chosen.
        let r = restore(None, 33).await.unwrap().unwrap();
        assert_eq!((&r.id, &r.sha256), (&new.id, &new.sha256));
        assert_eq!(r.size_bytes, 3 << 20);
        assert_eq!(r.url, format!("/v1/agent/archives/{}", new.id));
        // The newest was saved on API 33: an API 30 instance refuses it.
        let e = restore(None, 30).await.unwrap_err();
        assert_eq!(e.code(), "ARCHIVE_INCOMPATIBLE", "{e}");
        assert_eq!(e.status(), StatusCode::CONFLICT);
        // The player may choose the older one, which API 30 can restore.
        let old_id = Some(old.id.clone());
        let new_id = Some(new.id.clone());
        assert_eq!(restore(old_id, 30).await.unwrap().unwrap().id, old.id);
        assert_eq!(
            restore(new_id.clone(), 34).await.unwrap().unwrap().id,
            new.id
        );
        assert_eq!(
            restore(new_id, 31).await.unwrap_err().code(),
            "ARCHIVE_INCOMPATIBLE"
        );
        assert_eq!(
            restore(Some("arc_missing".into()), 34)
                .await
                .unwrap_err()
                .code(),
            "ARCHIVE_NOT_FOUND"
        );
        // The player's own list, newest first, names both (what a save picker shows); another
        // device of the same link sees none of them, and a malformed request is refused.
        let saves = |device: String| {
            let ctl = &ctl;
            let req = playrack_wire::api::SavesRequest {
                link: Some(w.link.code.clone()),
                device_id: Some(device),
                ..Default::default()
            };
            async move {
                ctl.call::<_, playrack_wire::api::PlayerSaves>(
                    Method::POST,
                    "/v1/play/saves",
                    None,
                    Some(&req),
                )
                .await
            }
        };
        let (status, mine) = saves(support::device(0)).await;
        assert_eq!(status, StatusCode::OK);
        let ids: Vec<_> = mine.unwrap().items.into_iter().map(|s| s.id).collect();
        assert_eq!(ids, vec![new.id.clone(), old.id.clone()], "{backend}");
        let (_, theirs) = saves(support::device(1)).await;
        assert!(
            theirs.unwrap().items.is_empty(),
            "another player's saves stay theirs"
        );
        let (status, _) = saves("short".into()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a malformed device id"
        );
        // Inside a write transaction too; another player has nothing, and cannot take this one.
        let mut tx = ctl.state().db.write().await.unwrap();
        let none = archives::to_restore(
            &mut **tx,
            &w.tenant.id,
            &anonymous_user("someone-else-000"),
            &w.game.id,
            None,
            34,
        )
        .await
        .unwrap();
        assert!(none.is_none());
        let stolen = archives::to_restore(
            &mut **tx,
            &w.tenant.id,
            &anonymous_user("someone-else-000"),
            &w.game.id,
            Some(&new.id),
            34,
        )
        .await
        .unwrap_err();
        assert_eq!(stolen.code(), "ARCHIVE_NOT_FOUND");
        drop(tx);
        // The board restores through its live session; once the play ended, it may not.
        let cred = w.agent(&board).credential.clone();
        assert_eq!(
            download(&ctl, &cred, &old.id).await.status(),
            StatusCode::OK
        );
        array_controller::play::lifecycle::end_session(
            ctl.state(),
            &session,
            playrack_wire::api::EndReason::UserLeft,
        )
        .await
        .unwrap();
        assert_eq!(
            download(&ctl, &cred, &old.id).await.status(),
            StatusCode::NOT_FOUND
        );
        ctl.stop().await;
    }
}

/// Earlier versions keyed anonymous players by their device id itself; the upgrade at start
/// moves every such key to the id's digest, so the player keeps their saves and their live
/// play, and the id is no longer stored anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_keyed_rows_move_to_the_digest_on_upgrade_and_the_player_keeps_them() {
    for backend in backends() {
        let mut ctl = Ctl::start(backend).await;
        let w = world(&ctl, 1, 4, 10).await;
        let (session, board) = w.play(&ctl, 0).await;
        let saved = upload(&ctl, &w, &session, &board, &bytes(3, 1000), 30).await;
        let legacy = format!("anon:{}", support::device(0));
        let pool = ctl.state().db.pool.clone();
        for sql in [
            "UPDATE archives SET user_key = $1",
            "UPDATE sessions SET user_key = $1, live_key = $2 || '|' || $1 || '|' || $3",
            "DELETE FROM upgrades WHERE $1 <> $2 AND $3 <> ''",
        ] {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&legacy)
                .bind(&w.tenant.id)
                .bind(&w.game.id)
                .execute(&pool)
                .await
                .unwrap();
        }
        ctl.restart().await;

        let pool = ctl.state().db.pool.clone();
        for table in ["archives", "sessions"] {
            let left: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {table} WHERE user_key LIKE 'anon:%'"
            )))
            .fetch_one(&pool)
            .await
            .unwrap();
            assert_eq!(left, 0, "{backend}: {table} still keyed by device ids");
        }
        let mine: Page<Archive> = ctl
            .get(
                &format!("/v1/archives?user={}", anonymous_user(&support::device(0))),
                &w.tenant_token,
            )
            .await;
        assert_eq!(
            mine.items.iter().map(|a| &a.id).collect::<Vec<_>>(),
            vec![&saved.id],
            "{backend}"
        );
        assert_eq!(
            w.play(&ctl, 0).await.0,
            session,
            "{backend}: the same device gets its live play back"
        );
        ctl.stop().await;
    }
}

/// Bytes of the tenant's anonymous archives as the controller counts them, and as the rows add up.
async fn anonymous_usage(ctl: &Ctl, tenant: &str) -> (i64, i64) {
    let pool = &ctl.state().db.pool;
    let counted: Option<i64> =
        sqlx::query_scalar("SELECT anonymous_bytes FROM archive_usage WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_optional(pool)
            .await
            .unwrap();
    let rows: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(size_bytes) AS BIGINT) FROM archives WHERE tenant_id = $1 AND user_key LIKE 'device:%'",
    )
    .bind(tenant)
    .fetch_one(pool)
    .await
    .unwrap();
    (counted.unwrap_or(0), rows.unwrap_or(0))
}

/// Anonymous players can be made up without end, so all of a tenant's anonymous archives share
/// one byte budget: a save beyond it evicts the least recently saved unpinned anonymous archive
/// (row and file); pinned ones and signed-in players' archives are never evicted; a save that
/// pinned archives leave no room for is refused and stores nothing; deleting makes room again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_archives_share_a_budget_and_the_oldest_make_room() {
    for backend in backends() {
        let ctl = Ctl::start_with(backend, |c| {
            c.archive_max_bytes = 1_500;
            c.archive_anonymous_budget_bytes = 3_000;
        })
        .await;
        let w = world(&ctl, 1, 6, 10).await;
        let mut plays = Vec::new();
        for i in 0..6 {
            plays.push(w.play(&ctl, i).await);
        }
        // The first play is a signed-in player's.
        sqlx::query("UPDATE sessions SET user_key = 'usr:signed-in' WHERE id = $1")
            .bind(&plays[0].0)
            .execute(&ctl.state().db.pool)
            .await
            .unwrap();
        let save = |i: usize, seed: u8| {
            let (session, board) = plays[i].clone();
            let (ctl, w) = (&ctl, &w);
            async move { upload(ctl, w, &session, &board, &bytes(seed, 1_000), 30).await }
        };
        let pin = |id: String| {
            let ctl = &ctl;
            let token = w.tenant_token.clone();
            async move {
                let _: Archive = ctl
                    .ok(
                        Method::PATCH,
                        &format!("/v1/archives/{id}"),
                        &token,
                        Some(&serde_json::json!({"pinned": true})),
                        StatusCode::OK,
                    )
                    .await;
            }
        };
        let signed = save(0, 1).await;
        let pinned = save(1, 2).await;
        pin(pinned.id.clone()).await;
        let second = save(2, 3).await;
        let third = save(3, 4).await;
        assert_eq!(anonymous_usage(&ctl, &w.tenant.id).await, (3_000, 3_000));

        // Over budget: the least recently saved unpinned anonymous archive goes, file and all.
        let fourth = save(4, 5).await;
        let ids = |v: Vec<Archive>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
        let listed = ids(ctl.list_all("/v1/archives", &w.tenant_token).await);
        assert!(!listed.contains(&second.id), "{backend}: {listed:?}");
        for kept in [&signed.id, &pinned.id, &third.id, &fourth.id] {
            assert!(
                listed.contains(kept),
                "{backend}: {kept} is gone: {listed:?}"
            );
        }
        assert!(!files(&ctl).0.contains(&format!("{}.bin", second.id)));
        assert_eq!(anonymous_usage(&ctl, &w.tenant.id).await, (3_000, 3_000));
        let fifth = save(4, 6).await;
        assert!(
            !ids(ctl.list_all("/v1/archives", &w.tenant_token).await).contains(&third.id),
            "{backend}"
        );

        // Pinned archives fill the budget: a new save is refused and stores nothing.
        pin(fourth.id.clone()).await;
        pin(fifth.id.clone()).await;
        let before = (rows(&ctl).await, files(&ctl));
        let b = bytes(7, 1_000);
        let (status, text) = put(
            &ctl,
            &w.agent(&plays[5].1).credential,
            &plays[5].0,
            b.clone(),
            &sha(&b),
            "30",
        )
        .await;
        assert_eq!(
            status,
            StatusCode::INSUFFICIENT_STORAGE,
            "{backend}: {text}"
        );
        assert_eq!(code_of(&text), "ARCHIVE_BUDGET_FULL");
        assert_eq!((rows(&ctl).await, files(&ctl)), before, "{backend}");

        // Deleting one makes room again; the signed-in player's archive was never counted.
        let gone = ctl
            .send(
                Method::DELETE,
                &format!("/v1/archives/{}", fifth.id),
                Some(&w.tenant_token),
                None,
                &[],
            )
            .await;
        assert!(gone.status().is_success(), "{backend}: {}", gone.status());
        save(5, 8).await;
        assert_eq!(anonymous_usage(&ctl, &w.tenant.id).await, (3_000, 3_000));
        assert!(ids(ctl.list_all("/v1/archives", &w.tenant_token).await).contains(&signed.id));
        ctl.stop().await;
    }
}
