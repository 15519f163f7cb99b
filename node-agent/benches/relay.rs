//! What relaying costs the agent: CPU time per second of relayed 720p H.264 (4 Mb/s, 30 fps)
//! with N concurrent streams, next to a plain UDP send of the same bytes in the same run.
//!
//! The relay side is the real [`Engine`] (str0m: RTP packetization, SRTP, pacing, RTCP) on its
//! own thread with one UDP socket, as in the agent; every stream has a real str0m peer on
//! loopback (on another thread) that completes ICE and DTLS and receives the frames. The
//! frames are encoded once up front with the virtual device's openh264 encoder and replayed
//! in a loop, so only relaying is measured. The relay thread waits as the agent's shell does
//! (for a datagram, the engine's next deadline or the next frame). CPU time is its own
//! (`CLOCK_THREAD_CPUTIME_ID`); the baseline thread sends each frame's bytes as ≤ 1,200-byte
//! datagrams to a sink socket per stream, at the same pace.
//!
//! Each N gives a figure: CPU ms per stream-second, sampled over half-second windows, beside the
//! raw send's. `playrack-bench relay`, or `cargo bench -p node-agent --bench relay`;
//! `RELAY_BENCH_STREAMS=1,4,8`, `RELAY_BENCH_SECS=5` (measured seconds per N); `--short`: 2
//! streams for 1 s. `RELAY_BENCH_SENDTO=1` sends the relay's datagrams one `sendto` each
//! instead of the agent's `sendmmsg` batches (the lever's A/B).

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use android_injector::encode::video::{VideoConfig, VideoEncoder};
use android_injector::game::{Game, GameConfig, I420};
use node_agent::relay::VideoEvent;
use node_agent::relay::batch::Batch;
use node_agent::relay::engine::{Engine, Output};
use playrack_client::media::{Media, MediaEvent, Offer, Poll};
use playrack_test_support::figure::Figure;
use playrack_wire::signaling::PeerRole;

const WIDTH: u32 = 720;
const HEIGHT: u32 = 1280;
const FPS: u32 = 30;
const BIT_RATE: u32 = 4_000_000;

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Two seconds of the synthetic game at 720p, encoded: (key, Annex-B) per frame, and the
/// SPS/PPS config.
fn encode_clip() -> (Vec<u8>, Vec<(bool, Vec<u8>)>) {
    let mut game = Game::new(
        GameConfig {
            package: "com.playrack.bench".into(),
            width: WIDTH,
            height: HEIGHT,
            fps: FPS,
        },
        0,
    );
    let mut enc = VideoEncoder::new(VideoConfig {
        width: WIDTH,
        height: HEIGHT,
        bit_rate: BIT_RATE,
        fps: FPS as f32,
    })
    .expect("encoder");
    let mut config = Vec::new();
    let mut frames = Vec::new();
    let mut f = I420::new(WIDTH as usize, HEIGHT as usize);
    let frame_us = 1_000_000 / FPS as u64;
    for i in 0..(2 * FPS as u64) {
        let t = i * frame_us;
        if i % 5 == 0 {
            let (x, y) = (
                (i * 37 % WIDTH as u64) as i32,
                (i * 53 % HEIGHT as u64) as i32,
            );
            game.touch(0, 1, x, y, t);
            game.touch(1, 1, x, y, t);
        }
        game.render(&mut f, t);
        // Film-grain noise, so the encoder spends its whole budget like a busy game scene
        // (the synthetic game alone codes to about 1.4 Mb/s at 720p).
        let mut seed = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        for px in f.y.iter_mut() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *px = px.saturating_add((seed & 15) as u8);
        }
        for p in enc.encode(&f, t).expect("encode") {
            if p.config {
                config = p.data;
            } else {
                frames.push((p.key, p.data));
            }
        }
    }
    (config, frames)
}

/// A receiving peer (the player's side): the native player's media core on a non-blocking
/// socket, video only (what the bench measures).
struct Client {
    media: Media,
    socket: UdpSocket,
}

impl Client {
    fn new() -> (Client, String) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        let offer = Offer {
            audio: false,
            ..Offer::default()
        };
        let (media, sdp) = Media::offer(socket.local_addr().unwrap(), offer, Instant::now());
        (Client { media, socket }, sdp)
    }

    fn accept(&mut self, answer: &str) {
        self.media.accept_answer(answer).unwrap();
    }

    /// Reads what arrived and drives the peer; counts frames.
    fn poll(&mut self, buf: &mut [u8], frames: &AtomicU64, connected: &AtomicU64, was: &mut bool) {
        while let Ok((n, source)) = self.socket.recv_from(buf) {
            self.media.receive(Instant::now(), source, &buf[..n]);
        }
        let _ = self.media.timeout(Instant::now());
        loop {
            match self.media.poll() {
                Ok(Poll::Timeout(_)) | Err(_) => break,
                Ok(Poll::Transmit {
                    destination,
                    contents,
                }) => {
                    let _ = self.socket.send_to(&contents, destination);
                }
                Ok(Poll::Event(MediaEvent::Connected)) if !*was => {
                    *was = true;
                    connected.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Poll::Event(MediaEvent::Video(_))) => {
                    frames.fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
            }
        }
    }
}

struct Figures {
    relay_cpu: Duration,
    raw_cpu: Duration,
    secs: f64,
    frames_received: u64,
    bytes: u64,
    /// Per measured window: CPU ms per stream-second.
    relay_windows: Vec<f64>,
    raw_windows: Vec<f64>,
}

/// Sends the whole batch on the non-blocking `socket` (waiting out a full buffer, dropping a
/// datagram the socket refuses), as the agent's relay does.
fn send(socket: &UdpSocket, batch: &mut Batch) {
    use std::os::fd::AsRawFd;
    while !batch.is_empty() {
        match batch.send(socket.as_raw_fd()) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::yield_now(),
            Err(_) => batch.drop_next(),
        }
    }
}

/// Blocks until `socket` has a datagram to read or `limit` has passed.
fn wait_readable(socket: &UdpSocket, limit: Duration) {
    use std::os::fd::AsRawFd;
    let mut fd = libc::pollfd {
        fd: socket.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ts = libc::timespec {
        tv_sec: limit.as_secs() as libc::time_t,
        tv_nsec: limit.subsec_nanos() as libc::c_long,
    };
    // SAFETY: one pollfd we own, a timespec on the stack, no signal mask.
    unsafe { libc::ppoll(&mut fd, 1, &ts, std::ptr::null()) };
}

fn run(n: usize, secs: f64, window: f64, config: &[u8], clip: &[(bool, Vec<u8>)]) -> Figures {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_nonblocking(true).unwrap();
    let host = socket.local_addr().unwrap();
    let mut engine = Engine::new(host, Instant::now());
    let mut clients = Vec::new();
    for i in 0..n {
        let session = format!("ses_{i}");
        engine.add_session(&session, WIDTH as u16, HEIGHT as u16, Instant::now());
        let (mut c, offer) = Client::new();
        let (_, answer) = engine
            .add_peer(&session, PeerRole::Player, &offer, Instant::now())
            .expect("peer");
        c.accept(&answer);
        clients.push(c);
    }
    let frames = Arc::new(AtomicU64::new(0));
    let connected = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let client_thread = {
        let (frames, connected, stop) = (frames.clone(), connected.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 2048];
            let mut was = vec![false; clients.len()];
            while !stop.load(Ordering::Relaxed) {
                for (c, w) in clients.iter_mut().zip(was.iter_mut()) {
                    c.poll(&mut buf, &frames, &connected, w);
                }
                std::thread::sleep(Duration::from_micros(500));
            }
        })
    };

    // The relay loop: frames at 30 fps to every session, datagrams in, outputs out.
    let relay = |engine: &mut Engine, until: Instant, frame_no: &mut u64, measure: bool| {
        let mut buf = vec![0u8; 2048];
        let mut batch = Batch::new();
        let one_by_one = std::env::var_os("RELAY_BENCH_SENDTO").is_some();
        let frame_dt = Duration::from_secs(1) / FPS;
        let mut next_frame = Instant::now();
        let cpu0 = thread_cpu();
        let mut bytes = 0u64;
        while Instant::now() < until {
            let now = Instant::now();
            if now >= next_frame {
                next_frame += frame_dt;
                let (key, data) = &clip[(*frame_no as usize) % clip.len()];
                let pts_us = *frame_no * 1_000_000 / FPS as u64;
                for i in 0..n {
                    let session = format!("ses_{i}");
                    if *key {
                        engine.video(now, &session, VideoEvent::Config(config.to_vec()));
                    }
                    engine.video(
                        now,
                        &session,
                        VideoEvent::Frame {
                            pts_us,
                            key: *key,
                            data: data.clone(),
                            last: true,
                        },
                    );
                    bytes += data.len() as u64;
                }
                *frame_no += 1;
            }
            while let Ok((len, source)) = socket.recv_from(&mut buf) {
                engine.receive(Instant::now(), source, &buf[..len]);
            }
            if Instant::now() >= engine.next_deadline() {
                engine.timeout(Instant::now());
            }
            // As the agent's shell sends: a run of datagrams per `sendmmsg`.
            while let Some(out) = engine.poll() {
                if let Output::Transmit {
                    destination,
                    contents,
                } = out
                {
                    if one_by_one {
                        let _ = socket.send_to(&contents, destination);
                        continue;
                    }
                    batch.push(destination, contents);
                    if batch.is_full() {
                        send(&socket, &mut batch);
                    }
                }
            }
            send(&socket, &mut batch);
            // As the agent's shell waits (`relay::run`, on tokio's epoll): until a datagram
            // arrives, the engine's deadline (never sooner than 500 µs ahead) or the next frame
            // (which the shell's media channel would bring).
            let now = Instant::now();
            let wake = engine
                .next_deadline()
                .max(now + Duration::from_micros(500))
                .min(next_frame);
            if wake > now {
                wait_readable(&socket, wake - now);
            }
        }
        let _ = measure;
        (thread_cpu() - cpu0, bytes)
    };

    // Connect everyone (not measured), then measure.
    let mut frame_no = 0u64;
    let deadline = Instant::now() + Duration::from_secs(20);
    while connected.load(Ordering::Relaxed) < n as u64 && Instant::now() < deadline {
        relay(
            &mut engine,
            Instant::now() + Duration::from_millis(100),
            &mut frame_no,
            false,
        );
    }
    assert_eq!(
        connected.load(Ordering::Relaxed),
        n as u64,
        "peers connected"
    );
    // start the measured part on a key frame
    frame_no = frame_no.div_ceil(clip.len() as u64) * clip.len() as u64;
    relay(
        &mut engine,
        Instant::now() + Duration::from_secs(1),
        &mut frame_no,
        false,
    );
    let received0 = frames.load(Ordering::Relaxed);
    let started = Instant::now();
    let (mut relay_cpu, mut bytes) = (Duration::ZERO, 0);
    let mut relay_windows = Vec::new();
    while started.elapsed().as_secs_f64() < secs {
        let window_started = Instant::now();
        let (cpu, b) = relay(
            &mut engine,
            window_started + Duration::from_secs_f64(window.min(secs)),
            &mut frame_no,
            true,
        );
        relay_windows.push(per_stream_second(cpu, window_started.elapsed(), n));
        relay_cpu += cpu;
        bytes += b;
    }
    let secs = started.elapsed().as_secs_f64();
    let frames_received = frames.load(Ordering::Relaxed) - received0;
    stop.store(true, Ordering::Relaxed);
    client_thread.join().unwrap();

    // The baseline: the same bytes, chunked into datagrams, to one sink per stream.
    let sinks: Vec<UdpSocket> = (0..n)
        .map(|_| {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.set_nonblocking(true).unwrap();
            s
        })
        .collect();
    let sink_addrs: Vec<SocketAddr> = sinks.iter().map(|s| s.local_addr().unwrap()).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let drain = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                for s in &sinks {
                    while s.recv_from(&mut buf).is_ok() {}
                }
                std::thread::sleep(Duration::from_micros(500));
            }
        })
    };
    let raw = UdpSocket::bind("127.0.0.1:0").unwrap();
    let frame_dt = Duration::from_secs(1) / FPS;
    let started = Instant::now();
    let cpu0 = thread_cpu();
    let mut next = started;
    let mut i = 0usize;
    let mut raw_windows = Vec::new();
    let (mut window_started, mut window_cpu) = (started, cpu0);
    while started.elapsed().as_secs_f64() < secs {
        if window_started.elapsed().as_secs_f64() >= window {
            let cpu = thread_cpu();
            raw_windows.push(per_stream_second(
                cpu - window_cpu,
                window_started.elapsed(),
                n,
            ));
            (window_started, window_cpu) = (Instant::now(), cpu);
        }
        let (_, data) = &clip[i % clip.len()];
        for addr in &sink_addrs {
            for chunk in data.chunks(1200) {
                let _ = raw.send_to(chunk, addr);
            }
        }
        i += 1;
        next += frame_dt;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
    }
    let raw_cpu = thread_cpu() - cpu0;
    raw_windows.push(per_stream_second(
        raw_cpu - (window_cpu - cpu0),
        window_started.elapsed(),
        n,
    ));
    stop.store(true, Ordering::Relaxed);
    drain.join().unwrap();
    Figures {
        relay_cpu,
        raw_cpu,
        secs,
        frames_received,
        bytes,
        relay_windows,
        raw_windows,
    }
}

/// CPU milliseconds per stream-second.
fn per_stream_second(cpu: Duration, wall: Duration, n: usize) -> f64 {
    cpu.as_secs_f64() * 1000.0 / wall.as_secs_f64() / n as f64
}

fn main() {
    // `--short` (CI: proves the bench runs); `cargo test` passes its own flags, ignored here.
    let short = std::env::args().any(|a| a == "--short");
    let streams: Vec<usize> = std::env::var("RELAY_BENCH_STREAMS")
        .unwrap_or_else(|_| if short { "2" } else { "1,4,8" }.into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let secs: f64 = std::env::var("RELAY_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if short { 1.0 } else { 5.0 });
    // The figures' samples: CPU per stream-second over windows of this many seconds.
    let window = if short { 0.25 } else { 0.5 };
    let (config, clip) = encode_clip();
    let clip_bytes: usize = clip.iter().map(|f| f.1.len()).sum();
    let clip_kbps = clip_bytes as f64 * 8.0 / 2.0 / 1000.0;
    println!(
        "relay bench: {WIDTH}x{HEIGHT} H.264 at {FPS} fps, clip {:.0} kb/s ({} frames), {secs} s per run",
        clip_kbps,
        clip.len()
    );
    println!(
        "{:>7} {:>14} {:>14} {:>9} {:>12} {:>14}",
        "streams", "relay ms/s/str", "udp ms/s/str", "ratio", "relay %core", "frames recv'd"
    );
    for n in streams {
        let f = run(n, secs, window, &config, &clip);
        let per = |cpu: Duration| cpu.as_secs_f64() * 1000.0 / f.secs / n as f64;
        let expected = (f.secs * FPS as f64 * n as f64) as u64;
        println!(
            "{:>7} {:>14.2} {:>14.2} {:>8.1}x {:>11.1}% {:>8}/{:<5}  ({:.0} kb/s per stream)",
            n,
            per(f.relay_cpu),
            per(f.raw_cpu),
            per(f.relay_cpu) / per(f.raw_cpu).max(1e-9),
            f.relay_cpu.as_secs_f64() / f.secs * 100.0,
            f.frames_received,
            expected,
            f.bytes as f64 * 8.0 / f.secs / n as f64 / 1000.0,
        );
        assert!(f.frames_received > 0, "no frame reached a peer");
        let figure = Figure::new(&format!("relay.cpu.{n}_streams"), "ms/s", f.relay_windows)
            .baseline("raw UDP send of the same bytes", f.raw_windows);
        if n == 8 {
            figure
                .target("≤ 5 ms/s (0.5 % of a core) and ≤ 1.3× the raw send")
                .print();
        } else {
            figure.print();
        }
    }
}
