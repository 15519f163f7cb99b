//! The controller's API as the CLI calls it: JSON in and out with the wire crate's types, the
//! bearer token, and every failure turned into a [`CliError`] whose exit code says what kind
//! of failure it was (see [`CliError::exit_code`]).

use playrack_wire::Problem;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What went wrong, by what the user can do about it.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A wrong argument the parser could not catch (e.g. no game of that name).
    #[error("{0}")]
    Usage(String),
    #[error("not signed in: run `playrack login --url <controller> --email <you>` first")]
    NotSignedIn,
    /// The controller answered with a problem.
    #[error("{} ({}): {}", .0.title, .0.code, .0.detail)]
    Api(Box<Problem>),
    #[error("cannot reach the controller at {url}: {reason}")]
    Network { url: String, reason: String },
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

impl CliError {
    /// 2 usage, 3 signed out or not allowed, 4 not found, 5 refused (validation, conflict,
    /// a failed upload or deployment), 6 the controller unreachable or failing, 1 anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::NotSignedIn => 3,
            CliError::Api(p) => match p.status {
                401 | 403 => 3,
                404 | 410 => 4,
                400..=499 => 5,
                _ => 6,
            },
            CliError::Network { .. } => 6,
            CliError::Other(_) => 1,
        }
    }
}

/// A failure of the CLI's own making that is the server's refusal in kind (exit code 5).
pub fn refused(code: &str, detail: impl Into<String>) -> CliError {
    CliError::Api(Box::new(Problem::new(422, code, "Refused", detail.into())))
}

/// A signed-in (or not yet signed-in) client of one controller.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: Option<String>,
    pub http: reqwest::Client,
}

impl Api {
    /// A client of `base`, trusting the system's roots and `ca` (a PEM file) when given.
    pub fn new(
        base: &str,
        token: Option<String>,
        ca: Option<&std::path::Path>,
    ) -> Result<Api, CliError> {
        let tls = playrack_tls::client_config(ca, None).map_err(anyhow::Error::from)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(std::time::Duration::from_secs(10))
            .user_agent(concat!("playrack-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(anyhow::Error::from)?;
        Ok(Api {
            base: base.trim_end_matches('/').to_owned(),
            token,
            http,
        })
    }

    /// A request to `path` with the token.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let req = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// Sends `req`; a non-2xx answer becomes [`CliError::Api`].
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, CliError> {
        let resp = req.send().await.map_err(|e| CliError::Network {
            url: self.base.clone(),
            reason: root_cause(&e),
        })?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        Err(CliError::Api(Box::new(
            serde_json::from_str::<Problem>(&text).unwrap_or_else(|_| {
                Problem::new(
                    status.as_u16(),
                    "HTTP_ERROR",
                    status.canonical_reason().unwrap_or("Error"),
                    text.chars().take(300).collect::<String>(),
                )
            }),
        )))
    }

    /// A JSON call: `body` (if any) in, `T` out.
    pub async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, CliError> {
        let mut req = self.request(method, path);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = self.send(req).await?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| CliError::Network {
            url: self.base.clone(),
            reason: root_cause(&e),
        })?;
        // 204 answers with nothing; callers asking for `()` accept `null`.
        let bytes = if status == StatusCode::NO_CONTENT || bytes.is_empty() {
            b"null".as_slice().into()
        } else {
            bytes
        };
        serde_json::from_slice(&bytes).map_err(|e| {
            CliError::Other(anyhow::anyhow!(
                "unexpected answer from {path}: {e} (is --url a Playrack controller?)"
            ))
        })
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CliError> {
        self.call::<(), T>(Method::GET, path, None).await
    }

    /// A GET with query parameters (encoded here).
    pub async fn get_with<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, CliError> {
        let resp = self
            .send(self.request(Method::GET, path).query(query))
            .await?;
        resp.json()
            .await
            .map_err(|e| CliError::Other(anyhow::anyhow!("unexpected answer from {path}: {e}")))
    }

    /// Every item of a paged list.
    pub async fn all<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, CliError> {
        self.all_with(path, &[]).await
    }

    /// Every item of a paged list filtered by query parameters (encoded here).
    pub async fn all_with<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<T>, CliError> {
        let mut out = Vec::new();
        let mut query = query.to_vec();
        loop {
            let page: playrack_wire::api::Page<T> = self.get_with(path, &query).await?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => {
                    query.retain(|(k, _)| *k != "cursor");
                    query.push(("cursor", c));
                }
                None => return Ok(out),
            }
        }
    }
}

/// The innermost cause of an HTTP client error (what people can act on: "connection refused",
/// "invalid peer certificate: UnknownIssuer").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
