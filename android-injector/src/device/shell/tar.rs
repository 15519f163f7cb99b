//! `tar`: create, extract and list archives (optionally gzip), inside the sandbox only.
//!
//! `tar -c[z]f ARCHIVE|- [-C DIR] PATH…`, `tar -x[z]f ARCHIVE|- [-C DIR]`, `tar -t[z]f …`;
//! option letters may be bundled with or without the dash (`czf`), as in toybox. The node
//! agent uses it to save and restore `/data/data/<pkg>` (save archives).
//!
//! Extraction refuses members that could leave the destination: any `..` component, and
//! symlinks, hard links and device nodes (the sandbox would refuse to follow them anyway).
//! A leading `/` is stripped, as tar does. Refused members are reported on stderr, the rest
//! are extracted, and the exit status is 1. Written bytes count against the storage quota.

use std::io::{Cursor, Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use super::Context;
use crate::device::fs::{FsError, normalize};

#[derive(Debug, Default)]
struct Options {
    mode: Option<char>,
    gzip: bool,
    verbose: bool,
    file: Option<String>,
    dir: Option<String>,
    operands: Vec<String>,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut pending: Vec<char> = Vec::new(); // letters that take the next argument
    for (i, a) in args.iter().enumerate() {
        if let Some(p) = pending.first().copied() {
            pending.remove(0);
            match p {
                'f' => o.file = Some(a.clone()),
                _ => o.dir = Some(a.clone()),
            }
            continue;
        }
        let letters = if let Some(l) = a.strip_prefix('-') {
            Some(l)
        } else if i == 0 {
            Some(a.as_str()) // old-style "czf"
        } else {
            None
        };
        match letters {
            Some(l) if !l.is_empty() && !a.starts_with("--") => {
                for c in l.chars() {
                    match c {
                        'c' | 'x' | 't' => {
                            if o.mode.is_some_and(|m| m != c) {
                                return Err("only one of -c, -x, -t".into());
                            }
                            o.mode = Some(c);
                        }
                        'z' => o.gzip = true,
                        'v' => o.verbose = true,
                        'f' | 'C' => pending.push(c),
                        'p' | 'o' => {}
                        other => return Err(format!("unknown option '{other}'")),
                    }
                }
            }
            _ => o.operands.push(a.clone()),
        }
    }
    if !pending.is_empty() {
        return Err("option needs an argument".into());
    }
    if o.mode.is_none() {
        return Err("need -c, -x or -t".into());
    }
    Ok(o)
}

pub fn register(device: &crate::device::Device) {
    device.register_command("tar", tar);
}

async fn tar(mut ctx: Context) -> i32 {
    let o = match parse_options(ctx.args()) {
        Ok(o) => o,
        Err(e) => return ctx.fail(1, e).await,
    };
    let base = match &o.dir {
        Some(d) => normalize(&ctx.cwd, d),
        None => ctx.cwd.clone(),
    };
    match o.mode {
        Some('c') => create(&mut ctx, &o, &base).await,
        Some(m) => extract_or_list(&mut ctx, &o, &base, m == 'x').await,
        None => 1,
    }
}

/// Adds `rel` (relative to `base`) and, for directories, everything below it.
fn add_tree<W: Write>(
    ctx: &Context,
    builder: &mut tar::Builder<W>,
    base: &str,
    rel: &str,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    let fs = &ctx.device.fs;
    let android = normalize(base, rel);
    let st = fs.lstat("/", &android).map_err(|e| format!("{rel}: {e}"))?;
    let name = rel.trim_start_matches('/').trim_end_matches('/');
    let name = if name.is_empty() { "." } else { name };
    let mut header = tar::Header::new_gnu();
    header.set_mode(st.mode & 0o7777);
    header.set_mtime(st.mtime.max(0) as u64);
    header.set_uid(st.uid as u64);
    header.set_gid(st.gid as u64);
    match st.mode & 0o170000 {
        0o040000 => {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_size(0);
            builder
                .append_data(&mut header, format!("{name}/"), std::io::empty())
                .map_err(|e| e.to_string())?;
            let entries = fs
                .read_dir("/", &android)
                .map_err(|e| format!("{rel}: {e}"))?;
            for (child, _) in entries {
                add_tree(ctx, builder, base, &format!("{name}/{child}"), warnings)?;
            }
        }
        0o100000 => {
            let file = fs
                .open_read("/", &android)
                .map_err(|e| format!("{rel}: {e}"))?;
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(st.size);
            builder
                .append_data(&mut header, name, file)
                .map_err(|e| format!("{rel}: {e}"))?;
        }
        _ => warnings.push(format!(
            "tar: {rel}: not archiving special file or symlink\n"
        )),
    }
    Ok(())
}

async fn create(ctx: &mut Context, o: &Options, base: &str) -> i32 {
    if o.operands.is_empty() {
        return ctx.fail(1, "empty archive: no paths given").await;
    }
    let mut warnings = Vec::new();
    let built: Result<Vec<u8>, String> = (|| {
        // Build into memory, then write wherever -f points.
        let mut builder = tar::Builder::new(Vec::new());
        builder.mode(tar::HeaderMode::Complete);
        for rel in &o.operands {
            add_tree(ctx, &mut builder, base, rel, &mut warnings)?;
        }
        let raw = builder.into_inner().map_err(|e| e.to_string())?;
        if o.gzip {
            let mut gz = GzEncoder::new(Vec::new(), Compression::default());
            gz.write_all(&raw).map_err(|e| e.to_string())?;
            gz.finish().map_err(|e| e.to_string())
        } else {
            Ok(raw)
        }
    })();
    for w in warnings {
        ctx.err(w).await;
    }
    let bytes = match built {
        Ok(b) => b,
        Err(e) => return ctx.fail(1, e).await,
    };
    match o.file.as_deref() {
        None | Some("-") => {
            if ctx.io.stdout.write(&bytes).await.is_err() {
                return 1;
            }
            0
        }
        Some(path) => {
            let fs = &ctx.device.fs;
            let r = fs.quota_tracker().add(bytes.len() as u64).and_then(|_| {
                let (_, _, mut f) = fs.create_file(&ctx.cwd, path)?;
                f.write_all(&bytes)?;
                Ok(())
            });
            match r {
                Ok(()) => 0,
                Err(e) => ctx.fail(1, format!("{path}: {e}")).await,
            }
        }
    }
}

/// Why a member name is refused, if it is.
pub fn member_problem(name: &str) -> Option<&'static str> {
    if name.split('/').any(|c| c == "..") {
        return Some("path contains '..'");
    }
    if name.contains('\0') {
        return Some("path contains NUL");
    }
    None
}

async fn extract_or_list(ctx: &mut Context, o: &Options, base: &str, extract: bool) -> i32 {
    let quota = ctx.device.fs.quota() as usize;
    let bytes = match o.file.as_deref() {
        None | Some("-") => match ctx.io.stdin.read_to_end(quota).await {
            Ok(b) => b,
            Err(e) => return ctx.fail(1, format!("reading stdin: {e}")).await,
        },
        Some(path) => {
            let r = ctx.device.fs.open_read(&ctx.cwd, path).and_then(|mut f| {
                let mut v = Vec::new();
                f.read_to_end(&mut v)?;
                Ok(v)
            });
            match r {
                Ok(b) => b,
                Err(e) => return ctx.fail(1, format!("{path}: {e}")).await,
            }
        }
    };
    let (out, mut errors, result) = unpack(&ctx.device.fs, bytes, o, base, extract);
    ctx.out(out).await;
    if let Err(e) = result {
        errors.push_str(&format!("tar: {e}\n"));
    }
    if errors.is_empty() {
        0
    } else {
        ctx.err(errors).await;
        1
    }
}

/// The synchronous part of extract/list: (listing, error lines, fatal error).
fn unpack(
    fs: &crate::device::fs::Sandbox,
    bytes: Vec<u8>,
    o: &Options,
    base: &str,
    extract: bool,
) -> (String, String, Result<(), String>) {
    let gz = o.gzip || bytes.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read + Send> = if gz {
        Box::new(GzDecoder::new(Cursor::new(bytes)))
    } else {
        Box::new(Cursor::new(bytes))
    };
    let mut archive = tar::Archive::new(reader);
    let mut out = String::new();
    let mut errors = String::new();
    let mut quota_tracker = fs.quota_tracker();
    let result: Result<(), String> = (|| {
        for entry in archive.entries().map_err(|e| e.to_string())? {
            let mut entry = entry.map_err(|e| e.to_string())?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let name = raw.trim_start_matches('/').to_string();
            if o.verbose || !extract {
                out.push_str(&format!("{raw}\n"));
            }
            if !extract {
                continue;
            }
            if let Some(why) = member_problem(&name) {
                errors.push_str(&format!("tar: refusing to extract '{raw}': {why}\n"));
                continue;
            }
            let kind = entry.header().entry_type();
            let target = normalize(base, &name);
            match kind {
                tar::EntryType::Directory => {
                    if let Err(e) = fs.mkdir("/", &target, true) {
                        errors.push_str(&format!("tar: {raw}: {e}\n"));
                    }
                }
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let size = entry.header().size().unwrap_or(0);
                    let r = quota_tracker.add(size).and_then(|_| {
                        let (_, host, mut f) = fs.create_file("/", &target)?;
                        std::io::copy(&mut entry, &mut f).map_err(FsError::from)?;
                        if let Ok(mode) = entry.header().mode() {
                            use std::os::unix::fs::PermissionsExt;
                            let _ = std::fs::set_permissions(
                                &host,
                                std::fs::Permissions::from_mode((mode & 0o7777) | 0o600),
                            );
                        }
                        if let Ok(mtime) = entry.header().mtime() {
                            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime);
                            let _ = f.set_modified(t);
                        }
                        Ok(())
                    });
                    if let Err(e) = r {
                        errors.push_str(&format!("tar: {raw}: {e}\n"));
                        if matches!(e, FsError::QuotaExceeded { .. }) {
                            return Ok(());
                        }
                    }
                }
                other => errors.push_str(&format!(
                    "tar: refusing to extract '{raw}': {other:?} members are not supported\n"
                )),
            }
        }
        Ok(())
    })();
    (out, errors, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn option_forms() {
        let o = parse_options(&args("czf /sdcard/a.tgz -C /data/data com.x.y")).unwrap();
        assert_eq!(
            (o.mode, o.gzip, o.file.as_deref(), o.dir.as_deref()),
            (Some('c'), true, Some("/sdcard/a.tgz"), Some("/data/data"))
        );
        assert_eq!(o.operands, ["com.x.y"]);
        let o = parse_options(&args("-x -z -f - -C /data/data")).unwrap();
        assert_eq!(
            (o.mode, o.gzip, o.file.as_deref()),
            (Some('x'), true, Some("-"))
        );
        assert!(parse_options(&args("-cx")).is_err());
        assert!(parse_options(&args("-f")).is_err());
    }

    #[test]
    fn traversal_members() {
        assert!(member_problem("../etc/passwd").is_some());
        assert!(member_problem("a/../../b").is_some());
        assert!(member_problem("com.x/files/taps").is_none());
    }
}
