//! Embedded mode's demo data: an operator, a tenant with an admin, and the standard specs.
//! Seeding is idempotent; the demo accounts get fresh random passwords at every start, which
//! are printed once and never stored in clear.

use crate::auth;
use crate::db;
use crate::state::AppState;
use crate::store::accounts;
use playrack_wire::api::{Role, Spec};

pub const DEMO_OPERATOR_EMAIL: &str = "operator@playrack.local";
pub const DEMO_TENANT_EMAIL: &str = "admin@demo-games.local";
pub const DEMO_TENANT_NAME: &str = "Demo Games";

/// The specs a fresh platform offers: phone-portrait SKUs from economy to full HD.
pub fn standard_specs() -> Vec<Spec> {
    let spec = |id: &str, name: &str, w, h, fps, min, max, cpu, mem, price| Spec {
        id: id.into(),
        name: name.into(),
        width: w,
        height: h,
        fps,
        bitrate_min_kbps: min,
        bitrate_max_kbps: max,
        cpu_millis: cpu,
        memory_mb: mem,
        price_per_minute_micros: price,
    };
    vec![
        spec(
            "sd-30",
            "SD 540p 30 fps",
            540,
            960,
            30,
            800,
            2_000,
            1_000,
            2_048,
            5_000,
        ),
        spec(
            "hd-60",
            "HD 720p 60 fps",
            720,
            1280,
            60,
            2_000,
            6_000,
            2_000,
            3_072,
            12_000,
        ),
        spec(
            "fhd-60",
            "Full HD 1080p 60 fps",
            1080,
            1920,
            60,
            4_000,
            10_000,
            3_000,
            4_096,
            20_000,
        ),
    ]
}

/// What `seed::demo` created, printed by `main`.
pub struct DemoCredentials {
    pub operator_password: String,
    pub tenant_password: String,
    pub tenant_id: String,
}

impl std::fmt::Display for DemoCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "Demo operator: {DEMO_OPERATOR_EMAIL} / {}",
            self.operator_password
        )?;
        write!(
            f,
            "Demo tenant ({DEMO_TENANT_NAME}, {}): {DEMO_TENANT_EMAIL} / {}",
            self.tenant_id, self.tenant_password
        )
    }
}

pub async fn demo(state: &AppState) -> anyhow::Result<DemoCredentials> {
    let db = &state.db;
    let now = crate::now().millis();
    let mut tx = db.write().await?;
    for s in standard_specs() {
        accounts::seed_spec(&mut tx, &s, now).await?;
    }
    let tenant_id =
        accounts::ensure_named_tenant(&mut tx, &db::new_id("ten"), DEMO_TENANT_NAME, now).await?;
    let operator_password = db::random_token(16);
    let tenant_password = db::random_token(16);
    for (email, role, tenant, password) in [
        (
            DEMO_OPERATOR_EMAIL,
            Role::OperatorAdmin,
            None,
            &operator_password,
        ),
        (
            DEMO_TENANT_EMAIL,
            Role::TenantAdmin,
            Some(tenant_id.as_str()),
            &tenant_password,
        ),
    ] {
        let hash = auth::hash_password(password);
        let account = accounts::NewAccount {
            id: &db::new_id("acc"),
            email,
            password_hash: &hash,
            role,
            tenant_id: tenant,
            created_at: now,
        };
        accounts::upsert_account_password(&mut tx, &account).await?;
    }
    crate::audit::record_as(
        &mut tx,
        "system",
        None,
        "demo.seed",
        &tenant_id,
        serde_json::json!({"specs": 3}),
    )
    .await?;
    tx.commit().await?;
    Ok(DemoCredentials {
        operator_password,
        tenant_password,
        tenant_id,
    })
}
