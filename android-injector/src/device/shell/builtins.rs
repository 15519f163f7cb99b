//! The small commands: properties, files, identity, display and input.
//!
//! Output formats follow Android's toybox/toolbox where tools parse them: `getprop` prints
//! `[name]: [value]`, `wm size` prints `Physical size: WxH`, `id` prints the shell user's
//! groups, `ls -l` prints toybox's long format.

use std::time::Instant;

use tokio::io::AsyncReadExt;

use super::{Context, Session};
use crate::device::InputEvent;
use crate::device::fs::FsError;

/// Registers every command of this module on `device`.
pub fn register(device: &crate::device::Device) {
    device.register_command("getprop", getprop);
    device.register_command("setprop", setprop);
    device.register_command("echo", echo);
    device.register_command("id", id);
    device.register_command("true", |_ctx: Context| async { 0 });
    device.register_command("false", |_ctx: Context| async { 1 });
    device.register_command("pwd", |mut ctx: Context| async move {
        let cwd = format!("{}\n", ctx.cwd);
        ctx.out(cwd).await;
        0
    });
    device.register_command("sleep", sleep);
    device.register_command("sh", sh);
    device.register_command("ls", ls);
    device.register_command("cat", cat);
    device.register_command("stat", stat);
    device.register_command("rm", rm);
    device.register_command("mkdir", mkdir);
    device.register_command("touch", touch);
    device.register_command("mv", mv);
    device.register_command("chown", chown);
    device.register_command("chmod", chmod);
    device.register_command("wm", wm);
    device.register_command("input", input);
    device.register_command("pidof", pidof);
}

/// toybox `pidof [-s] NAME...`: the pids of the running processes named NAME (an app's
/// process is named after its package), space-separated; exit 1 when none runs.
async fn pidof(mut ctx: Context) -> i32 {
    let mut single = false;
    let mut pids = Vec::new();
    for a in ctx.args().to_vec() {
        match a.as_str() {
            "-s" => single = true,
            name => pids.extend(ctx.device.pid_of(name)),
        }
    }
    if single {
        pids.truncate(1);
    }
    if pids.is_empty() {
        return 1;
    }
    let line: Vec<String> = pids.iter().map(u32::to_string).collect();
    ctx.out(format!("{}\n", line.join(" "))).await;
    0
}

/// Splits `-abc` style flags from operands; `allowed` lists the flag letters.
fn flags(args: &[String], allowed: &str) -> Result<(String, Vec<String>), String> {
    let mut set = String::new();
    let mut rest = Vec::new();
    let mut only_operands = false;
    for a in args {
        if !only_operands && a == "--" {
            only_operands = true;
        } else if !only_operands && a.len() > 1 && a.starts_with('-') {
            for c in a[1..].chars() {
                if !allowed.contains(c) {
                    return Err(format!("Unknown option '{c}'"));
                }
                set.push(c);
            }
        } else {
            rest.push(a.clone());
        }
    }
    Ok((set, rest))
}

async fn getprop(mut ctx: Context) -> i32 {
    let props = &ctx.device.props;
    match ctx.args() {
        [] => {
            let all: String = props
                .all_at(Instant::now())
                .iter()
                .map(|(k, v)| format!("[{k}]: [{v}]\n"))
                .collect();
            ctx.out(all).await;
        }
        [name] => {
            let v = props.get(name).unwrap_or_default();
            ctx.out(format!("{v}\n")).await;
        }
        [name, default, ..] => {
            let v = props.get(name).unwrap_or_else(|| default.clone());
            ctx.out(format!("{v}\n")).await;
        }
    }
    0
}

async fn setprop(mut ctx: Context) -> i32 {
    let [name, value] = ctx.args() else {
        return ctx.fail(1, "usage: setprop NAME VALUE").await;
    };
    let (name, value) = (name.clone(), value.clone());
    match ctx.device.set_property(&name, &value) {
        Ok(()) => 0,
        Err(e) => {
            ctx.fail(
                1,
                format!("failed to set property '{name}' to '{value}': {e}"),
            )
            .await
        }
    }
}

async fn echo(mut ctx: Context) -> i32 {
    let mut args = ctx.args().to_vec();
    let newline = if args.first().map(String::as_str) == Some("-n") {
        args.remove(0);
        false
    } else {
        true
    };
    let mut s = args.join(" ");
    if newline {
        s.push('\n');
    }
    ctx.out(s).await;
    0
}

/// The shell user of a userdebug build, as `adb shell id` prints it.
pub const ID_OUTPUT: &str = "uid=2000(shell) gid=2000(shell) groups=2000(shell),1004(input),1007(log),1011(adb),1015(sdcard_rw),1028(sdcard_r),1078(ext_data_rw),1079(ext_obb_rw),3001(net_bt_admin),3002(net_bt),3003(inet),3006(net_bw_stats),3009(readproc),3011(uhid),3012(readtracefs) context=u:r:shell:s0";

async fn id(mut ctx: Context) -> i32 {
    match ctx.args() {
        [] => ctx.out(format!("{ID_OUTPUT}\n")).await,
        [f] if f == "-u" => ctx.out("2000\n").await,
        [f] if f == "-un" || f == "-nu" => ctx.out("shell\n").await,
        _ => return ctx.fail(1, "unsupported arguments").await,
    }
    0
}

async fn sleep(mut ctx: Context) -> i32 {
    let secs = ctx.args().first().and_then(|s| s.parse::<f64>().ok());
    match secs {
        Some(s) if (0.0..=86_400.0).contains(&s) => {
            tokio::time::sleep(std::time::Duration::from_secs_f64(s)).await;
            0
        }
        _ => ctx.fail(1, "usage: sleep SECONDS").await,
    }
}

/// `sh -c SCRIPT`, or `sh` reading commands from stdin.
async fn sh(ctx: Context) -> i32 {
    let mut session = Session::new(ctx.device.clone());
    session.env = ctx.env.clone();
    session.cwd = ctx.cwd.clone();
    match ctx.args() {
        [c, script, ..] if c == "-c" => {
            let script = script.clone();
            session.run(&script, &ctx.io).await
        }
        [] => session.interactive(&ctx.io, false).await,
        _ => {
            let mut ctx = ctx;
            ctx.fail(2, "only 'sh -c SCRIPT' and 'sh' are supported")
                .await
        }
    }
}

fn mode_string(mode: u32) -> String {
    let kind = match mode & 0o170000 {
        0o040000 => 'd',
        0o120000 => 'l',
        _ => '-',
    };
    let mut s = String::from(kind);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

fn format_time(secs: i64) -> String {
    // Civil date from days since the epoch (Howard Hinnant's algorithm), UTC.
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

async fn ls(mut ctx: Context) -> i32 {
    let (f, mut operands) = match flags(ctx.args(), "laA1dRhHn") {
        Ok(x) => x,
        Err(e) => return ctx.fail(1, e).await,
    };
    if operands.is_empty() {
        operands.push(".".into());
    }
    let long = f.contains('l');
    let all = f.contains('a') || f.contains('A');
    let line = |name: &str, st: &playrack_adb_proto::sync::Stat| {
        if long {
            format!(
                "{} {:>2} shell shell {:>8} {} {name}\n",
                mode_string(st.mode),
                st.nlink,
                st.size,
                format_time(st.mtime)
            )
        } else {
            format!("{name}\n")
        }
    };
    let recursive = f.contains('R');
    let mut status = 0;
    let mut queue: std::collections::VecDeque<String> = operands.into();
    let multiple = queue.len() > 1 || recursive;
    let mut first = true;
    while let Some(op) = queue.pop_front() {
        let st = match ctx.device.fs.stat(&ctx.cwd, &op) {
            Ok(st) => st,
            Err(e) => {
                status = ctx.fail(1, format!("{op}: {e}")).await;
                continue;
            }
        };
        if st.mode & 0o170000 != 0o040000 || f.contains('d') {
            let l = line(&op, &st);
            ctx.out(l).await;
            continue;
        }
        match ctx.device.fs.read_dir(&ctx.cwd, &op) {
            Ok(entries) => {
                let mut out = String::new();
                if multiple {
                    out.push_str(&format!("{}{op}:\n", if first { "" } else { "\n" }));
                }
                first = false;
                if long {
                    out.push_str(&format!("total {}\n", entries.len()));
                }
                let shown: Vec<&(String, playrack_adb_proto::sync::Stat)> = entries
                    .iter()
                    .filter(|(n, _)| all || !n.starts_with('.'))
                    .collect();
                for (name, st) in &shown {
                    out.push_str(&line(name, st));
                }
                if recursive {
                    // Subdirectories next, in order, before the remaining operands.
                    let subdirs: Vec<String> = shown
                        .iter()
                        .filter(|(_, st)| st.mode & 0o170000 == 0o040000)
                        .map(|(n, _)| format!("{}/{n}", op.trim_end_matches('/')))
                        .collect();
                    for d in subdirs.into_iter().rev() {
                        queue.push_front(d);
                    }
                }
                ctx.out(out).await;
            }
            Err(e) => status = ctx.fail(1, format!("{op}: {e}")).await,
        }
    }
    status
}

async fn cat(mut ctx: Context) -> i32 {
    let files = ctx.args().to_vec();
    if files.is_empty() || files == ["-"] {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match ctx.io.stdin.read(&mut buf).await {
                Ok(0) | Err(_) => return 0,
                Ok(n) => {
                    if ctx.io.stdout.write(&buf[..n]).await.is_err() {
                        return 1;
                    }
                }
            }
        }
    }
    let mut status = 0;
    for f in files {
        match ctx.device.fs.open_read(&ctx.cwd, &f) {
            Ok(file) => {
                let mut file = tokio::fs::File::from_std(file);
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match file.read(&mut buf).await {
                        Ok(0) => break,
                        Ok(n) => {
                            if ctx.io.stdout.write(&buf[..n]).await.is_err() {
                                return 1;
                            }
                        }
                        Err(e) => {
                            status = ctx.fail(1, format!("{f}: {e}")).await;
                            break;
                        }
                    }
                }
            }
            Err(e) => status = ctx.fail(1, format!("{f}: {e}")).await,
        }
    }
    status
}

/// `stat [-c FORMAT] FILE…` with toybox's `%n %s %a %A %F %Y %u %U %g %G` directives.
async fn stat(mut ctx: Context) -> i32 {
    let mut args = ctx.args().to_vec();
    let mut format = None;
    if let Some(i) = args.iter().position(|a| a == "-c") {
        if i + 1 >= args.len() {
            return ctx.fail(1, "-c needs a format").await;
        }
        format = Some(args.remove(i + 1));
        args.remove(i);
    }
    if args.is_empty() {
        return ctx.fail(1, "needs 1 argument").await;
    }
    let mut status = 0;
    for f in args {
        let st = match ctx.device.fs.lstat(&ctx.cwd, &f) {
            Ok(st) => st,
            Err(e) => {
                status = ctx.fail(1, format!("{f}: {e}")).await;
                continue;
            }
        };
        let kind = match st.mode & 0o170000 {
            0o040000 => "directory",
            0o120000 => "symbolic link",
            _ if st.size == 0 => "regular empty file",
            _ => "regular file",
        };
        let text = match &format {
            Some(fmt) => {
                let mut out = String::new();
                let mut chars = fmt.chars();
                while let Some(c) = chars.next() {
                    if c != '%' {
                        out.push(c);
                        continue;
                    }
                    match chars.next() {
                        Some('n') => out.push_str(&f),
                        Some('s') => out.push_str(&st.size.to_string()),
                        Some('a') => out.push_str(&format!("{:o}", st.mode & 0o7777)),
                        Some('A') => out.push_str(&mode_string(st.mode)),
                        Some('F') => out.push_str(kind),
                        Some('Y') => out.push_str(&st.mtime.to_string()),
                        Some('u') | Some('g') => out.push_str("2000"),
                        Some('U') | Some('G') => out.push_str("shell"),
                        Some('%') => out.push('%'),
                        Some(o) => {
                            out.push('%');
                            out.push(o);
                        }
                        None => out.push('%'),
                    }
                }
                out.push('\n');
                out
            }
            None => format!(
                "  File: {f}\n  Size: {}\t Blocks: {}\t IO Blocks: 4096\t{kind}\nAccess: ({:04o}/{})\tUid: ( 2000/   shell)\tGid: ( 2000/   shell)\nModify: {}\n",
                st.size,
                st.size.div_ceil(512),
                st.mode & 0o7777,
                mode_string(st.mode),
                format_time(st.mtime)
            ),
        };
        ctx.out(text).await;
    }
    status
}

async fn rm(mut ctx: Context) -> i32 {
    let (f, operands) = match flags(ctx.args(), "rRfv") {
        Ok(x) => x,
        Err(e) => return ctx.fail(1, e).await,
    };
    let (recursive, force) = (f.contains('r') || f.contains('R'), f.contains('f'));
    if operands.is_empty() && !force {
        return ctx.fail(1, "Needs 1 argument").await;
    }
    let mut status = 0;
    for op in operands {
        match ctx.device.fs.remove(&ctx.cwd, &op, recursive) {
            Ok(()) => {}
            Err(FsError::NotFound) if force => {}
            Err(e) => status = ctx.fail(1, format!("{op}: {e}")).await,
        }
    }
    status
}

async fn mkdir(mut ctx: Context) -> i32 {
    let (f, operands) = match flags(ctx.args(), "pv") {
        Ok(x) => x,
        Err(e) => return ctx.fail(1, e).await,
    };
    let mut status = 0;
    for op in operands {
        if let Err(e) = ctx.device.fs.mkdir(&ctx.cwd, &op, f.contains('p')) {
            status = ctx.fail(1, format!("{op}: {e}")).await;
        }
    }
    status
}

async fn touch(mut ctx: Context) -> i32 {
    let mut status = 0;
    for op in ctx.args().to_vec() {
        let r = ctx
            .device
            .fs
            .writable_path(&ctx.cwd, &op)
            .and_then(|(_, host)| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&host)?;
                std::fs::File::options()
                    .append(true)
                    .open(&host)?
                    .set_modified(std::time::SystemTime::now())?;
                Ok(())
            });
        if let Err(e) = r {
            status = ctx.fail(1, format!("{op}: {e}")).await;
        }
    }
    status
}

async fn mv(mut ctx: Context) -> i32 {
    let [from, to] = ctx.args() else {
        return ctx.fail(1, "usage: mv FROM TO").await;
    };
    let (from, to) = (from.clone(), to.clone());
    let to = match ctx.device.fs.stat(&ctx.cwd, &to) {
        Ok(st) if st.mode & 0o170000 == 0o040000 => {
            format!("{to}/{}", from.rsplit('/').next().unwrap_or(&from))
        }
        _ => to,
    };
    match ctx.device.fs.rename(&ctx.cwd, &from, &to) {
        Ok(()) => 0,
        Err(e) => ctx.fail(1, format!("{from}: {e}")).await,
    }
}

/// `chown OWNER[:GROUP] FILE…`: the sandbox has one owner, so ownership is recorded only.
async fn chown(mut ctx: Context) -> i32 {
    let (_, operands) = match flags(ctx.args(), "Rhv") {
        Ok(x) => x,
        Err(e) => return ctx.fail(1, e).await,
    };
    let [owner, files @ ..] = operands.as_slice() else {
        return ctx.fail(1, "usage: chown OWNER[:GROUP] FILE...").await;
    };
    if files.is_empty() {
        return ctx.fail(1, "needs a file").await;
    }
    let mut status = 0;
    for f in files {
        match ctx.device.fs.writable_path(&ctx.cwd, f) {
            Ok((android, host)) if host.exists() => ctx.device.record_owner(&android, owner),
            Ok(_) => status = ctx.fail(1, format!("{f}: No such file or directory")).await,
            Err(e) => status = ctx.fail(1, format!("{f}: {e}")).await,
        }
    }
    status
}

/// `chmod MODE FILE…`: applies the permission bits, keeping the owner's read/write so the
/// device process can always read back what it stores.
async fn chmod(mut ctx: Context) -> i32 {
    let (_, operands) = match flags(ctx.args(), "Rv") {
        Ok(x) => x,
        Err(e) => return ctx.fail(1, e).await,
    };
    let [mode, files @ ..] = operands.as_slice() else {
        return ctx.fail(1, "usage: chmod MODE FILE...").await;
    };
    let Ok(bits) = u32::from_str_radix(mode, 8) else {
        return ctx
            .fail(
                1,
                format!("bad mode '{mode}' (only octal modes are supported)"),
            )
            .await;
    };
    let mut status = 0;
    for f in files {
        use std::os::unix::fs::PermissionsExt;
        let r = ctx
            .device
            .fs
            .writable_path(&ctx.cwd, f)
            .and_then(|(_, host)| {
                std::fs::set_permissions(
                    host,
                    std::fs::Permissions::from_mode((bits & 0o7777) | 0o600),
                )?;
                Ok(())
            });
        if let Err(e) = r {
            status = ctx.fail(1, format!("{f}: {e}")).await;
        }
    }
    status
}

/// `wm size [WxH|reset]`, `wm density [DPI|reset]`.
async fn wm(mut ctx: Context) -> i32 {
    let args = ctx.args().to_vec();
    let device = ctx.device.clone();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["size"] => {
            let d = device.display();
            let mut s = format!("Physical size: {}x{}\n", d.width, d.height);
            if let Some((w, h)) = d.size_override {
                s.push_str(&format!("Override size: {w}x{h}\n"));
            }
            ctx.out(s).await;
            0
        }
        ["size", "reset"] => {
            device.set_size_override(None);
            0
        }
        ["size", wh] => {
            let parsed = wh
                .split_once('x')
                .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)));
            match parsed {
                Some((w, h)) if w > 0 && h > 0 => {
                    device.set_size_override(Some((w, h)));
                    0
                }
                _ => ctx.fail(255, format!("Error: bad size {wh}")).await,
            }
        }
        ["density"] => {
            let d = device.display();
            let mut s = format!("Physical density: {}\n", d.density);
            if let Some(o) = d.density_override {
                s.push_str(&format!("Override density: {o}\n"));
            }
            ctx.out(s).await;
            0
        }
        ["density", "reset"] => {
            device.set_density_override(None);
            0
        }
        ["density", dpi] => match dpi.parse::<u32>() {
            Ok(v) if v > 0 => {
                device.set_density_override(Some(v));
                0
            }
            _ => ctx.fail(255, format!("Error: bad density {dpi}")).await,
        },
        _ => {
            ctx.fail(255, "usage: wm [size|density] [VALUE|reset]")
                .await
        }
    }
}

/// Android key codes `input keyevent` accepts by name (the rest by number).
pub fn keycode(name: &str) -> Option<u32> {
    if let Ok(n) = name.parse() {
        return Some(n);
    }
    let n = name.strip_prefix("KEYCODE_").unwrap_or(name);
    Some(match n {
        "HOME" => 3,
        "BACK" => 4,
        "DPAD_UP" => 19,
        "DPAD_DOWN" => 20,
        "DPAD_LEFT" => 21,
        "DPAD_RIGHT" => 22,
        "DPAD_CENTER" => 23,
        "VOLUME_UP" => 24,
        "VOLUME_DOWN" => 25,
        "POWER" => 26,
        "SPACE" => 62,
        "ENTER" => 66,
        "DEL" => 67,
        "MENU" => 82,
        "APP_SWITCH" => 187,
        "F12" => 142,
        "WAKEUP" => 224,
        "SLEEP" => 223,
        _ => return None,
    })
}

/// `input [SOURCE] tap X Y | swipe X1 Y1 X2 Y2 [MS] | keyevent [--longpress] KEY… | text TEXT`,
/// forwarded to the device's input hook.
async fn input(mut ctx: Context) -> i32 {
    let mut args: Vec<String> = ctx.args().to_vec();
    if args.first().is_some_and(|s| {
        [
            "touchscreen",
            "touchpad",
            "keyboard",
            "mouse",
            "dpad",
            "gamepad",
            "trackball",
            "stylus",
        ]
        .contains(&s.as_str())
    }) {
        args.remove(0);
    }
    let num = |s: &String| s.parse::<f32>().ok();
    let events: Vec<InputEvent> = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["tap", x, y] => match (num(&x.to_string()), num(&y.to_string())) {
            (Some(x), Some(y)) => vec![InputEvent::Tap { x, y }],
            _ => return ctx.fail(1, "Error: tap needs numeric X Y").await,
        },
        ["swipe", rest @ ..] if rest.len() == 4 || rest.len() == 5 => {
            let v: Option<Vec<f32>> = rest[..4].iter().map(|s| s.parse().ok()).collect();
            let ms = rest.get(4).map(|s| s.parse::<u32>().ok());
            match (v, ms) {
                (Some(v), None) => vec![InputEvent::Swipe {
                    x1: v[0],
                    y1: v[1],
                    x2: v[2],
                    y2: v[3],
                    duration_ms: 300,
                }],
                (Some(v), Some(Some(ms))) => vec![InputEvent::Swipe {
                    x1: v[0],
                    y1: v[1],
                    x2: v[2],
                    y2: v[3],
                    duration_ms: ms,
                }],
                _ => {
                    return ctx
                        .fail(1, "Error: swipe needs numeric X1 Y1 X2 Y2 [DURATION]")
                        .await;
                }
            }
        }
        ["keyevent", keys @ ..] if !keys.is_empty() => {
            let longpress = keys[0] == "--longpress";
            let keys = if longpress { &keys[1..] } else { keys };
            let mut out = Vec::new();
            for k in keys {
                match keycode(k) {
                    Some(code) => out.push(InputEvent::Key { code, longpress }),
                    None => return ctx.fail(1, format!("Error: unknown key code {k}")).await,
                }
            }
            out
        }
        ["text", text] => vec![InputEvent::Text(text.replace("%s", " "))],
        _ => {
            return ctx
                .fail(1, "usage: input [SOURCE] tap X Y | swipe X1 Y1 X2 Y2 [MS] | keyevent KEY... | text TEXT")
                .await;
        }
    };
    for e in &events {
        ctx.device.input(e);
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(mode_string(0o100644), "-rw-r--r--");
        assert_eq!(mode_string(0o040771), "drwxrwx--x");
        assert_eq!(format_time(0), "1970-01-01 00:00");
        assert_eq!(format_time(1_700_000_000), "2023-11-14 22:13");
        assert_eq!(keycode("KEYCODE_HOME"), Some(3));
        assert_eq!(keycode("F12"), Some(142));
        assert_eq!(keycode("66"), Some(66));
        assert_eq!(keycode("KEYCODE_NOPE"), None);
    }
}
