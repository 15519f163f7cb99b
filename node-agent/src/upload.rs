//! Files the board hands to the controller (save archives, play recordings): one `PUT` with
//! the board's credential, the file streamed in 64-KiB chunks with its length declared, and a
//! refusal turned into an error that says what was refused and the controller's answer.

use std::path::Path;

use anyhow::{Context, bail};

/// `PUT`s the file at `path` (or an empty body when `None`) to `url` with the board's
/// `credential` and the given headers. `what` names the upload in the error ("the archive").
pub async fn put_file(
    http: &reqwest::Client,
    url: &str,
    credential: &str,
    what: &str,
    headers: &[(&'static str, String)],
    path: Option<&Path>,
) -> anyhow::Result<()> {
    let (len, body) = match path {
        Some(path) => {
            let file = tokio::fs::File::open(path)
                .await
                .with_context(|| format!("opening {}", path.display()))?;
            let len = file.metadata().await?.len();
            (len, reqwest::Body::wrap_stream(file_stream(file)))
        }
        None => (0, reqwest::Body::from(Vec::new())),
    };
    let mut req = http
        .put(url)
        .bearer_auth(credential)
        .header(reqwest::header::CONTENT_LENGTH, len);
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let resp = req
        .body(body)
        .send()
        .await
        .with_context(|| format!("uploading to {url}"))?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        bail!("the controller refused {what} ({status}): {body}");
    }
    Ok(())
}

/// A file as a stream of chunks, for a streamed request body.
fn file_stream(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<Vec<u8>>> {
    futures_util::stream::unfold(file, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(buf), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    })
}
