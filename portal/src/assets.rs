//! Static files: the portal's own stylesheet and scripts (compiled into the binary from
//! `portal/assets/`, so a deployment is one file), and the H5 SDK bundle, served from the
//! `--assets-dir` directory at `/assets/sdk/…`.

use crate::AppState;
use crate::security::problem;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The portal's own assets: (name, content type, bytes).
const OWN: &[(&str, &str, &str)] = &[
    (
        "portal.css",
        "text/css; charset=utf-8",
        include_str!("../assets/portal.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/app.js"),
    ),
    (
        "upload.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/upload.js"),
    ),
    (
        "player.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/player.js"),
    ),
    (
        "watch-stream.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/watch-stream.js"),
    ),
    (
        "watch.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/watch.js"),
    ),
];

/// The SDK's entry module, relative to the SDK directory.
pub const SDK_ENTRY: &str = "playrack.js";

/// `GET /assets/{name}`.
pub async fn own(Path(name): Path<String>) -> Response {
    match OWN.iter().find(|(n, _, _)| *n == name) {
        Some((_, ctype, body)) => (
            [
                (header::CONTENT_TYPE, *ctype),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *body,
        )
            .into_response(),
        None => problem(StatusCode::NOT_FOUND, "NOT_FOUND", "no such asset"),
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, e)| e) {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("map" | "json") => "application/json",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("d.ts" | "ts") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Whether a relative path inside the SDK directory is safe to open: plain segments of
/// letters, digits, `-`, `_` and `.`, none of them `.` or `..`.
fn safe_relative(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
}

/// `GET /assets/sdk/{*path}`: a file of the SDK bundle.
pub async fn sdk(State(state): State<AppState>, Path(path): Path<String>) -> Response {
    if !safe_relative(&path) {
        return problem(StatusCode::NOT_FOUND, "NOT_FOUND", "no such SDK file");
    }
    let file = state.config.sdk_dir.join(&path);
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            let mut resp = bytes.into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&path)),
            );
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            resp
        }
        Err(e) => {
            if path == SDK_ENTRY {
                tracing::error!(file = %file.display(), error = %e,
                    "the H5 SDK bundle is missing: build sdk-h5 or pass --assets-dir");
            }
            problem(StatusCode::NOT_FOUND, "NOT_FOUND", "no such SDK file")
        }
    }
}

/// Whether the SDK's entry module exists (the player page shows an error state without it).
pub fn sdk_present(state: &AppState) -> bool {
    sdk_present_in(&state.config.sdk_dir)
}

/// Whether `dir` holds the SDK's entry module.
pub fn sdk_present_in(dir: &std::path::Path) -> bool {
    dir.join(SDK_ENTRY).is_file()
}

#[cfg(test)]
mod tests {
    #[test]
    fn sdk_paths_stay_inside() {
        assert!(super::safe_relative("playrack.js"));
        assert!(super::safe_relative("chunks/a-1.js"));
        assert!(!super::safe_relative("../secret"));
        assert!(!super::safe_relative("a//b"));
        assert!(!super::safe_relative("/etc/passwd"));
        assert!(!super::safe_relative("a/%2e%2e/b"));
    }
}
