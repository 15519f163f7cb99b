//! The PC client (`playrack-play`) as a player runs it, against a real controller, the agent
//! and a virtual device: headless, `--probe 10` prints ten touch-to-screen latencies as JSON,
//! with the game's Opus frames decoded meanwhile (no sound card here: they are decoded and
//! counted, not played); in a window on a virtual X display (Debian's Xvfb), a screenshot of
//! the window (xwd) shows the game's picture, a synthetic click on it (xdotool) raises the
//! game's tap counter, which the next screenshot shows, and F3 draws the figures panel over the
//! picture and takes it away; a SIGTERM leaves the play and the client exits cleanly.

mod support;

#[allow(unused_imports)]
use playrack_test_support as ctl;
#[path = "support/stack.rs"]
mod stack;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use android_injector::game::{LumaRef, read_tap_counter};
use stack::{Options, stack};
use support::{Process, play_binary};

/// An X display of Xvfb's own, gone with the guard.
struct Display {
    _xvfb: Process,
    name: String,
}

impl Display {
    fn start() -> Display {
        let mut cmd = Command::new("Xvfb");
        // -displayfd: Xvfb picks a free display and writes its number on the descriptor
        cmd.args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "800x900x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        let mut xvfb = Process::spawn("Xvfb", cmd);
        let mut line = String::new();
        BufReader::new(xvfb.child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("Xvfb says its display");
        let n: u32 = line.trim().parse().expect("a display number");
        Display {
            _xvfb: xvfb,
            name: format!(":{n}"),
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Option<String> {
        let out = Command::new(program)
            .args(args)
            .env("DISPLAY", &self.name)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The window's luma, from an `xwd` dump of it.
    fn screenshot(&self, window: &str) -> Option<Luma> {
        let out = Command::new("xwd")
            .args(["-silent", "-id", window])
            .env("DISPLAY", &self.name)
            .output()
            .ok()?;
        out.status.success().then(|| xwd_luma(&out.stdout))?
    }
}

struct Luma {
    data: Vec<u8>,
    width: usize,
    height: usize,
}

impl Luma {
    fn as_ref(&self) -> LumaRef<'_> {
        LumaRef {
            data: &self.data,
            width: self.width,
            height: self.height,
            stride: self.width,
        }
    }
}

/// The luma of an XWD dump (ZPixmap, 32 bits a pixel, as Xvfb's 24-bit screen gives).
fn xwd_luma(b: &[u8]) -> Option<Luma> {
    let field = |i: usize| -> Option<u32> {
        Some(u32::from_be_bytes(
            b.get(i * 4..i * 4 + 4)?.try_into().ok()?,
        ))
    };
    let (header, format, width, height) = (field(0)?, field(2)?, field(4)?, field(5)?);
    let (byte_order, bpp, line, ncolors) = (field(7)?, field(11)?, field(12)?, field(19)?);
    if format != 2 || bpp != 32 {
        return None;
    }
    let start = header as usize + ncolors as usize * 12;
    let (width, height, line) = (width as usize, height as usize, line as usize);
    let pixels = b.get(start..start + line * height)?;
    let mut data = Vec::with_capacity(width * height);
    for row in 0..height {
        for col in 0..width {
            let p: [u8; 4] = pixels[row * line + col * 4..][..4].try_into().ok()?;
            let v = if byte_order == 0 {
                u32::from_le_bytes(p)
            } else {
                u32::from_be_bytes(p)
            };
            let (r, g, bl) = ((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
            data.push(((299 * r + 587 * g + 114 * bl) / 1000) as u8);
        }
    }
    Some(Luma {
        data,
        width,
        height,
    })
}

/// The share of the figures panel's area (from its corner, as small as its fewest lines make
/// it) in the panel's colours: `overlay::PANEL` (0x202030, luma 33) and its text (0xf0f0f0).
fn panel_share(l: &Luma) -> f64 {
    let (x0, y0, x1, y1) = (10, 10, 200.min(l.width), 120.min(l.height));
    let mut hits = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            hits += usize::from(matches!(l.data[y * l.width + x], 33 | 240));
        }
    }
    hits as f64 / ((x1 - x0) * (y1 - y0)).max(1) as f64
}

/// What the client wrote on its standard error (once it has exited).
fn stderr_of(client: &mut Process) -> String {
    let mut err = String::new();
    if let Some(mut e) = client.child.stderr.take() {
        e.read_to_string(&mut err).ok();
    }
    err
}

/// Waits (with a deadline) until the blocking `f` gives something: the shared poll loop, run
/// from inside `block_in_place` (screenshots and xdotool block).
fn until<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let poll = ctl::wait_value(what, limit, || {
        let v = f().ok_or("not yet");
        async move { v }
    });
    tokio::runtime::Handle::current().block_on(poll)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pc_client_probes_headless_and_plays_in_a_window() {
    let st = stack(Options {
        serial: "RK-E2E-PC".into(),
        ..Options::default()
    })
    .await;
    let url = format!("{}/play/{}", st.ctl.url, st.link.code);
    let play = play_binary();

    // Headless, ten probes: one JSON object with every latency.
    let figures = support::client_probes(&play, &url, &ctl::device(1), 10).await;
    assert_eq!(figures["n"], 10, "{figures}");
    let samples = figures["samples"].as_array().expect("samples");
    assert!(
        samples
            .iter()
            .all(|s| s.as_f64().is_some_and(|v| (0.0..2000.0).contains(&v))),
        "{figures}"
    );
    assert!(figures["p50"].as_f64() <= figures["p99"].as_f64());
    // the virtual device sends the game's sound (48 kHz Opus, a frame each 20 ms)
    assert!(
        figures["audioFrames"].as_u64().is_some_and(|n| n > 0),
        "{figures}"
    );

    // In a window: the game shows, and a click on it counts as a tap.
    let display = Display::start();
    let mut cmd = Command::new(&play);
    cmd.args(["--size", "360x640", "--device-id", &ctl::device(2), &url])
        .env("DISPLAY", &display.name)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut client = Process::spawn("playrack-play", cmd);
    let window = tokio::task::block_in_place(|| {
        until(
            "the window to say it plays",
            Duration::from_secs(60),
            || {
                if let Ok(Some(status)) = client.child.try_wait() {
                    let err = stderr_of(&mut client);
                    panic!("playrack-play exited with {status} before playing: {err}");
                }
                display
                    .run("xdotool", &["search", "--name", "playing$"])
                    .and_then(|s| s.lines().next().map(str::to_owned))
            },
        )
    });
    let taps = |d: &Display| {
        d.screenshot(&window)
            .and_then(|l| read_tap_counter(l.as_ref()))
    };
    let before = tokio::task::block_in_place(|| {
        until("a screenshot of the game", Duration::from_secs(30), || {
            taps(&display)
        })
    });
    assert_eq!(before, 0, "a fresh player's game");
    // the lower half of the picture is background: a tap there only counts
    display
        .run(
            "xdotool",
            &["mousemove", "--window", &window, "180", "480", "click", "1"],
        )
        .expect("xdotool clicks");
    tokio::task::block_in_place(|| {
        until("the tap counter to show 1", Duration::from_secs(30), || {
            (taps(&display) == Some(1)).then_some(())
        })
    });
    assert!(client.running(), "the client still plays");
    // F3 draws the figures panel at the window's top-left corner, and F3 again takes it away.
    let panel = |d: &Display| d.screenshot(&window).map(|l| panel_share(&l));
    let without = tokio::task::block_in_place(|| {
        until(
            "a screenshot without the panel",
            Duration::from_secs(30),
            || panel(&display),
        )
    });
    assert!(without < 0.5, "the panel's colours before F3: {without}");
    for (shown, what) in [(true, "the panel to show"), (false, "the panel to go")] {
        // keys go to the window under the pointer (no window manager: focus follows it); Xvfb
        // without a window manager now and then loses a key sent before the focus settles, so
        // F3 is pressed again while the panel is still as it was 3 s after a press
        let mut pressed: Option<std::time::Instant> = None;
        tokio::task::block_in_place(|| {
            until(what, Duration::from_secs(30), || {
                if panel(&display).is_some_and(|share| (share > 0.9) == shown) {
                    return Some(());
                }
                if pressed.is_none_or(|t| t.elapsed() >= Duration::from_secs(3)) {
                    let _ = display.run("xdotool", &["windowfocus", "--sync", &window]);
                    display
                        .run("xdotool", &["key", "F3"])
                        .expect("xdotool keys");
                    pressed = Some(std::time::Instant::now());
                }
                None
            })
        });
    }
    assert!(client.running(), "the client still plays");
    // A SIGTERM (as Ctrl+C) leaves the play and closes the window.
    // SAFETY: kill(2) of the child this test started.
    assert_eq!(
        unsafe { libc::kill(client.child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let status = tokio::task::block_in_place(|| {
        until("the client to exit", Duration::from_secs(30), || {
            client.child.try_wait().ok().flatten()
        })
    });
    let err = stderr_of(&mut client);
    assert!(
        status.success(),
        "playrack-play exited with {status}: {err}"
    );
    st.stop().await;
}
