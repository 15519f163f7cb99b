//! A test browser for the portal: keeps cookies by hand, follows no redirects, signs in
//! through the real form, reads the CSRF token from a console page and calls `/api` as the
//! pages' scripts do. Shared by the portal's test files.
#![allow(dead_code)]

use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// A browser: keeps cookies by hand (name → value), follows no redirects.
pub struct Browser {
    pub base: String,
    pub http: reqwest::Client,
    pub cookies: Mutex<BTreeMap<String, String>>,
}

pub fn set_cookies(h: &HeaderMap) -> Vec<String> {
    h.get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The value of `<meta name="csrf-token">` or of the hidden `name=…` input in a page.
pub fn attr_after(html: &str, marker: &str) -> Option<String> {
    let at = html.find(marker)?;
    let rest = &html[at..];
    let v = rest.find(" value=\"").map(|i| (i, 8));
    let c = rest.find(" content=\"").map(|i| (i, 10));
    let (i, n) = [v, c].into_iter().flatten().min_by_key(|(i, _)| *i)?;
    let rest = &rest[i + n..];
    Some(rest[..rest.find('"')?].to_owned())
}

impl Browser {
    pub fn cookie_header(&self) -> String {
        self.cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn keep(&self, resp: &reqwest::Response) {
        for c in set_cookies(resp.headers()) {
            let first = c.split(';').next().unwrap();
            let (k, v) = first.split_once('=').unwrap();
            let expired = c.contains("Max-Age=0");
            let mut jar = self.cookies.lock().unwrap();
            if expired || v.is_empty() {
                jar.remove(k);
            } else {
                jar.insert(k.to_owned(), v.to_owned());
            }
        }
    }

    pub fn has_session(&self) -> bool {
        self.cookies
            .lock()
            .unwrap()
            .contains_key("playrack_session")
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> reqwest::Response {
        let resp = req
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("request");
        self.keep(&resp);
        resp
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        (r.status(), r.text().await.unwrap())
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.send(self.http.post(format!("{}{path}", self.base)).form(form))
            .await
    }

    /// Loads the sign-in page and posts it.
    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        let (status, html) = self.page("/signin").await;
        assert_eq!(status, StatusCode::OK);
        let nonce = attr_after(&html, "name=\"signin_csrf\"").expect("sign-in nonce");
        self.post_form(
            "/signin",
            &[
                ("email", email),
                ("password", password),
                ("signin_csrf", &nonce),
                ("next", ""),
            ],
        )
        .await
    }

    /// The CSRF token from the signed-in account's console (tenant or operator).
    pub async fn csrf(&self) -> String {
        for page in ["/console/games", "/operator"] {
            let (status, html) = self.page(page).await;
            if status == StatusCode::OK
                && let Some(t) = attr_after(&html, "name=\"csrf-token\"")
            {
                return t;
            }
        }
        panic!("no console page with a CSRF token for this browser")
    }

    pub async fn api(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        csrf: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        self.send(req).await
    }

    /// A page that must load (200).
    pub async fn ok_page(&self, path: &str) -> String {
        let (status, html) = self.page(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {html}");
        html
    }

    /// An `/api` call that must answer `status`; its JSON body.
    pub async fn api_ok(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        csrf: &str,
        status: StatusCode,
    ) -> Value {
        let resp = self.api(method.clone(), path, body, Some(csrf)).await;
        let got = resp.status();
        let text = resp.text().await.unwrap();
        assert_eq!(got, status, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}
