//! A small client of the controller's HTTP API (`/v1`), as the demo launcher and the
//! cross-crate tests use it: JSON calls with a bearer token, problem+json turned into errors,
//! sign-in, a two-request tus upload, and waiting on a condition with a deadline.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use playrack_wire::api::*;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The controller's API at `base` (`http://127.0.0.1:7600`, no trailing slash).
#[derive(Clone)]
pub struct Api {
    pub base: String,
    http: reqwest::Client,
}

impl Api {
    pub fn new(base: impl Into<String>) -> Api {
        Api {
            base: base.into().trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("an HTTP client"),
        }
    }

    /// Sends `body` (if any) as JSON with `token`; answers the 2xx body parsed as `T`, or an
    /// error naming the call, the status and the problem's code and detail.
    pub async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> Result<T> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            bail!("{method} {path}: {status}: {text}");
        }
        let text = if text.is_empty() { "null" } else { &text };
        serde_json::from_str(text).with_context(|| format!("{method} {path}: body {text}"))
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str, token: &str) -> Result<T> {
        self.call::<(), T>(Method::GET, path, Some(token), None)
            .await
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
        body: &B,
    ) -> Result<T> {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Signs in; answers the bearer token.
    pub async fn login(&self, email: &str, password: &str) -> Result<String> {
        let r: LoginResponse = self
            .call(
                Method::POST,
                "/v1/auth/login",
                None,
                Some(&LoginRequest {
                    email: email.into(),
                    password: password.into(),
                }),
            )
            .await?;
        Ok(r.token)
    }

    /// Every item of a list (follows `next_cursor`).
    pub async fn all<T: DeserializeOwned>(&self, path: &str, token: &str) -> Result<Vec<T>> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let p = match &cursor {
                Some(c) => format!("{path}{sep}limit=200&cursor={c}"),
                None => format!("{path}{sep}limit=200"),
            };
            let page: Page<T> = self.get(&p, token).await?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// Uploads an APK to `game_id` with tus (create, then one PATCH) and waits until its
    /// version is checked; answers the version (READY, or an error saying why not).
    pub async fn upload(&self, token: &str, game_id: &str, apk: &[u8]) -> Result<Version> {
        let resp = self
            .http
            .post(format!("{}/v1/games/{game_id}/uploads", self.base))
            .bearer_auth(token)
            .header("tus-resumable", "1.0.0")
            .header("upload-length", apk.len().to_string())
            .send()
            .await?;
        if resp.status() != StatusCode::CREATED {
            bail!(
                "creating the upload: {}: {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
        }
        let up: Upload = resp.json().await?;
        let resp = self
            .http
            .patch(format!("{}/v1/uploads/{}", self.base, up.id))
            .bearer_auth(token)
            .header("tus-resumable", "1.0.0")
            .header("upload-offset", "0")
            .header("content-type", "application/offset+octet-stream")
            .body(apk.to_vec())
            .send()
            .await?;
        if resp.status() != StatusCode::NO_CONTENT {
            bail!(
                "sending the APK: {}: {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
        }
        let path = format!("/v1/versions/{}", up.version_id);
        let mut version: Option<Version> = None;
        wait_for(Duration::from_secs(60), "the APK check", async || {
            let v: Version = self.get(&path, token).await?;
            let done = matches!(v.state, VersionState::Ready | VersionState::Failed);
            version = Some(v);
            Ok(done)
        })
        .await?;
        let v = version.expect("set by the wait");
        match v.state {
            VersionState::Ready => Ok(v),
            _ => Err(anyhow!("the APK was refused: {:?}", v.failure)),
        }
    }
}

/// Polls `cond` every 100 ms until it answers `true` (ok), fails, or `timeout` passes (an
/// error naming `what`). Errors from `cond` end the wait at once.
pub async fn wait_for(
    timeout: Duration,
    what: &str,
    mut cond: impl AsyncFnMut() -> Result<bool>,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if cond().await? {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
