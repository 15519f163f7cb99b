//! The video and audio sockets: what the server writes and how the client splits it back into
//! packets (scrcpy's `Streamer.java`, `DesktopConnection.java` and `demuxer.c`).
//!
//! On the first socket only (video, else audio, else control):
//! 1. the dummy byte `0x00`, only in forward-tunnel mode (an adb forward accepts a TCP connection
//!    even when nothing listens, so the client waits for a byte to know the server is there);
//! 2. the device name, always exactly [`DEVICE_NAME_FIELD_LENGTH`] bytes, NUL-padded.
//!
//! Then each media socket carries (with `send_stream_meta`):
//! - the codec id, u32 BE: the codec name in ASCII (`h264` = `68 32 36 34`), 0 = stream
//!   disabled, 1 = configuration error;
//! - packets, each with a 12-byte header. Video only: a **session packet** when bit 63 is set,
//!   `80 00 00 0R | width u32 | height u32` (R = client resized), before the first media packet
//!   of every encoder session. Otherwise a **media packet**: `pts_flags u64 | size u32` then
//!   `size` bytes; bit 62 = config (SPS/PPS, OpusHead), bit 61 = key frame, the low 61 bits are
//!   the PTS in µs. A config packet's PTS bits are 0.
//!
//! Playrack's extension, only when the client launched the server with `playrack_slices=N`
//! ([`DemuxerConfig::partial_frames`]): a frame may come as several media packets with the
//! same PTS, every one but the last with bit 60 set ([`PACKET_FLAG_PARTIAL`]), so the client
//! can forward a slice while the device still encodes the next. scrcpy's PTS never reaches
//! bit 60 (36,000 years in µs), and a server that ignores the option never sets it.
//!
//! [`Demuxer`] is the client side: feed it any chunks, poll events. [`StreamWriter`] is the
//! server side. The flag bit positions are this version's (they moved down one bit in 4.0).

/// Bytes of the device-name block (`DEVICE_NAME_FIELD_LENGTH`).
pub const DEVICE_NAME_FIELD_LENGTH: usize = 64;
/// The byte written first in forward-tunnel mode.
pub const DUMMY_BYTE: u8 = 0;
/// Bytes of a session or media packet header.
pub const PACKET_HEADER_SIZE: usize = 12;

/// Session packet: bit 63 (v4.0+).
pub const PACKET_FLAG_SESSION: u64 = 1 << 63;
/// Config packet: bit 62 (v4.0+; bit 63 before).
pub const PACKET_FLAG_CONFIG: u64 = 1 << 62;
/// Key frame: bit 61 (v4.0+; bit 62 before).
pub const PACKET_FLAG_KEY_FRAME: u64 = 1 << 61;
/// The PTS bits below the flags.
pub const PACKET_PTS_MASK: u64 = PACKET_FLAG_KEY_FRAME - 1;
/// Playrack's extension (`playrack_slices`): more packets of this frame follow.
pub const PACKET_FLAG_PARTIAL: u64 = 1 << 60;

/// "The stream is disabled on purpose" (e.g. no audio capture); go on without it.
pub const CODEC_ID_DISABLED: u32 = 0;
/// "Configuration error"; the client must stop.
pub const CODEC_ID_ERROR: u32 = 1;
pub const CODEC_ID_H264: u32 = 0x6832_3634; // "h264"
pub const CODEC_ID_H265: u32 = 0x6832_3635; // "h265"
pub const CODEC_ID_AV1: u32 = 0x0061_7631; // "av1"
pub const CODEC_ID_VP8: u32 = 0x0076_7038; // "vp8"
pub const CODEC_ID_VP9: u32 = 0x0076_7039; // "vp9"
pub const CODEC_ID_OPUS: u32 = 0x6f70_7573; // "opus"
pub const CODEC_ID_AAC: u32 = 0x0061_6163; // "aac"
pub const CODEC_ID_FLAC: u32 = 0x666c_6163; // "flac"
pub const CODEC_ID_RAW: u32 = 0x0072_6177; // "raw"

/// A bound on one packet's size, so a corrupt header cannot make the client buffer gigabytes.
/// A 4K key frame at a high bit rate stays well below it.
pub const MAX_PACKET_SIZE: usize = 64 << 20;

/// The 64-byte device-name block: the name cut at a UTF-8 boundary to at most 63 bytes, then
/// NULs.
pub fn device_meta(name: &str) -> [u8; DEVICE_NAME_FIELD_LENGTH] {
    let mut block = [0u8; DEVICE_NAME_FIELD_LENGTH];
    let name = crate::control_msg::utf8_truncate(name, DEVICE_NAME_FIELD_LENGTH - 1);
    block[..name.len()].copy_from_slice(name.as_bytes());
    block
}

/// Reads the device name back: the client forces the last byte to NUL, then stops at the first.
pub fn parse_device_meta(block: &[u8; DEVICE_NAME_FIELD_LENGTH]) -> String {
    let mut b = *block;
    b[DEVICE_NAME_FIELD_LENGTH - 1] = 0;
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// A session packet (`Streamer.writeSessionMeta`).
pub fn session_packet(width: u32, height: u32, resized: bool) -> [u8; PACKET_HEADER_SIZE] {
    let mut h = [0u8; PACKET_HEADER_SIZE];
    let flags = (PACKET_FLAG_SESSION >> 32) as u32 | resized as u32;
    h[0..4].copy_from_slice(&flags.to_be_bytes());
    h[4..8].copy_from_slice(&width.to_be_bytes());
    h[8..12].copy_from_slice(&height.to_be_bytes());
    h
}

/// A media packet header (`Streamer.writeFrameMeta`): a config packet carries only its flag.
pub fn media_header(pts: u64, config: bool, key: bool, size: u32) -> [u8; PACKET_HEADER_SIZE] {
    let pts_flags = if config {
        PACKET_FLAG_CONFIG
    } else {
        (pts & PACKET_PTS_MASK) | if key { PACKET_FLAG_KEY_FRAME } else { 0 }
    };
    header_of(pts_flags, size)
}

/// The header of a part of a frame that more parts follow (see [`PACKET_FLAG_PARTIAL`]).
pub fn partial_header(pts: u64, key: bool, size: u32) -> [u8; PACKET_HEADER_SIZE] {
    let flags = if key { PACKET_FLAG_KEY_FRAME } else { 0 };
    header_of(
        (pts & (PACKET_FLAG_PARTIAL - 1)) | flags | PACKET_FLAG_PARTIAL,
        size,
    )
}

fn header_of(pts_flags: u64, size: u32) -> [u8; PACKET_HEADER_SIZE] {
    let mut h = [0u8; PACKET_HEADER_SIZE];
    h[0..8].copy_from_slice(&pts_flags.to_be_bytes());
    h[8..12].copy_from_slice(&size.to_be_bytes());
    h
}

/// The server side of one media socket: appends what `Streamer.java` writes, honouring the
/// `send_stream_meta` / `send_frame_meta` options (`StreamWriter::from_options`, beside the
/// options).
#[derive(Debug, Clone, Copy)]
pub struct StreamWriter {
    pub send_stream_meta: bool,
    pub send_frame_meta: bool,
}

impl StreamWriter {
    /// The codec id, or 0/1 to disable the stream.
    pub fn codec_id(&self, out: &mut Vec<u8>, id: u32) {
        if self.send_stream_meta {
            out.extend_from_slice(&id.to_be_bytes());
        }
    }

    /// A session packet (video only).
    pub fn session(&self, out: &mut Vec<u8>, width: u32, height: u32, resized: bool) {
        if self.send_stream_meta {
            out.extend_from_slice(&session_packet(width, height, resized));
        }
    }

    /// One packet, with its header when `send_frame_meta`.
    pub fn packet(&self, out: &mut Vec<u8>, pts: u64, config: bool, key: bool, data: &[u8]) {
        if self.send_frame_meta {
            out.extend_from_slice(&media_header(pts, config, key, data.len() as u32));
        }
        out.extend_from_slice(data);
    }

    /// A part of a frame that more parts follow (`playrack_slices`); the last part goes
    /// through [`StreamWriter::packet`]. Without frame meta the parts just run together.
    pub fn partial(&self, out: &mut Vec<u8>, pts: u64, key: bool, data: &[u8]) {
        if self.send_frame_meta {
            out.extend_from_slice(&partial_header(pts, key, data.len() as u32));
        }
        out.extend_from_slice(data);
    }
}

/// Which socket a [`Demuxer`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Video,
    Audio,
}

/// What a client expects on one socket.
#[derive(Debug, Clone, Copy)]
pub struct DemuxerConfig {
    pub kind: StreamKind,
    /// This is the first socket and the tunnel is forward: one dummy byte comes first.
    pub dummy_byte: bool,
    /// This is the first socket: the 64-byte device name comes next.
    pub device_meta: bool,
    /// Codec id (and for video, session packets) are sent.
    pub stream_meta: bool,
    /// Packets have 12-byte headers; without them the stream is raw bytes.
    pub frame_meta: bool,
    /// The client asked for `playrack_slices`: bit 60 marks a part of a frame
    /// ([`StreamEvent::FramePart`]) instead of being a PTS bit.
    pub partial_frames: bool,
}

/// A video session: the encoder (re)started at this size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub width: u32,
    pub height: u32,
    /// The new size follows a client's RESIZE_DISPLAY.
    pub resized: bool,
}

/// What the demuxer found in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// The forward-tunnel dummy byte arrived: the server is there.
    DummyByte,
    DeviceName(String),
    /// The codec id; [`CODEC_ID_DISABLED`] or [`CODEC_ID_ERROR`] ends the stream.
    Codec(u32),
    Session(Session),
    /// A config packet: SPS/PPS for H.264, `OpusHead` for Opus.
    Config(Vec<u8>),
    /// A whole frame, or the last part of one whose earlier parts came as
    /// [`StreamEvent::FramePart`]s with the same PTS.
    Frame {
        pts: u64,
        key: bool,
        data: Vec<u8>,
    },
    /// A part of a frame (one or more slices) that more parts follow; only with
    /// [`DemuxerConfig::partial_frames`].
    FramePart {
        pts: u64,
        key: bool,
        data: Vec<u8>,
    },
    /// Bytes of a stream without frame meta (`raw_stream=true`).
    Raw(Vec<u8>),
}

/// Why the stream cannot be demuxed any further.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DemuxError {
    #[error("media packet with size 0")]
    EmptyPacket,
    #[error("media packet of {0} bytes exceeds the {MAX_PACKET_SIZE}-byte bound")]
    PacketTooLarge(usize),
    #[error("session packet on the audio stream")]
    SessionOnAudio,
    #[error("data after the stream was disabled (codec id {0})")]
    DataAfterEnd(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    DummyByte,
    DeviceName,
    CodecId,
    Header,
    Payload { pts_flags: u64, size: usize },
    Raw,
    Ended(u32),
    Failed,
}

/// The client-side state machine for one media socket: [`Demuxer::feed`] bytes as they arrive,
/// [`Demuxer::poll`] events until it returns `Ok(None)`.
#[derive(Debug)]
pub struct Demuxer {
    config: DemuxerConfig,
    state: State,
    buf: Vec<u8>,
    pos: usize,
}

impl Demuxer {
    pub fn new(config: DemuxerConfig) -> Self {
        let state = if config.dummy_byte {
            State::DummyByte
        } else {
            Self::after_dummy(&config)
        };
        Demuxer {
            config,
            state,
            buf: Vec::new(),
            pos: 0,
        }
    }

    fn after_dummy(c: &DemuxerConfig) -> State {
        if c.device_meta {
            State::DeviceName
        } else {
            Self::after_device_name(c)
        }
    }

    fn after_device_name(c: &DemuxerConfig) -> State {
        if c.stream_meta {
            State::CodecId
        } else if c.frame_meta {
            State::Header
        } else {
            State::Raw
        }
    }

    /// Appends bytes read from the socket.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > (1 << 20) {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    fn available(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> &[u8] {
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        s
    }

    /// True once the codec id said the stream is disabled or failed.
    pub fn ended(&self) -> Option<u32> {
        match self.state {
            State::Ended(id) => Some(id),
            _ => None,
        }
    }

    /// The next event, `Ok(None)` when more bytes are needed. Errors are final.
    pub fn poll(&mut self) -> Result<Option<StreamEvent>, DemuxError> {
        let r = self.poll_inner();
        if r.is_err() {
            self.state = State::Failed;
        }
        r
    }

    fn poll_inner(&mut self) -> Result<Option<StreamEvent>, DemuxError> {
        match self.state {
            State::Failed => Ok(None),
            State::DummyByte => {
                if self.available() < 1 {
                    return Ok(None);
                }
                self.take(1);
                self.state = Self::after_dummy(&self.config);
                Ok(Some(StreamEvent::DummyByte))
            }
            State::DeviceName => {
                if self.available() < DEVICE_NAME_FIELD_LENGTH {
                    return Ok(None);
                }
                let block: [u8; DEVICE_NAME_FIELD_LENGTH] =
                    self.take(DEVICE_NAME_FIELD_LENGTH).try_into().unwrap();
                self.state = Self::after_device_name(&self.config);
                Ok(Some(StreamEvent::DeviceName(parse_device_meta(&block))))
            }
            State::CodecId => {
                if self.available() < 4 {
                    return Ok(None);
                }
                let id = u32::from_be_bytes(self.take(4).try_into().unwrap());
                self.state = if id == CODEC_ID_DISABLED || id == CODEC_ID_ERROR {
                    State::Ended(id)
                } else if self.config.frame_meta {
                    State::Header
                } else {
                    State::Raw
                };
                Ok(Some(StreamEvent::Codec(id)))
            }
            State::Header => {
                if self.available() < PACKET_HEADER_SIZE {
                    return Ok(None);
                }
                let h: [u8; PACKET_HEADER_SIZE] = self.take(PACKET_HEADER_SIZE).try_into().unwrap();
                if h[0] & 0x80 != 0 {
                    if self.config.kind == StreamKind::Audio {
                        return Err(DemuxError::SessionOnAudio);
                    }
                    return Ok(Some(StreamEvent::Session(Session {
                        width: u32::from_be_bytes(h[4..8].try_into().unwrap()),
                        height: u32::from_be_bytes(h[8..12].try_into().unwrap()),
                        resized: h[3] & 1 != 0,
                    })));
                }
                let pts_flags = u64::from_be_bytes(h[0..8].try_into().unwrap());
                let size = u32::from_be_bytes(h[8..12].try_into().unwrap()) as usize;
                if size == 0 {
                    return Err(DemuxError::EmptyPacket);
                }
                if size > MAX_PACKET_SIZE {
                    return Err(DemuxError::PacketTooLarge(size));
                }
                self.state = State::Payload { pts_flags, size };
                self.poll_inner()
            }
            State::Payload { pts_flags, size } => {
                if self.available() < size {
                    return Ok(None);
                }
                let data = self.take(size).to_vec();
                self.state = State::Header;
                if pts_flags & PACKET_FLAG_CONFIG != 0 {
                    Ok(Some(StreamEvent::Config(data)))
                } else if self.config.partial_frames && pts_flags & PACKET_FLAG_PARTIAL != 0 {
                    Ok(Some(StreamEvent::FramePart {
                        pts: pts_flags & (PACKET_FLAG_PARTIAL - 1),
                        key: pts_flags & PACKET_FLAG_KEY_FRAME != 0,
                        data,
                    }))
                } else {
                    Ok(Some(StreamEvent::Frame {
                        pts: pts_flags & PACKET_PTS_MASK,
                        key: pts_flags & PACKET_FLAG_KEY_FRAME != 0,
                        data,
                    }))
                }
            }
            State::Raw => {
                if self.available() == 0 {
                    return Ok(None);
                }
                let n = self.available();
                Ok(Some(StreamEvent::Raw(self.take(n).to_vec())))
            }
            State::Ended(id) => {
                if self.available() > 0 {
                    return Err(DemuxError::DataAfterEnd(id));
                }
                Ok(None)
            }
        }
    }
}

/// Prepends H.26x config packets to the next media packet, as scrcpy's client does before
/// decoding (`sc_packet_merger`).
#[derive(Debug, Default)]
pub struct PacketMerger {
    config: Option<Vec<u8>>,
}

impl PacketMerger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps a config packet for the next frame.
    pub fn config(&mut self, data: Vec<u8>) {
        self.config = Some(data);
    }

    /// The frame's bytes, preceded by the pending config if any.
    pub fn merge(&mut self, data: Vec<u8>) -> Vec<u8> {
        match self.config.take() {
            Some(mut c) => {
                c.extend_from_slice(&data);
                c
            }
            None => data,
        }
    }
}
