//! The client's IO edge (what the node agent uses): open the sockets the way scrcpy's client
//! does (`app/src/server.c` `connect_to_server()`), read the device name, then read demuxed
//! media events and exchange control/device messages.
//!
//! Forward tunnel ([`connect_forward`]): the client connects; an adb forward accepts the TCP
//! connection even before the server listens, so the client reads the dummy byte on the first
//! socket and, on EOF, closes and retries (scrcpy: 100 attempts, 100 ms apart). Reverse tunnel
//! ([`accept_reverse`]): the client listens and the server connects, in the same order.
//! Either way the sockets come in the order video → audio → control, and the 64-byte device
//! name is read from the first one before anything else.

use std::future::Future;
use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};

use crate::control_msg::ControlMsg;
use crate::device_msg::{DeviceMsg, DeviceMsgReader};
use crate::options::Options;
use crate::stream::{
    DEVICE_NAME_FIELD_LENGTH, DemuxError, Demuxer, DemuxerConfig, StreamEvent, StreamKind,
    parse_device_meta,
};
use crate::tunnel::Tunnel;

/// scrcpy's retry policy for the first forward connection.
pub const CONNECT_ATTEMPTS: u32 = 100;
pub const CONNECT_DELAY: Duration = Duration::from_millis(100);

/// The connected sockets of one scrcpy session.
pub struct Client<S> {
    /// From the device-meta block, when `send_device_meta`.
    pub device_name: Option<String>,
    pub video: Option<MediaReader<S>>,
    pub audio: Option<MediaReader<S>>,
    pub control: Option<S>,
}

/// One media socket, read into [`StreamEvent`]s.
pub struct MediaReader<S> {
    sock: S,
    demuxer: Demuxer,
    buf: Vec<u8>,
}

fn invalid(e: DemuxError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl<S: AsyncRead + Unpin> MediaReader<S> {
    fn new(sock: S, options: &Options, kind: StreamKind) -> Self {
        // the dummy byte and the device name were read by `connect_*`
        let mut cfg = DemuxerConfig::for_socket(options, kind, false);
        cfg.dummy_byte = false;
        cfg.device_meta = false;
        MediaReader {
            sock,
            demuxer: Demuxer::new(cfg),
            buf: vec![0; 256 * 1024],
        }
    }

    /// The next event; `Ok(None)` when the server closed the socket.
    pub async fn next(&mut self) -> io::Result<Option<StreamEvent>> {
        loop {
            if let Some(e) = self.demuxer.poll().map_err(invalid)? {
                return Ok(Some(e));
            }
            let n = self.sock.read(&mut self.buf).await?;
            if n == 0 {
                return Ok(None);
            }
            self.demuxer.feed(&self.buf[..n]);
        }
    }
}

/// Writes control messages.
pub struct ControlSender<W> {
    w: W,
    buf: Vec<u8>,
}

impl<W: AsyncWrite + Unpin> ControlSender<W> {
    pub async fn send(&mut self, msg: &ControlMsg) -> io::Result<()> {
        self.buf.clear();
        msg.serialize(&mut self.buf);
        self.w.write_all(&self.buf).await
    }
}

/// Reads device messages.
pub struct DeviceMsgStream<R> {
    r: R,
    reader: DeviceMsgReader,
    buf: Vec<u8>,
}

impl<R: AsyncRead + Unpin> DeviceMsgStream<R> {
    /// The next device message; `Ok(None)` when the control socket closed.
    pub async fn next(&mut self) -> io::Result<Option<DeviceMsg>> {
        loop {
            if let Some(m) = self
                .reader
                .next_msg()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
            {
                return Ok(Some(m));
            }
            let n = self.r.read(&mut self.buf).await?;
            if n == 0 {
                return Ok(None);
            }
            self.reader.push(&self.buf[..n]);
        }
    }
}

/// Splits a control socket into its two directions.
pub fn split_control<S: AsyncRead + AsyncWrite>(
    sock: S,
) -> (ControlSender<WriteHalf<S>>, DeviceMsgStream<ReadHalf<S>>) {
    let (r, w) = tokio::io::split(sock);
    (
        ControlSender { w, buf: Vec::new() },
        DeviceMsgStream {
            r,
            reader: DeviceMsgReader::new(),
            buf: vec![0; 64 * 1024],
        },
    )
}

fn socket_count(o: &Options) -> usize {
    [o.video, o.audio, o.control].iter().filter(|b| **b).count()
}

/// Reads the device name from the first socket and assigns the sockets to their roles.
async fn finish<S: AsyncRead + Unpin>(options: &Options, sockets: Vec<S>) -> io::Result<Client<S>> {
    let mut sockets = sockets.into_iter();
    let mut video = if options.video { sockets.next() } else { None };
    let mut audio = if options.audio { sockets.next() } else { None };
    let mut control = if options.control {
        sockets.next()
    } else {
        None
    };
    let device_name = if options.send_device_meta {
        let first = video
            .as_mut()
            .or(audio.as_mut())
            .or(control.as_mut())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no socket enabled"))?;
        let mut block = [0u8; DEVICE_NAME_FIELD_LENGTH];
        first.read_exact(&mut block).await?;
        Some(parse_device_meta(&block))
    } else {
        None
    };
    Ok(Client {
        device_name,
        video: video
            .take()
            .map(|s| MediaReader::new(s, options, StreamKind::Video)),
        audio: audio
            .take()
            .map(|s| MediaReader::new(s, options, StreamKind::Audio)),
        control: control.take(),
    })
}

/// Forward tunnel: `connect` opens one connection to the forwarded port (or abstract socket).
pub async fn connect_forward<S, F, Fut>(
    options: &Options,
    mut connect: F,
    attempts: u32,
    delay: Duration,
) -> io::Result<Client<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnMut() -> Fut,
    Fut: Future<Output = io::Result<S>>,
{
    let mut sockets = Vec::new();
    let mut last_err = io::Error::new(io::ErrorKind::NotConnected, "no attempt made");
    for attempt in 0..attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(delay).await;
        }
        let mut s = match connect().await {
            Ok(s) => s,
            Err(e) => {
                last_err = e;
                continue;
            }
        };
        if options.send_dummy_byte {
            let mut b = [0u8];
            match s.read_exact(&mut b).await {
                Ok(_) => {}
                Err(e) => {
                    // nothing listens behind the forward yet
                    last_err = e;
                    continue;
                }
            }
        }
        sockets.push(s);
        break;
    }
    if sockets.is_empty() {
        return Err(last_err);
    }
    for _ in 1..socket_count(options) {
        sockets.push(connect().await?);
    }
    finish(options, sockets).await
}

/// Reverse tunnel: accept the server's connections (in order) from `listener`.
pub async fn accept_reverse<T: Tunnel>(
    options: &Options,
    listener: &mut T,
) -> io::Result<Client<T::Stream>> {
    let mut sockets = Vec::new();
    for _ in 0..socket_count(options) {
        sockets.push(listener.open().await?);
    }
    finish(options, sockets).await
}
