//! `logcat`: reads the device's log ([`crate::device::log`]) as Android's `logcat` does.
//!
//! Options: `-d` (dump and exit), `-t N` (the last N lines, then exit), `-T N` (the last N
//! lines, then follow), `-c` (clear), `-s` (silence every tag not named), `-v FORMAT`
//! (`brief`, `long`, `process`, `raw`, `tag`, `thread`, `threadtime` — the default —, `time`),
//! `-b BUFFER` (accepted: one buffer here), `--pid=PID`, and filter specs `TAG[:PRIORITY]`
//! (`*:W` sets the default). Without `-d`/`-t` it follows until the reader goes away. The
//! line formats are logcat's (`system/logging/liblog/logprint.cpp`).
//!
//! Also `log [-p PRIORITY] [-t TAG] MESSAGE`, the shell's way to write to the log (toolbox's
//! `log`: priority `i` and tag `log` unless given), which the shell's user owns (pid of the
//! shell).

use super::Context;
use crate::device::log::{Entry, Priority};

/// How lines are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Brief,
    Long,
    Process,
    Raw,
    Tag,
    Thread,
    ThreadTime,
    Time,
}

/// Which entries show: the first spec naming the tag decides, else the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub default: Priority,
    pub tags: Vec<(String, Priority)>,
    pub pid: Option<u32>,
}

impl Filter {
    pub fn allows(&self, e: &Entry) -> bool {
        if self.pid.is_some_and(|p| p != e.pid) {
            return false;
        }
        let min = self
            .tags
            .iter()
            .find(|(t, _)| *t == e.tag)
            .map_or(self.default, |(_, p)| *p);
        min != Priority::Silent && e.priority >= min
    }
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub clear: bool,
    /// Exit after printing what is there.
    pub dump: bool,
    /// Only the last N lines of what is there.
    pub tail: Option<usize>,
    pub format: Format,
    pub filter: Filter,
}

/// Parses logcat's arguments; the error is what logcat says.
pub fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        clear: false,
        dump: false,
        tail: None,
        format: Format::ThreadTime,
        filter: Filter {
            default: Priority::Verbose,
            tags: Vec::new(),
            pid: None,
        },
    };
    let mut silent = false;
    let mut it = args.iter();
    let count = |v: Option<&String>, opt: &str| -> Result<usize, String> {
        v.and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("-{opt} \"{}\" not a positive count", v.map_or("", |v| v)))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "-d" => o.dump = true,
            "-c" => o.clear = true,
            "-s" => silent = true,
            "-t" => {
                o.tail = Some(count(it.next(), "t")?);
                o.dump = true;
            }
            "-T" => o.tail = Some(count(it.next(), "T")?),
            "-v" => {
                let v = it.next().map(String::as_str).unwrap_or("");
                o.format = match v {
                    "brief" => Format::Brief,
                    "long" => Format::Long,
                    "process" => Format::Process,
                    "raw" => Format::Raw,
                    "tag" => Format::Tag,
                    "thread" => Format::Thread,
                    "threadtime" => Format::ThreadTime,
                    "time" => Format::Time,
                    _ => return Err(format!("Invalid parameter \"{v}\" to -v.")),
                };
            }
            "-b" => match it.next().map(String::as_str) {
                Some("main" | "system" | "crash" | "default" | "all" | "radio" | "events") => {}
                other => return Err(format!("unknown buffer \"{}\"", other.unwrap_or(""))),
            },
            "--pid" => o.filter.pid = Some(pid(it.next().map(String::as_str))?),
            s if s.starts_with("--pid=") => o.filter.pid = Some(pid(Some(&s[6..]))?),
            s if s.starts_with('-') => return Err(format!("invalid option -- '{}'", &s[1..])),
            spec => {
                let (tag, p) = match spec.rsplit_once(':') {
                    Some((t, p)) => {
                        let mut chars = p.chars();
                        let prio = match (chars.next(), chars.next()) {
                            (Some(c), None) => Priority::from_letter(c),
                            _ => None,
                        };
                        (
                            t,
                            prio.ok_or_else(|| format!("Invalid filter expression '{spec}'"))?,
                        )
                    }
                    None => (spec, Priority::Verbose),
                };
                if tag.is_empty() {
                    return Err(format!("Invalid filter expression '{spec}'"));
                }
                if tag == "*" {
                    o.filter.default = p;
                } else {
                    o.filter.tags.push((tag.to_owned(), p));
                }
            }
        }
    }
    if silent && !args.iter().any(|a| a.starts_with("*:")) {
        o.filter.default = Priority::Silent;
    }
    Ok(o)
}

fn pid(v: Option<&str>) -> Result<u32, String> {
    v.and_then(|v| v.parse::<u32>().ok())
        .ok_or_else(|| format!("--pid \"{}\" is not a process id", v.unwrap_or("")))
}

/// One entry as `format` prints it, with its newline.
pub fn line(e: &Entry, format: Format) -> String {
    let p = e.priority.letter();
    let (tag, msg, pid, tid) = (&e.tag, &e.message, e.pid, e.tid);
    match format {
        Format::Brief => format!("{p}/{tag:<8}({pid:5}): {msg}\n"),
        Format::Long => format!("[ {} {pid:5}:{tid:5} {p}/{tag:<8} ]\n{msg}\n\n", date(e)),
        Format::Process => format!("{p}({pid:5}) {msg}  ({tag:<8})\n"),
        Format::Raw => format!("{msg}\n"),
        Format::Tag => format!("{p}/{tag:<8}: {msg}\n"),
        Format::Thread => format!("{p}({pid:5}:{tid:5}) {msg}\n"),
        Format::ThreadTime => format!("{} {pid:5} {tid:5} {p} {tag:<8}: {msg}\n", date(e)),
        Format::Time => format!("{} {p}/{tag:<8}({pid:5}): {msg}\n", date(e)),
    }
}

/// `MM-DD HH:MM:SS.mmm` (the device's clock is UTC).
fn date(e: &Entry) -> String {
    let t = humantime::format_rfc3339_millis(e.time).to_string();
    // 2026-12-04T02:13:41.123Z
    format!("{} {}", &t[5..10], &t[11..23])
}

/// The `logcat` command.
pub async fn logcat(mut ctx: Context) -> i32 {
    let o = match parse(ctx.args()) {
        Ok(o) => o,
        Err(e) => return ctx.fail(1, e).await,
    };
    let log = &ctx.device.log;
    if o.clear {
        log.clear();
        return 0;
    }
    let (past, mut rx) = log.tail(o.tail);
    let mut out = String::new();
    for e in past.iter().filter(|e| o.filter.allows(e)) {
        out.push_str(&line(e, o.format));
    }
    if !out.is_empty() && ctx.io.stdout.write(out.as_bytes()).await.is_err() {
        return 0;
    }
    if o.dump {
        return 0;
    }
    loop {
        match rx.recv().await {
            Ok(e) if o.filter.allows(&e) => {
                if ctx
                    .io
                    .stdout
                    .write(line(&e, o.format).as_bytes())
                    .await
                    .is_err()
                {
                    return 0;
                }
            }
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return 0,
        }
    }
}

/// toolbox `log`.
pub async fn log(mut ctx: Context) -> i32 {
    const USAGE: &str = "USAGE: log [-p priorityChar] [-t tag] message\n\tpriorityChar should be one of:\n\t\tv,d,i,w,e\n";
    let mut priority = Priority::Info;
    let mut tag = "log".to_owned();
    let mut words: Vec<String> = Vec::new();
    let mut it = ctx.args().to_vec().into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-p" => match it.next().and_then(|p| {
                let mut c = p.chars();
                match (c.next(), c.next()) {
                    (Some(c), None) => Priority::from_letter(c)
                        .filter(|p| *p != Priority::Silent && *p != Priority::Fatal),
                    _ => None,
                }
            }) {
                Some(p) => priority = p,
                None => {
                    ctx.err(USAGE).await;
                    return 255;
                }
            },
            "-t" => match it.next() {
                Some(t) if !t.is_empty() => tag = t,
                _ => {
                    ctx.err(USAGE).await;
                    return 255;
                }
            },
            _ => {
                words.push(a);
                words.extend(it.by_ref());
            }
        }
    }
    if words.is_empty() {
        ctx.err(USAGE).await;
        return 255;
    }
    ctx.device
        .log
        .write(SHELL_PID, priority, &tag, &words.join(" "));
    0
}

/// The pid `log` lines carry: the adb shell's.
const SHELL_PID: u32 = 4242;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    fn entry(tag: &str, p: Priority, pid: u32) -> Entry {
        Entry {
            time: SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_350_421_123),
            pid,
            tid: pid,
            priority: p,
            tag: tag.into(),
            message: "hello".into(),
        }
    }

    #[test]
    fn options_and_filters() {
        let o = parse(&args("-d -v brief ActivityManager:I *:S")).unwrap();
        assert!(o.dump && o.tail.is_none() && o.format == Format::Brief);
        assert!(
            o.filter
                .allows(&entry("ActivityManager", Priority::Warn, 1))
        );
        assert!(
            !o.filter
                .allows(&entry("ActivityManager", Priority::Debug, 1))
        );
        assert!(!o.filter.allows(&entry("Other", Priority::Fatal, 1)));

        let o = parse(&args("-s AndroidRuntime")).unwrap();
        assert!(!o.dump);
        assert!(
            o.filter
                .allows(&entry("AndroidRuntime", Priority::Error, 1))
        );
        assert!(
            !o.filter
                .allows(&entry("ActivityManager", Priority::Error, 1))
        );

        let o = parse(&args("-t 5 --pid=42")).unwrap();
        assert_eq!((o.dump, o.tail), (true, Some(5)));
        assert!(o.filter.allows(&entry("X", Priority::Verbose, 42)));
        assert!(!o.filter.allows(&entry("X", Priority::Verbose, 43)));
        assert_eq!(parse(&args("-T 3")).unwrap().tail, Some(3));
        assert!(!parse(&args("-T 3")).unwrap().dump);
        assert!(parse(&args("-b crash *:W")).is_ok());

        for (bad, said) in [
            ("-v fancy", "Invalid parameter \"fancy\" to -v."),
            ("-x", "invalid option -- 'x'"),
            ("-t 0", "-t \"0\" not a positive count"),
            ("-t", "-t \"\" not a positive count"),
            ("Tag:Q", "Invalid filter expression 'Tag:Q'"),
            (":I", "Invalid filter expression ':I'"),
            ("--pid=x", "--pid \"x\" is not a process id"),
            ("-b nope", "unknown buffer \"nope\""),
        ] {
            assert_eq!(parse(&args(bad)).unwrap_err(), said, "{bad}");
        }
    }

    #[test]
    fn lines_are_printed_as_logcat_prints_them() {
        let e = entry("Tag", Priority::Info, 1234);
        // 1_796_352_821.123 s after the epoch is 2026-12-04 02:13:41.123 UTC.
        assert_eq!(
            line(&e, Format::ThreadTime),
            "12-04 02:13:41.123  1234  1234 I Tag     : hello\n"
        );
        assert_eq!(line(&e, Format::Brief), "I/Tag     ( 1234): hello\n");
        assert_eq!(line(&e, Format::Tag), "I/Tag     : hello\n");
        assert_eq!(line(&e, Format::Raw), "hello\n");
        assert_eq!(
            line(&e, Format::Time),
            "12-04 02:13:41.123 I/Tag     ( 1234): hello\n"
        );
    }
}
