//! Change history on SQLite and PostgreSQL: each change to a link, a version or an order keeps
//! the object before and after; an object's history lists them newest first with the fields
//! that changed and who changed them; restoring an entry puts the earlier value back through
//! the object's own checks, is itself audited (so it can be undone the same way); tenants see
//! and restore only their own objects' entries; an entry with nothing to put back is refused
//! with a stable code.

use playrack_test_support as support;

use playrack_wire::api::{AuditEntry, Link, Order, Page, Version};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Ctl, backends, fixture};

async fn history(ctl: &Ctl, id: &str, token: &str) -> Vec<AuditEntry> {
    ctl.get::<Page<AuditEntry>>(&format!("/v1/history/{id}"), token)
        .await
        .items
}

async fn restore(ctl: &Ctl, entry: &str, token: &str) -> AuditEntry {
    ctl.ok::<(), _>(
        Method::POST,
        &format!("/v1/audit/{entry}/restore"),
        token,
        None,
        StatusCode::OK,
    )
    .await
}

fn actions(h: &[AuditEntry]) -> Vec<&str> {
    h.iter().map(|e| e.action.as_str()).collect()
}

/// The fields an entry changed, as (name, before, after).
fn changed(e: &AuditEntry) -> Vec<(&str, Value, Value)> {
    e.changes
        .iter()
        .map(|c| (c.field.as_str(), c.before.clone(), c.after.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_versions_and_orders_keep_their_history_and_restore_it() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        ctl.specs().await;
        let (tenant, t) = ctl.tenant("Acme").await;
        let (_, other) = ctl.tenant("Rival").await;
        let me = ctl.me(&t).await.id;
        let game = ctl.game(&t, "tapper").await;
        let link = ctl.link(&t, &game.id, Some(300)).await;
        let path = format!("/v1/links/{}", link.id);

        // Two changes: settings set, then one cleared with `null` while another changes.
        let set: Link = ctl
            .ok(
                Method::PATCH,
                &path,
                &t,
                Some(&json!({"campaign": "spring", "max_plays": 50,
                             "embed_origins": ["https://Games.Example/"]})),
                StatusCode::OK,
            )
            .await;
        assert_eq!(set.campaign.as_deref(), Some("spring"), "{backend}");
        assert_eq!(set.embed_origins, ["https://games.example"], "{backend}");
        let cleared: Link = ctl
            .ok(
                Method::PATCH,
                &path,
                &t,
                Some(&json!({"max_plays": null, "trial_seconds": 120})),
                StatusCode::OK,
            )
            .await;
        assert_eq!(cleared.max_plays, None, "{backend}");
        assert_eq!(cleared.campaign.as_deref(), Some("spring"), "{backend}");
        assert_eq!(cleared.trial_seconds, 120, "{backend}");
        // Bad settings change nothing and say what to fix.
        for bad in [
            json!({"expires_at": "2001-01-01T00:00:00Z"}),
            json!({"max_plays": 0}),
            json!({"embed_origins": ["ftp://x.example"]}),
        ] {
            ctl.refused(
                Method::PATCH,
                &path,
                Some(&t),
                Some(&bad),
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
            )
            .await;
        }
        // Another tenant can neither change the link nor read its history.
        ctl.refused(
            Method::PATCH,
            &path,
            Some(&other),
            Some(&json!({"campaign": "theirs"})),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
        assert!(
            history(&ctl, &link.id, &other).await.is_empty(),
            "{backend}"
        );

        // Newest first, each with who, the object before and after, and the fields changed.
        let h = history(&ctl, &link.id, &t).await;
        assert_eq!(
            actions(&h),
            ["link.update", "link.update", "link.create"],
            "{backend}"
        );
        assert!(h.iter().all(|e| e.actor == me), "{backend}");
        assert_eq!(
            changed(&h[0]),
            [
                ("max_plays", json!(50), Value::Null),
                ("trial_seconds", json!(300), json!(120)),
            ],
            "{backend}"
        );
        assert_eq!(
            changed(&h[1]).iter().map(|c| c.0).collect::<Vec<_>>(),
            ["campaign", "embed_origins", "max_plays"],
            "{backend}"
        );
        assert!(h[0].restorable && h[1].restorable, "{backend}");
        assert!(h[2].before.is_none() && !h[2].restorable, "{backend}");
        assert_eq!(h[2].after.as_ref().unwrap()["code"], json!(link.code));

        // Restoring the first change's entry puts the link back as it was created …
        let r = restore(&ctl, &h[1].id, &t).await;
        assert_eq!(r.action, "link.restore", "{backend}");
        assert_eq!(r.summary["entry"], json!(h[1].id), "{backend}");
        let back: Link = ctl.get(&path, &t).await;
        assert_eq!(
            (back.campaign.clone(), back.max_plays, back.trial_seconds),
            (None, None, 300),
            "{backend}"
        );
        assert!(back.embed_origins.is_empty(), "{backend}");
        // … and the restore is undone the same way.
        let undo = restore(&ctl, &r.id, &t).await;
        assert_eq!(undo.action, "link.restore");
        let again: Link = ctl.get(&path, &t).await;
        assert_eq!(again.campaign.as_deref(), Some("spring"), "{backend}");
        assert_eq!(again.trial_seconds, 120, "{backend}");

        // A revoked link comes back by restoring the revocation's entry.
        let revoked: Link = ctl
            .ok::<(), _>(
                Method::POST,
                &format!("{path}/revoke"),
                &t,
                None,
                StatusCode::OK,
            )
            .await;
        assert!(revoked.revoked_at.is_some());
        let revocation = history(&ctl, &link.id, &t).await.remove(0);
        assert_eq!(revocation.action, "link.revoke");
        assert_eq!(changed(&revocation)[0].0, "revoked_at", "{backend}");
        restore(&ctl, &revocation.id, &t).await;
        let live: Link = ctl.get(&path, &t).await;
        assert_eq!(live.revoked_at, None, "{backend}");
        let card = ctl
            .raw::<()>(
                Method::GET,
                &format!("/v1/play/links/{}", link.code),
                None,
                None,
            )
            .await;
        assert_eq!(card.0, StatusCode::OK, "{backend}: {}", card.1);

        // Another tenant cannot restore it; a creation has nothing to put back.
        ctl.refused(
            Method::POST,
            &format!("/v1/audit/{}/restore", h[0].id),
            Some(&other),
            None,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
        ctl.refused(
            Method::POST,
            &format!("/v1/audit/{}/restore", h[2].id),
            Some(&t),
            None,
            StatusCode::CONFLICT,
            "NOT_RESTORABLE",
        )
        .await;

        // A version's publication: revoked, then restored with its first publication time.
        let version = ctl.published(&t, &game.id, &fixture("tapper-v1.apk")).await;
        let first = version.published_at.expect("published");
        let gone: Version = ctl
            .ok::<(), _>(
                Method::POST,
                &format!("/v1/versions/{}/revoke", version.id),
                &t,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(gone.published_at, None, "{backend}");
        let vh = history(&ctl, &version.id, &t).await;
        assert_eq!(vh[0].action, "version.revoke", "{backend}");
        assert_eq!(changed(&vh[0])[0].0, "published_at", "{backend}");
        restore(&ctl, &vh[0].id, &t).await;
        let back: Version = ctl.get(&format!("/v1/versions/{}", version.id), &t).await;
        assert_eq!(back.published_at, Some(first), "{backend}");

        // An order: the operator changes it, the tenant reads its history but cannot restore it.
        let region = ctl.region("east").await;
        let order = ctl.order(&tenant.id, &region.id, 2).await;
        let opath = format!("/v1/orders/{}", order.id);
        let _: Order = ctl
            .ok(
                Method::PATCH,
                &opath,
                &ctl.op,
                Some(&json!({"concurrency": 5, "priority": 3})),
                StatusCode::OK,
            )
            .await;
        let oh = history(&ctl, &order.id, &t).await;
        assert_eq!(actions(&oh), ["order.update", "order.create"], "{backend}");
        assert_eq!(
            changed(&oh[0]),
            [
                ("concurrency", json!(2), json!(5)),
                ("priority", json!(0), json!(3)),
            ],
            "{backend}"
        );
        ctl.refused(
            Method::POST,
            &format!("/v1/audit/{}/restore", oh[0].id),
            Some(&t),
            None,
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        )
        .await;
        let r = restore(&ctl, &oh[0].id, &ctl.op).await;
        assert_eq!(r.action, "order.restore");
        let now: Order = ctl.get(&opath, &ctl.op).await;
        assert_eq!((now.concurrency, now.priority), (2, 0), "{backend}");

        // An entry that kept no state (an operator's region) is not restorable either.
        let made = ctl
            .list_all::<AuditEntry>(&format!("/v1/audit?object_id={}", region.id), &ctl.op)
            .await;
        assert!(!made[0].restorable);
        ctl.refused(
            Method::POST,
            &format!("/v1/audit/{}/restore", made[0].id),
            Some(&ctl.op),
            None,
            StatusCode::CONFLICT,
            "NOT_RESTORABLE",
        )
        .await;
        ctl.stop().await;
    }
}
