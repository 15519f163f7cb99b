//! Package and activity management: `pm`, `cmd`, `am`, `monkey`, and the `dumpsys` lines
//! automation reads (resumed activity, focused window, package version).
//!
//! `pm install` parses the APK with `playrack-apk` (the same parser the controller uses),
//! copies it to `/data/app/<pkg>-1/base.apk`, creates `/data/data/<pkg>` and records the
//! package and its launchable activity in the device's package database. `adb install` of
//! adb 29 streams the APK into `cmd package install -S SIZE` over `exec:` (the device
//! advertises the `cmd` feature), so `-S` reads exactly SIZE bytes from stdin. Failures print
//! `Failure [CODE: detail]` as Android's PackageManager does, and exit 1.
//!
//! `am start -n pkg/.Activity` and `monkey -p pkg -c android.intent.category.LAUNCHER 1` start
//! the app through [`crate::device::Device::launch`], which calls the device's hooks (the
//! synthetic game). A cold start (no process yet) first loads the app's assets, reading the
//! whole installed APK, so start-up time grows with the package as a game's does; `am start -W`
//! answers after that with `Status: ok`, `LaunchState`, `TotalTime` and `Complete`, as
//! ActivityManager does once the first frame is drawn. `am crash PKG|PID` kills the app's process as an uncaught exception does;
//! while the foreground app leaves input undispatched past the input dispatching timeout,
//! `dumpsys window` shows the system's "Application Not Responding" window in focus, as
//! Android does.

use std::io::{Seek, SeekFrom, Write};

use super::Context;
use crate::device::fs::FsError;
use crate::device::packages::InstalledPackage;
use crate::device::props::{CPU_ABILIST, SDK_INT};
use playrack_apk::names::is_package_name;

/// Packages every Android image has, listed by `pm list packages` (not by `-3`).
pub const SYSTEM_PACKAGES: &[&str] = &[
    "android",
    "com.android.settings",
    "com.android.shell",
    "com.android.systemui",
];

pub fn register(device: &crate::device::Device) {
    device.register_command("pm", pm);
    device.register_command("cmd", cmd);
    device.register_command("am", am);
    device.register_command("monkey", monkey);
    device.register_command("dumpsys", dumpsys);
}

/// `dumpsys activity activities|top`, `dumpsys window [windows|displays]`,
/// `dumpsys package PKG`: the lines automation greps for (`mResumedActivity`,
/// `mCurrentFocus`, `versionCode=`, display size).
async fn dumpsys(mut ctx: Context) -> i32 {
    let args: Vec<String> = ctx.args().to_vec();
    let device = ctx.device.clone();
    let fg = device.foreground();
    let record = |(pkg, act): &(String, String)| short_component(pkg, act);
    let out = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["activity", "activities" | "top", ..] | ["activity"] => match &fg {
            Some(f) => format!(
                "ACTIVITY MANAGER ACTIVITIES (dumpsys activity activities)\n  mResumedActivity: ActivityRecord{{1 u0 {} t1}}\n  ResumedActivity: ActivityRecord{{1 u0 {} t1}}\n",
                record(f),
                record(f)
            ),
            None => "ACTIVITY MANAGER ACTIVITIES (dumpsys activity activities)\n  mResumedActivity: null\n".to_string(),
        },
        ["window", ..] => {
            let d = device.display();
            let (w, h) = d.effective_size();
            let anr = device.not_responding();
            let focus = match (&fg, anr) {
                (_, Some(pkg)) => format!("Window{{2 u0 Application Not Responding: {pkg}}}"),
                (Some((pkg, act)), None) => format!("Window{{1 u0 {pkg}/{act}}}"),
                (None, None) => "Window{1 u0 com.android.launcher3/com.android.launcher3.Launcher}".to_string(),
            };
            format!(
                "WINDOW MANAGER DISPLAY CONTENTS (dumpsys window displays)\n  Display: mDisplayId=0\n    init={}x{} {}dpi cur={w}x{h} app={w}x{h}\n  mCurrentFocus={focus}\n  mFocusedApp=ActivityRecord{{1 u0 {}}}\n",
                d.width,
                d.height,
                d.density_override.unwrap_or(d.density),
                fg.as_ref().map(record).unwrap_or_default()
            )
        }
        ["package", pkg] => match device.packages.get(pkg) {
            Some(p) => format!(
                "Packages:\n  Package [{}]:\n    codePath={}\n    versionCode={} minSdk=1 targetSdk=33\n    versionName={}\n    dataDir=/data/data/{}\n",
                p.package,
                p.apk_path.rsplit_once('/').map(|x| x.0).unwrap_or(""),
                p.version_code,
                p.version_name.clone().unwrap_or_default(),
                p.package
            ),
            None => format!("Unable to find package: {pkg}\n"),
        },
        _ => {
            return ctx.fail(1, "only activity, window and package PKG are available on this device").await;
        }
    };
    ctx.out(out).await;
    0
}

/// `cmd SERVICE ARGS…`: the binder-shell front end; `package`, `activity`, `window` and
/// `input` map onto `pm`, `am`, `wm` and `input`.
async fn cmd(mut ctx: Context) -> i32 {
    let Some(service) = ctx.args().first().cloned() else {
        return ctx.fail(20, "usage: cmd SERVICE [ARGS...]").await;
    };
    let target = match service.as_str() {
        "package" => "pm",
        "activity" => "am",
        "window" => "wm",
        "input" => "input",
        other => return ctx.fail(20, format!("Can't find service: {other}")).await,
    };
    let Some(command) = ctx.device.command(target) else {
        return ctx.fail(20, format!("Can't find service: {service}")).await;
    };
    ctx.argv.remove(0);
    ctx.argv[0] = target.to_string();
    command.run(ctx).await
}

async fn pm(mut ctx: Context) -> i32 {
    let args = ctx.args().to_vec();
    let Some(verb) = args.first() else {
        return ctx
            .fail(
                1,
                "usage: pm install|uninstall|list packages|path|clear ...",
            )
            .await;
    };
    let rest = &args[1..];
    match verb.as_str() {
        "install" => install(&mut ctx, rest).await,
        "uninstall" => uninstall(&mut ctx, rest).await,
        "list" if rest.first().map(String::as_str) == Some("packages") => list_packages(&mut ctx, &rest[1..]).await,
        "path" => match rest.iter().find(|a| !a.starts_with('-')) {
            Some(p) => match ctx.device.packages.get(p) {
                Some(pkg) => {
                    ctx.out(format!("package:{}\n", pkg.apk_path)).await;
                    0
                }
                None => 1,
            },
            None => ctx.fail(1, "Error: no package specified").await,
        },
        "clear" => match rest.iter().find(|a| !a.starts_with('-')) {
            Some(p) if ctx.device.packages.get(p).is_some() => {
                let dir = format!("/data/data/{p}");
                let _ = ctx.device.fs.remove("/", &dir, true);
                let _ = ctx.device.fs.mkdir("/", &dir, true);
                ctx.out("Success\n").await;
                0
            }
            _ => {
                ctx.out("Failed\n").await;
                1
            }
        },
        "grant" | "revoke" => match rest.iter().find(|a| !a.starts_with('-')) {
            Some(p) if ctx.device.packages.get(p).is_some() => 0,
            Some(p) => ctx.fail(255, format!("Exception occurred while executing '{verb}':\njava.lang.IllegalArgumentException: Unknown package: {p}")).await,
            None => ctx.fail(255, "Error: no package specified").await,
        },
        other => ctx.fail(1, format!("Unknown command: {other}")).await,
    }
}

async fn list_packages(ctx: &mut Context, args: &[String]) -> i32 {
    let mut show_path = false;
    let mut third_party_only = false;
    let mut system_only = false;
    let mut filter = None;
    for a in args {
        match a.as_str() {
            "-f" => show_path = true,
            "-3" => third_party_only = true,
            "-s" => system_only = true,
            "--user" | "-U" | "-i" | "-e" | "-d" | "-u" => {}
            s if s.starts_with('-') => {}
            s => filter = Some(s.to_string()),
        }
    }
    let mut lines = Vec::new();
    if !third_party_only {
        for s in SYSTEM_PACKAGES {
            let path = format!("/system/framework/{s}.apk");
            lines.push((s.to_string(), path));
        }
    }
    if !system_only {
        for p in ctx.device.packages.list() {
            lines.push((p.package, p.apk_path));
        }
    }
    lines.sort();
    let mut out = String::new();
    for (name, path) in lines {
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        if show_path {
            out.push_str(&format!("package:{path}={name}\n"));
        } else {
            out.push_str(&format!("package:{name}\n"));
        }
    }
    ctx.out(out).await;
    0
}

/// `pm install [-r] [-g] [-t] [-d] [-i INSTALLER] [--user U] [-S SIZE] [PATH]`.
async fn install(ctx: &mut Context, args: &[String]) -> i32 {
    let mut size: Option<u64> = None;
    let mut allow_downgrade = false;
    let mut path = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-S" => match it.next().and_then(|s| s.parse().ok()) {
                Some(n) => size = Some(n),
                None => return failure(ctx, "INSTALL_FAILED_INVALID_APK: -S needs a size").await,
            },
            "-d" => allow_downgrade = true,
            "-i" | "--user" | "--install-location" | "--originating-uri" | "--referrer"
            | "--abi" | "-p" => {
                it.next();
            }
            s if s.starts_with('-') => {} // -r -g -t -f --dont-kill …: accepted, no effect here
            s => path = Some(s.to_string()),
        }
    }
    let device = ctx.device.clone();
    // Stage the APK in /data/app/vmdl<random>.tmp, as PackageManager does.
    let stage_dir = format!("/data/app/vmdl{}.tmp", rand::random::<u32>());
    let stage = format!("{stage_dir}/base.apk");
    let staged = match (size, &path) {
        (Some(n), _) => stage_from_stdin(ctx, &stage, n).await,
        (None, Some(p)) => stage_from_path(ctx, p, &stage),
        (None, None) => {
            return failure(
                ctx,
                "INSTALL_FAILED_INVALID_APK: no APK given (a path or -S SIZE)",
            )
            .await;
        }
    };
    let result = match staged {
        Ok(host) => finish_install(&device, &host, allow_downgrade),
        Err(e) => Err(e),
    };
    let _ = device.fs.remove("/", &stage_dir, true);
    match result {
        Ok(pkg) => {
            tracing::info!(package = %pkg.package, version = pkg.version_code, "installed");
            ctx.out("Success\n").await;
            0
        }
        Err(e) => failure(ctx, &e).await,
    }
}

async fn failure(ctx: &mut Context, what: &str) -> i32 {
    ctx.out(format!("Failure [{what}]\n")).await;
    1
}

fn storage_failure(e: FsError) -> String {
    match e {
        FsError::QuotaExceeded { .. } => "INSTALL_FAILED_INSUFFICIENT_STORAGE".into(),
        e => format!("INSTALL_FAILED_INTERNAL_ERROR: {e}"),
    }
}

async fn stage_from_stdin(
    ctx: &mut Context,
    stage: &str,
    size: u64,
) -> Result<std::path::PathBuf, String> {
    let device = ctx.device.clone();
    let mut quota = device.fs.quota_tracker();
    quota.add(size).map_err(storage_failure)?;
    let (_, host, mut file) = device.fs.create_file("/", stage).map_err(storage_failure)?;
    let mut left = size;
    let mut buf = vec![0u8; 64 * 1024];
    while left > 0 {
        let want = buf.len().min(left as usize);
        let n = ctx
            .io
            .stdin
            .read(&mut buf[..want])
            .await
            .map_err(|e| format!("INSTALL_FAILED_INTERNAL_ERROR: {e}"))?;
        if n == 0 {
            return Err(format!(
                "INSTALL_FAILED_INVALID_APK: stream ended after {} of {size} bytes",
                size - left
            ));
        }
        file.write_all(&buf[..n])
            .map_err(|e| format!("INSTALL_FAILED_INTERNAL_ERROR: {e}"))?;
        left -= n as u64;
    }
    Ok(host)
}

fn stage_from_path(ctx: &Context, path: &str, stage: &str) -> Result<std::path::PathBuf, String> {
    let device = &ctx.device;
    let mut src = device
        .fs
        .open_read(&ctx.cwd, path)
        .map_err(|e| format!("INSTALL_FAILED_INVALID_APK: {path}: {e}"))?;
    let len = src.metadata().map(|m| m.len()).unwrap_or(0);
    device
        .fs
        .quota_tracker()
        .add(len)
        .map_err(storage_failure)?;
    let (_, host, mut dst) = device.fs.create_file("/", stage).map_err(storage_failure)?;
    std::io::copy(&mut src, &mut dst).map_err(|e| format!("INSTALL_FAILED_INTERNAL_ERROR: {e}"))?;
    Ok(host)
}

/// Parses the staged APK, checks it against the device, and moves it into place.
fn finish_install(
    device: &crate::device::Device,
    staged: &std::path::Path,
    allow_downgrade: bool,
) -> Result<InstalledPackage, String> {
    let mut file =
        std::fs::File::open(staged).map_err(|e| format!("INSTALL_FAILED_INTERNAL_ERROR: {e}"))?;
    let info = playrack_apk::inspect(&mut file, &playrack_apk::Limits::default())
        .map_err(|e| format!("INSTALL_FAILED_INVALID_APK: {e}"))?;
    file.seek(SeekFrom::Start(0)).ok();
    if !is_package_name(&info.package) {
        return Err(format!(
            "INSTALL_FAILED_INVALID_APK: invalid package name {:?}",
            info.package
        ));
    }
    if let Some(min) = info.min_sdk
        && min > SDK_INT
    {
        return Err(format!(
            "INSTALL_FAILED_OLDER_SDK: Requires newer sdk version #{min} (current version is #{SDK_INT})"
        ));
    }
    let supported: Vec<&str> = CPU_ABILIST.split(',').collect();
    if !info.abis.is_empty() && !info.abis.iter().any(|a| supported.contains(&a.as_str())) {
        return Err(format!(
            "INSTALL_FAILED_NO_MATCHING_ABIS: Failed to extract native libraries, res=-113 (APK has {})",
            info.abis.join(",")
        ));
    }
    if let Some(old) = device.packages.get(&info.package)
        && old.version_code > info.version_code
        && !allow_downgrade
    {
        return Err(format!(
            "INSTALL_FAILED_VERSION_DOWNGRADE: Downgrade detected: Update version code {} is older than current {}",
            info.version_code, old.version_code
        ));
    }
    let apk_path = InstalledPackage::apk_path_for(&info.package);
    let app_dir = apk_path
        .rsplit_once('/')
        .map(|(d, _)| d.to_string())
        .unwrap_or_default();
    let fs = &device.fs;
    let _ = fs.remove("/", &app_dir, true);
    fs.mkdir("/", &app_dir, true).map_err(storage_failure)?;
    let (_, dest) = fs.writable_path("/", &apk_path).map_err(storage_failure)?;
    std::fs::rename(staged, &dest).map_err(|e| format!("INSTALL_FAILED_INTERNAL_ERROR: {e}"))?;
    for d in ["", "/files", "/cache"] {
        fs.mkdir("/", &format!("/data/data/{}{d}", info.package), true)
            .map_err(storage_failure)?;
    }
    let pkg = InstalledPackage {
        package: info.package.clone(),
        version_code: info.version_code,
        version_name: info.version_name.clone(),
        launchable_activity: info.launchable_activity.clone(),
        apk_path,
        label: info.label.clone(),
    };
    device
        .packages
        .insert(pkg.clone())
        .map_err(|e| format!("INSTALL_FAILED_INTERNAL_ERROR: {e}"))?;
    Ok(pkg)
}

async fn uninstall(ctx: &mut Context, args: &[String]) -> i32 {
    let keep_data = args.iter().any(|a| a == "-k");
    let mut it = args.iter();
    let mut package = None;
    while let Some(a) = it.next() {
        match a.as_str() {
            "--user" | "--versionCode" => {
                it.next();
            }
            s if s.starts_with('-') => {}
            s => package = Some(s.to_string()),
        }
    }
    let Some(package) = package else {
        return ctx.fail(1, "Error: package name not specified").await;
    };
    let device = ctx.device.clone();
    match device.packages.remove(&package) {
        Ok(Some(p)) => {
            device.force_stop(&package);
            if let Some((dir, _)) = p.apk_path.rsplit_once('/') {
                let _ = device.fs.remove("/", dir, true);
            }
            if !keep_data {
                let _ = device.fs.remove("/", &p.data_dir(), true);
            }
            ctx.out("Success\n").await;
            0
        }
        _ => failure(ctx, "DELETE_FAILED_INTERNAL_ERROR").await,
    }
}

/// Resolves `pkg/.Act` or `pkg/full.Act` to (package, fully qualified activity).
fn component(c: &str) -> Option<(String, String)> {
    let (pkg, act) = c.split_once('/')?;
    if pkg.is_empty() || act.is_empty() {
        return None;
    }
    let act = if let Some(short) = act.strip_prefix('.') {
        format!("{pkg}.{short}")
    } else {
        act.to_string()
    };
    Some((pkg.to_string(), act))
}

/// The `pkg/.Short` form Android prints for a component.
fn short_component(pkg: &str, activity: &str) -> String {
    match activity.strip_prefix(pkg) {
        Some(rest) if rest.starts_with('.') => format!("{pkg}/{rest}"),
        _ => format!("{pkg}/{activity}"),
    }
}

/// Before an app whose process is not running comes to the front, it loads its assets
/// ([`crate::device::Device::load_assets`]); true when it did (a cold start).
async fn cold_start(device: &std::sync::Arc<crate::device::Device>, package: &str) -> bool {
    if device.pid_of(package).is_some() || device.packages.get(package).is_none() {
        return false;
    }
    let d = device.clone();
    let p = package.to_string();
    match tokio::task::spawn_blocking(move || d.load_assets(&p)).await {
        Ok(Ok(_)) => true,
        Ok(Err(e)) => {
            tracing::warn!(package, error = %e, "loading the app's assets failed");
            true
        }
        Err(_) => true,
    }
}

async fn am(mut ctx: Context) -> i32 {
    let args = ctx.args().to_vec();
    let Some(verb) = args.first() else {
        return ctx.fail(1, "usage: am start|force-stop ...").await;
    };
    let device = ctx.device.clone();
    match verb.as_str() {
        "start" | "start-activity" => {
            let mut comp = None;
            let mut package = None;
            let mut stop_first = false;
            let mut wait = false;
            let mut it = args[1..].iter();
            let mut intent_desc = Vec::new();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "-n" => comp = it.next().cloned(),
                    "-S" => stop_first = true,
                    "-W" => wait = true,
                    "-R" | "-P" | "--activity-clear-task" | "--activity-new-task" => {}
                    "-a" => {
                        if let Some(v) = it.next() {
                            intent_desc.push(format!("act={v}"));
                        }
                    }
                    "-c" => {
                        if let Some(v) = it.next() {
                            intent_desc.push(format!("cat=[{v}]"));
                        }
                    }
                    "-d" | "-t" | "-f" | "--user" | "--display" | "--windowingMode" => {
                        it.next();
                    }
                    "--es" | "--ei" | "--ez" | "--el" | "--ef" | "--eu" => {
                        it.next();
                        it.next();
                    }
                    s if s.starts_with('-') => {}
                    s => package = Some(s.to_string()),
                }
            }
            let resolved = match (&comp, &package) {
                (Some(c), _) => component(c),
                // `am start PKG` with an implicit launcher intent.
                (None, Some(p)) => device
                    .packages
                    .get(p)
                    .and_then(|i| Some((p.clone(), i.launchable_activity?))),
                (None, None) => None,
            };
            let Some((pkg, activity)) = resolved else {
                return ctx
                    .fail(1, "Error: Activity not started, unable to resolve Intent")
                    .await;
            };
            let short = short_component(&pkg, &activity);
            intent_desc.push(format!("cmp={short}"));
            ctx.out(format!(
                "Starting: Intent {{ {} }}\n",
                intent_desc.join(" ")
            ))
            .await;
            if stop_first {
                device.force_stop(&pkg);
            }
            let started = std::time::Instant::now();
            let cold = cold_start(&device, &pkg).await;
            match device.launch(&pkg, Some(&activity)) {
                Ok(_) => {
                    if wait {
                        // `-W`: ActivityManager answers once the activity has drawn its
                        // first frame.
                        let ms = started.elapsed().as_millis();
                        let state = if cold { "COLD" } else { "HOT" };
                        ctx.out(format!(
                            "Status: ok\nLaunchState: {state}\nActivity: {short}\nTotalTime: {ms}\nWaitTime: {ms}\nComplete\n"
                        ))
                        .await;
                    }
                    0
                }
                Err(_) => {
                    ctx.err(format!(
                        "Error type 3\nError: Activity class {{{pkg}/{activity}}} does not exist.\n"
                    ))
                    .await;
                    1
                }
            }
        }
        // `am crash [--user N] PACKAGE|PID`: induces a VM crash in the app's process.
        "crash" => {
            let mut target = None;
            let mut it = args[1..].iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--user" => {
                        it.next();
                    }
                    t => target = Some(t.to_string()),
                }
            }
            let Some(target) = target else {
                return ctx.fail(1, "Error: no package or pid specified").await;
            };
            match device.crash(&target) {
                Some(_) => 0,
                None => {
                    ctx.fail(255, format!("Error: no process found for {target}"))
                        .await
                }
            }
        }
        "force-stop" | "kill" => match args.get(1) {
            Some(p) => {
                device.force_stop(p);
                0
            }
            None => ctx.fail(1, "Error: no package specified").await,
        },
        other => {
            ctx.fail(1, format!("Error: unknown command '{other}'"))
                .await
        }
    }
}

/// `monkey -p PKG [-c CATEGORY]… [--pct-… N]… COUNT`: with COUNT ≥ 1 it launches the
/// package's launcher activity, which is how tools start an app without knowing it.
async fn monkey(mut ctx: Context) -> i32 {
    let args = ctx.args().to_vec();
    let mut packages = Vec::new();
    let mut count: Option<u64> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-p" => packages.extend(it.next().cloned()),
            "-c" | "-s" | "--throttle" | "--seed" => {
                it.next();
            }
            s if s.starts_with("--pct-") => {
                it.next();
            }
            s if s.starts_with('-') => {}
            s => count = s.parse().ok(),
        }
    }
    let device = ctx.device.clone();
    let target = packages.iter().find_map(|p| {
        let info = device.packages.get(p)?;
        Some((p.clone(), info.launchable_activity?))
    });
    let Some((pkg, activity)) = target else {
        ctx.err("** No activities found to run, monkey aborted.\n")
            .await;
        return 251;
    };
    let Some(count) = count else {
        return ctx.fail(1, "Error: event count not specified").await;
    };
    if count >= 1 {
        cold_start(&device, &pkg).await;
    }
    if count >= 1 && device.launch(&pkg, Some(&activity)).is_err() {
        ctx.err("** No activities found to run, monkey aborted.\n")
            .await;
        return 251;
    }
    ctx.out(format!(
        "  bash arg: -p\n  bash arg: {pkg}\nEvents injected: {count}\n## Network stats: elapsed time=1ms (0ms mobile, 0ms wifi, 1ms not connected)\n"
    ))
    .await;
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components() {
        assert_eq!(
            component("com.a.b/.Main"),
            Some(("com.a.b".into(), "com.a.b.Main".into()))
        );
        assert_eq!(
            component("com.a.b/x.y.Main"),
            Some(("com.a.b".into(), "x.y.Main".into()))
        );
        assert_eq!(component("com.a.b"), None);
        assert_eq!(short_component("com.a.b", "com.a.b.Main"), "com.a.b/.Main");
        assert_eq!(short_component("com.a.b", "x.Main"), "com.a.b/x.Main");
    }
}
