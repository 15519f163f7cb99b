//! The player's WebRTC side, sans-IO: a str0m peer (full ICE, controlling) that offers what the
//! H5 SDK offers — receive-only H.264 video and Opus audio, the DataChannels `input` (ordered)
//! and `sensors` — accepts the agent's answer, and turns what arrives into [`MediaEvent`]s:
//! whole access units (str0m depacketizes H.264 into Annex-B, SPS/PPS in front of key frames)
//! with the header extensions the agent stamps, and Opus frames. A gap the retransmissions did
//! not fill asks for a key frame (PLI), at most once a second, as browsers do.
//!
//! It is fed datagrams and time, and gives back datagrams to send, events and the next time
//! it wants; the shell ([`crate::connection`], or a host's own loop) owns the socket and clock.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use playrack_wire::input::InputMessage;
use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::channel::ChannelId;
use str0m::media::{Direction, KeyframeRequestKind, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::Extension;
use str0m::{Candidate, Event, Input, Output, Rtc, RtcConfig};

/// The `playout-delay` header extension's id in the offer (Chromium's choice; the agent
/// answers with the offer's ids).
const PLAYOUT_DELAY_ID: u8 = 12;
/// The `abs-capture-time` header extension's id in the offer.
const CAPTURE_TIME_ID: u8 = 14;
/// How often the receiver's own figures come ([`MediaEvent::Received`]).
pub const STATS_INTERVAL: Duration = Duration::from_secs(1);
/// How often a player may ask for a key frame after losses it could not repair.
const PLI_INTERVAL: Duration = Duration::from_secs(1);

/// What the offer asks of the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    /// Receive audio as well as video.
    pub audio: bool,
    /// The `playout-delay` extension, which the agent sends as 0–0 (play each frame at once).
    pub playout_delay: bool,
    /// The `abs-capture-time` extension: each frame's capture instant.
    pub capture_time: bool,
}

impl Default for Offer {
    /// What the H5 SDK offers: audio, zero playout delay, capture times.
    fn default() -> Offer {
        Offer {
            audio: true,
            playout_delay: true,
            capture_time: true,
        }
    }
}

/// Why the media side failed.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the agent's answer is not SDP: {0}")]
    BadAnswer(String),
    #[error("the agent's answer does not match the offer: {0}")]
    Refused(String),
    #[error("no offer is waiting for an answer")]
    NoOffer,
    #[error("WebRTC failed: {0}")]
    Rtc(#[from] str0m::RtcError),
}

/// One video access unit as it arrived: Annex-B H.264, ready for a decoder.
#[derive(Debug, Clone)]
pub struct AccessUnit {
    pub data: Arc<[u8]>,
    pub keyframe: bool,
    /// The RTP time (90 kHz), the frame's presentation time on the sender's clock.
    pub time: MediaTime,
    /// False when packets before it were lost and not repaired (a decoder may show garbage
    /// until the next key frame, which has been asked for).
    pub contiguous: bool,
    /// When the board captured it (`abs-capture-time`, the board's wall clock), if stamped.
    pub captured: Option<SystemTime>,
    /// The agent asked for no playout delay (`playout-delay` min = max = 0).
    pub zero_playout_delay: bool,
    /// When its last packet arrived here.
    pub arrived: Instant,
}

/// One Opus frame (48 kHz).
#[derive(Debug, Clone)]
pub struct AudioFrame {
    pub data: Arc<[u8]>,
    pub time: MediaTime,
}

/// The video receiver's own figures, every [`STATS_INTERVAL`] (cumulative counters).
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// Bytes and RTP packets received, retransmissions included.
    pub bytes: u64,
    pub packets: u64,
    /// Interarrival jitter (RFC 3550), ms.
    pub jitter_ms: f64,
    /// Fraction of packets lost in the last report's interval, 0–1, once known.
    pub loss: Option<f32>,
    /// Round trip, when the sender's reports allow measuring it.
    pub rtt_ms: Option<f64>,
    pub nacks: u64,
    pub plis: u64,
}

/// What the media side reports.
#[derive(Debug, Clone)]
pub enum MediaEvent {
    /// ICE and DTLS are up.
    Connected,
    /// The `input` DataChannel opened: input can be sent.
    InputOpen,
    /// ICE gave up (the agent vanished, or the network did).
    Disconnected,
    Video(AccessUnit),
    Audio(AudioFrame),
    Received(Received),
}

/// What the shell does next.
#[derive(Debug)]
pub enum Poll {
    /// Send `contents` to `destination` from the media socket.
    Transmit {
        destination: SocketAddr,
        contents: Vec<u8>,
    },
    Event(MediaEvent),
    /// Nothing more now; call [`Media::timeout`] at this instant (or when a datagram comes).
    Timeout(Instant),
}

/// The player's peer. See the module doc.
pub struct Media {
    rtc: Rtc,
    local: SocketAddr,
    pending: Option<SdpPendingOffer>,
    input: ChannelId,
    sensors: ChannelId,
    video: Mid,
    last_pli: Option<Instant>,
}

impl Media {
    /// A peer whose media socket is at `local`, and its SDP offer for the agent.
    pub fn offer(local: SocketAddr, what: Offer, now: Instant) -> (Media, String) {
        let mut config = RtcConfig::new()
            .set_stats_interval(Some(STATS_INTERVAL))
            .clear_codecs()
            .enable_h264(true)
            .enable_opus(what.audio, false);
        if what.playout_delay {
            config = config.set_extension(PLAYOUT_DELAY_ID, Extension::PlayoutDelay);
        }
        if what.capture_time {
            config = config.set_extension(CAPTURE_TIME_ID, Extension::AbsoluteCaptureTime);
        }
        let mut rtc = config.build(now);
        rtc.add_local_candidate(Candidate::host(local, "udp").expect("a host candidate"));
        let mut change = rtc.sdp_api();
        let video = change.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None);
        if what.audio {
            change.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
        }
        let input = change.add_channel("input".into());
        let sensors = change.add_channel("sensors".into());
        let (offer, pending) = change.apply().expect("an offer with media");
        let media = Media {
            rtc,
            local,
            pending: Some(pending),
            input,
            sensors,
            video,
            last_pli: None,
        };
        (media, offer.to_sdp_string())
    }

    /// Applies the agent's answer to the offer.
    pub fn accept_answer(&mut self, sdp: &str) -> Result<(), MediaError> {
        let answer =
            SdpAnswer::from_sdp_string(sdp).map_err(|e| MediaError::BadAnswer(e.to_string()))?;
        let pending = self.pending.take().ok_or(MediaError::NoOffer)?;
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .map_err(|e| MediaError::Refused(e.to_string()))
    }

    /// A datagram arrived on the media socket from `source`. Anything not WebRTC is ignored.
    pub fn receive(&mut self, now: Instant, source: SocketAddr, datagram: &[u8]) {
        let Ok(contents) = datagram.try_into() else {
            return;
        };
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.local,
                contents,
            },
        );
        // a datagram str0m cannot place is dropped, as a browser drops it
        let _ = self.rtc.handle_input(input);
    }

    /// Time passed: `now` is at or past the last [`Poll::Timeout`].
    pub fn timeout(&mut self, now: Instant) -> Result<(), MediaError> {
        Ok(self.rtc.handle_input(Input::Timeout(now))?)
    }

    /// The next thing to do. Call until it says [`Poll::Timeout`].
    pub fn poll(&mut self) -> Result<Poll, MediaError> {
        loop {
            match self.rtc.poll_output()? {
                Output::Timeout(t) => return Ok(Poll::Timeout(t)),
                Output::Transmit(t) => {
                    return Ok(Poll::Transmit {
                        destination: t.destination,
                        contents: t.contents.into(),
                    });
                }
                Output::Event(e) => {
                    if let Some(e) = self.event(e) {
                        return Ok(Poll::Event(e));
                    }
                }
            }
        }
    }

    fn event(&mut self, e: Event) -> Option<MediaEvent> {
        match e {
            Event::Connected => Some(MediaEvent::Connected),
            Event::IceConnectionStateChange(str0m::IceConnectionState::Disconnected) => {
                Some(MediaEvent::Disconnected)
            }
            Event::ChannelOpen(id, _) if id == self.input => Some(MediaEvent::InputOpen),
            Event::MediaData(d) if d.mid == self.video => {
                let arrived = d.network_time;
                if !d.contiguous {
                    // a gap the retransmissions did not fill: ask for a key frame
                    self.recover(arrived);
                }
                let zero = Some(MediaTime::ZERO);
                Some(MediaEvent::Video(AccessUnit {
                    keyframe: d.is_keyframe(),
                    time: d.time,
                    contiguous: d.contiguous,
                    captured: d.ext_vals.abs_capture_time.map(|c| c.capture_time),
                    zero_playout_delay: d.ext_vals.play_delay_min == zero
                        && d.ext_vals.play_delay_max == zero,
                    arrived,
                    data: d.data,
                }))
            }
            Event::MediaIngressStats(s) if s.mid == self.video => {
                Some(MediaEvent::Received(Received {
                    bytes: s.bytes,
                    packets: s.packets,
                    // RTP timestamp units of the 90 kHz video clock
                    jitter_ms: f64::from(s.jitter) / 90.0,
                    loss: s.loss,
                    rtt_ms: s.rtt.map(|d| d.as_secs_f64() * 1e3),
                    nacks: s.nacks,
                    plis: s.plis,
                }))
            }
            Event::MediaData(d) => Some(MediaEvent::Audio(AudioFrame {
                data: d.data,
                time: d.time,
            })),
            _ => None,
        }
    }

    /// Sends `message` on the DataChannel its kind belongs to (sensor readings and locations on
    /// `sensors`, everything else on `input`). False when that channel is not open.
    pub fn send_input(&mut self, message: &InputMessage) -> bool {
        let channel = match message {
            InputMessage::Sensor { .. } | InputMessage::Location { .. } => self.sensors,
            _ => self.input,
        };
        let text = serde_json::to_string(message).expect("input messages serialize");
        self.send_on(channel, &text)
    }

    /// Sends `text` as it is on the DataChannel `input` (tests of what the agent refuses).
    pub fn send_raw_input(&mut self, text: &str) -> bool {
        self.send_on(self.input, text)
    }

    /// Sends `text` as it is on the DataChannel `sensors`.
    pub fn send_raw_sensor(&mut self, text: &str) -> bool {
        self.send_on(self.sensors, text)
    }

    fn send_on(&mut self, id: ChannelId, text: &str) -> bool {
        match self.rtc.channel(id) {
            Some(mut c) => c.write(false, text.as_bytes()).is_ok(),
            None => false,
        }
    }

    /// Asks the agent for a key frame (PLI) now.
    pub fn request_keyframe(&mut self) {
        if let Some(mut w) = self.rtc.writer(self.video) {
            let _ = w.request_keyframe(None, KeyframeRequestKind::Pli);
        }
    }

    /// Asks for a key frame after a loss (the decoder failed, a gap): at most once a second.
    pub fn recover(&mut self, now: Instant) {
        if self
            .last_pli
            .is_none_or(|t| now.saturating_duration_since(t) >= PLI_INTERVAL)
        {
            self.last_pli = Some(now);
            self.request_keyframe();
        }
    }

    /// Whether ICE and DTLS are still up.
    pub fn is_alive(&self) -> bool {
        self.rtc.is_alive()
    }

    /// Closes the peer (the agent notices when its ICE times out; say `bye` first).
    pub fn close(&mut self) {
        self.rtc.disconnect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offer_asks_what_the_h5_sdk_asks() {
        let now = Instant::now();
        let (_, sdp) = Media::offer("127.0.0.1:5000".parse().unwrap(), Offer::default(), now);
        assert!(sdp.contains("m=video"), "{sdp}");
        assert!(sdp.contains("m=audio"), "{sdp}");
        assert!(sdp.contains("m=application"), "{sdp}");
        assert!(sdp.contains("H264/90000"), "{sdp}");
        assert!(sdp.contains("opus/48000"), "{sdp}");
        assert!(sdp.contains("a=recvonly"), "{sdp}");
        assert!(
            sdp.contains("a=extmap:12 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay")
        );
        assert!(
            sdp.contains(
                "a=extmap:14 http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time"
            )
        );
        assert!(sdp.contains("127.0.0.1 5000 typ host"), "{sdp}");
        let (_, bare) = Media::offer(
            "127.0.0.1:5000".parse().unwrap(),
            Offer {
                audio: false,
                playout_delay: false,
                capture_time: false,
            },
            now,
        );
        assert!(!bare.contains("m=audio"), "{bare}");
        assert!(!bare.contains("playout-delay"), "{bare}");
        assert!(!bare.contains("abs-capture-time"), "{bare}");
    }

    #[test]
    fn a_bad_answer_is_an_error_and_a_second_answer_has_no_offer() {
        let now = Instant::now();
        let (mut m, _) = Media::offer("127.0.0.1:5000".parse().unwrap(), Offer::default(), now);
        assert!(matches!(
            m.accept_answer("hello"),
            Err(MediaError::BadAnswer(_))
        ));
        // the failed parse did not use up the offer
        assert!(m.pending.is_some());
        m.pending = None;
        assert!(matches!(
            m.accept_answer("v=0\r\n"),
            Err(MediaError::BadAnswer(_)) | Err(MediaError::NoOffer)
        ));
    }

    #[test]
    fn nothing_is_sent_before_the_channels_open_and_garbage_datagrams_are_ignored() {
        let now = Instant::now();
        let (mut m, _) = Media::offer("127.0.0.1:5000".parse().unwrap(), Offer::default(), now);
        assert!(!m.send_input(&InputMessage::Back {}));
        assert!(!m.send_raw_sensor("{}"));
        m.receive(now, "127.0.0.1:6000".parse().unwrap(), b"not webrtc");
        m.receive(now, "127.0.0.1:6000".parse().unwrap(), &[]);
        assert!(matches!(m.poll().unwrap(), Poll::Timeout(_)));
    }
}
