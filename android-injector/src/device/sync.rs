//! The `sync:` service: push, pull, stat and list against the sandboxed file system.
//!
//! Requests are decoded by [`playrack_adb_proto::sync`]; every path goes through
//! [`crate::device::fs::Sandbox`], so traversal (`..`, symlinks out, unmapped absolute paths)
//! is refused with the errno adbd would report. Like adbd, a failed `SEND` or `RECV` answers
//! `FAIL <message>` and ends the session. A `SEND` that fails part-way (quota, refused path)
//! still consumes the host's `DATA` until `DONE`, so the host reads the `FAIL` message instead
//! of a broken pipe, and the partial file is removed.

use std::io::{Read, Write};
use std::sync::Arc;

use super::Device;
use super::adbd::AdbStream;
use super::fs::FsError;
use playrack_adb_proto::sync::{self as proto, Request};

/// How much pulled data is batched into one stream write (several DATA messages).
const RECV_BATCH: usize = 4 * proto::SYNC_DATA_MAX;

/// Serves one sync session until `QUIT`, a failure, or the host closing the stream.
pub async fn serve(device: &Arc<Device>, mut stream: AdbStream) {
    let mut decoder = proto::Decoder::default();
    loop {
        let req = match next_request(&mut stream, &mut decoder).await {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "bad sync request");
                let _ = stream.write(&proto::fail(&e.to_string())).await;
                return;
            }
        };
        tracing::debug!(?req, "sync");
        let fs = &device.fs;
        let reply = match req {
            Request::Stat(p) => proto::stat_v1(fs.stat("/", &p).ok().as_ref()),
            Request::Stat2(p) => proto::stat_v2(
                proto::ID_STAT2,
                fs.stat("/", &p).as_ref().map_err(FsError::errno),
            ),
            Request::Lstat2(p) => proto::stat_v2(
                proto::ID_LSTAT2,
                fs.lstat("/", &p).as_ref().map_err(FsError::errno),
            ),
            Request::List(p) => {
                let mut out = Vec::new();
                for (name, st) in list_with_dots(device, &p) {
                    out.extend(proto::dent_v1(&st, &name));
                }
                out.extend(proto::dent_v1_done());
                out
            }
            Request::List2(p) => {
                let mut out = Vec::new();
                for (name, st) in list_with_dots(device, &p) {
                    out.extend(proto::dent_v2(&st, &name));
                }
                out.extend(proto::dent_v2_done());
                out
            }
            Request::Send(arg) => match receive_file(device, &mut stream, &mut decoder, &arg).await
            {
                Ok(()) => proto::okay(),
                Err(Some(message)) => {
                    tracing::info!(target = %arg, %message, "sync SEND failed");
                    let _ = stream.write(&proto::fail(&message)).await;
                    return;
                }
                Err(None) => return,
            },
            Request::Recv(path) => {
                if let Err(message) = send_file(device, &mut stream, &path).await {
                    tracing::info!(%path, %message, "sync RECV failed");
                    let _ = stream.write(&proto::fail(&message)).await;
                    return;
                }
                continue;
            }
            Request::Quit => return,
            Request::Data(_) | Request::Done { .. } => {
                let _ = stream
                    .write(&proto::fail("unexpected DATA/DONE outside SEND"))
                    .await;
                return;
            }
        };
        if stream.write(&reply).await.is_err() {
            return;
        }
    }
}

/// A directory's entries as readdir(3) gives them to adbd: `.` and `..` first. A directory
/// that cannot be listed (missing, refused) gives nothing, and the reply is just `DONE`.
fn list_with_dots(device: &Device, path: &str) -> Vec<(String, proto::Stat)> {
    let Ok(entries) = device.fs.read_dir("/", path) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(entries.len() + 2);
    if let Ok(st) = device.fs.stat("/", path) {
        out.push((".".to_string(), st));
    }
    let parent = super::fs::normalize(path, "..");
    if let Ok(st) = device.fs.stat("/", &parent) {
        out.push(("..".to_string(), st));
    }
    out.extend(entries);
    out
}

async fn next_request(
    stream: &mut AdbStream,
    decoder: &mut proto::Decoder,
) -> Result<Option<Request>, proto::SyncError> {
    loop {
        if let Some(r) = decoder.next_request()? {
            return Ok(Some(r));
        }
        match stream.recv().await {
            Some(data) => decoder.feed(&data),
            None => return Ok(None),
        }
    }
}

/// Handles `SEND path,mode` + `DATA`… + `DONE`. `Err(Some(msg))` is a failure to report,
/// `Err(None)` means the host went away.
async fn receive_file(
    device: &Arc<Device>,
    stream: &mut AdbStream,
    decoder: &mut proto::Decoder,
    arg: &str,
) -> Result<(), Option<String>> {
    let (path, mode) = proto::parse_send_target(arg);
    let fs = &device.fs;
    let mut error: Option<String> = None;
    let mut file = None;
    if mode & 0o170000 == 0o120000 {
        error = Some("symlinks are not supported on this device".into());
    } else {
        let mut quota = fs.quota_tracker();
        // Overwriting a file gives its bytes back to the quota.
        if let Ok(old) = fs.lstat("/", &path)
            && old.mode & 0o170000 == 0o100000
        {
            quota.release(old.size);
        }
        match fs.create_file("/", &path) {
            Ok((_, host, f)) => file = Some((host, f, quota)),
            Err(e) => error = Some(format!("couldn't create file: {e}")),
        }
    }
    let mtime = loop {
        match next_request(stream, decoder).await {
            Ok(Some(Request::Data(bytes))) => {
                if let Some((host, f, quota)) = &mut file {
                    let r = quota
                        .add(bytes.len() as u64)
                        .and_then(|_| f.write_all(&bytes).map_err(FsError::from));
                    if let Err(e) = r {
                        error = Some(format!("write failed: {e}"));
                        let _ = std::fs::remove_file(&*host);
                        file = None;
                    }
                }
            }
            Ok(Some(Request::Done { mtime })) => break mtime,
            Ok(Some(other)) => {
                if let Some((host, _, _)) = &file {
                    let _ = std::fs::remove_file(host);
                }
                return Err(Some(format!(
                    "invalid data message: expected DATA or DONE, got {other:?}"
                )));
            }
            Ok(None) => {
                if let Some((host, _, _)) = &file {
                    let _ = std::fs::remove_file(host);
                }
                return Err(None);
            }
            Err(e) => {
                if let Some((host, _, _)) = &file {
                    let _ = std::fs::remove_file(host);
                }
                return Err(Some(e.to_string()));
            }
        }
    };
    if let Some(e) = error {
        return Err(Some(e));
    }
    if let Some((host, f, _)) = file {
        use std::os::unix::fs::PermissionsExt;
        let _ =
            f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime as u64));
        let _ = std::fs::set_permissions(
            &host,
            std::fs::Permissions::from_mode((mode & 0o777) | 0o600),
        );
    }
    Ok(())
}

/// Handles `RECV path`: `DATA`… then `DONE`. `Err` is the FAIL message.
async fn send_file(device: &Arc<Device>, stream: &mut AdbStream, path: &str) -> Result<(), String> {
    let mut file = device
        .fs
        .open_read("/", path)
        .map_err(|e| format!("open failed: {e}"))?;
    let mut chunk = vec![0u8; proto::SYNC_DATA_MAX];
    let mut batch = Vec::with_capacity(RECV_BATCH + 16);
    loop {
        let n = file
            .read(&mut chunk)
            .map_err(|e| format!("read failed: {e}"))?;
        if n == 0 {
            break;
        }
        batch.extend(proto::data(&chunk[..n]));
        if batch.len() >= RECV_BATCH {
            stream.write(&batch).await.map_err(|e| e.to_string())?;
            batch.clear();
        }
    }
    batch.extend(proto::done());
    stream.write(&batch).await.map_err(|e| e.to_string())
}
