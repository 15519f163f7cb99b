//! The portal's HTTP client for the array controller: sign-in and sign-out, and the JSON reads
//! the server-rendered pages make with the signed-in user's token. (Browser-initiated calls go
//! through [`crate::proxy`] instead.)

use playrack_wire::Problem;
use playrack_wire::api::{LoginRequest, LoginResponse};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Why a controller call did not give the wanted answer.
#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    /// The controller answered with an error (problem+json, or a synthesised problem when the
    /// body was not one).
    #[error("the controller answered {status}: {} ({})", .problem.detail, .problem.code)]
    Problem {
        status: StatusCode,
        problem: Box<Problem>,
    },
    /// No answer: the controller is down or unreachable, or the answer was unreadable.
    #[error("the controller could not be reached: {0}")]
    Unreachable(String),
}

impl CtlError {
    pub fn status(&self) -> StatusCode {
        match self {
            CtlError::Problem { status, .. } => *status,
            CtlError::Unreachable(_) => StatusCode::BAD_GATEWAY,
        }
    }

    /// The problem, real or synthesised for an unreachable controller.
    pub fn problem(&self) -> Problem {
        match self {
            CtlError::Problem { problem, .. } => (**problem).clone(),
            CtlError::Unreachable(e) => Problem::new(
                502,
                "CONTROLLER_UNAVAILABLE",
                "Bad gateway",
                format!("the platform's controller could not be reached: {e}"),
            ),
        }
    }
}

/// A client bound to one controller.
#[derive(Clone)]
pub struct Controller {
    pub base: String,
    /// For the pages' short JSON calls (with a timeout).
    http: reqwest::Client,
    /// For the proxies: no overall timeout (event streams, uploads), no redirects followed.
    pub streaming: reqwest::Client,
}

impl Controller {
    /// A client of the controller at `base`; an `https://` one is trusted through the system's
    /// roots and `ca` (a PEM file) when given.
    pub fn new(base: &str, ca: Option<&std::path::Path>) -> anyhow::Result<Controller> {
        let base = base.trim_end_matches('/').to_owned();
        let tls = playrack_tls::client_config(ca, None)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls.clone())
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let streaming = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Controller {
            base,
            http,
            streaming,
        })
    }

    async fn answer<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T, CtlError> {
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| CtlError::Unreachable(e.to_string()))?;
        if status.is_success() {
            let body: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            return serde_json::from_slice(body)
                .map_err(|e| CtlError::Unreachable(format!("unreadable answer: {e}")));
        }
        let problem = serde_json::from_slice::<Problem>(&bytes).unwrap_or_else(|_| {
            Problem::new(
                status.as_u16(),
                "UPSTREAM_ERROR",
                status.canonical_reason().unwrap_or("Error"),
                String::from_utf8_lossy(&bytes)
                    .chars()
                    .take(300)
                    .collect::<String>(),
            )
        });
        Err(CtlError::Problem {
            status,
            problem: Box::new(problem),
        })
    }

    /// Sends a request with an optional bearer token and JSON body; parses a 2xx as `T`.
    pub async fn call<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> Result<T, CtlError> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| CtlError::Unreachable(e.to_string()))?;
        Self::answer(resp).await
    }

    /// `GET path` as the signed-in user.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: impl Into<String>,
        token: &str,
    ) -> Result<T, CtlError> {
        let path = path.into();
        self.call::<(), T>(Method::GET, &path, Some(token), None)
            .await
    }

    /// `GET path` without an account (the public play endpoints).
    pub async fn get_public<T: DeserializeOwned>(&self, path: &str) -> Result<T, CtlError> {
        self.call::<(), T>(Method::GET, path, None, None).await
    }

    /// Signs in for `client` (passed on as `X-Forwarded-For`, so the controller throttles
    /// failed sign-ins per real address once it trusts the portal as a proxy).
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: Option<std::net::IpAddr>,
    ) -> Result<LoginResponse, CtlError> {
        let mut req = self
            .http
            .post(format!("{}/v1/auth/login", self.base))
            .json(&LoginRequest {
                email: email.to_owned(),
                password: password.to_owned(),
            });
        if let Some(ip) = client {
            req = req.header("x-forwarded-for", ip.to_string());
        }
        let resp = req
            .send()
            .await
            .map_err(|e| CtlError::Unreachable(e.to_string()))?;
        Self::answer(resp).await
    }

    /// Ends the token at the controller (best effort: the portal forgets it either way).
    pub async fn logout(&self, token: &str) {
        let r = self
            .http
            .post(format!("{}/v1/auth/logout", self.base))
            .bearer_auth(token)
            .send()
            .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "signing the token out at the controller failed");
        }
    }
}
