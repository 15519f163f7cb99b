//! The adbd side of one adb connection as a sans-IO state machine.
//!
//! Feed received bytes to [`Connection::handle_input`], send whatever
//! [`Connection::poll_transmit`] returns, and act on [`Connection::poll_event`]. The
//! connection never touches a socket, a clock or a random number generator (tokens come from a
//! caller-supplied source), so every rule below is tested with plain byte vectors.
//!
//! The rules, from adb's `protocol.txt` and adbd's `handle_packet`:
//! - The host starts with `CNXN(version, max_payload, "host::features=…")`. The device answers
//!   `CNXN(min(version, ours), min(max_payload, ours), "device::ro.product.name=…;…;features=…")`,
//!   after authentication if that is enabled.
//! - Authentication: `AUTH(TOKEN)` → host `AUTH(SIGNATURE)`; a signature no authorised key
//!   verifies gets a fresh `AUTH(TOKEN)`; the host then offers `AUTH(RSAPUBLICKEY)`.
//! - Streams: host `OPEN(host-id, 0, "service\0")`; the device answers `OKAY(dev-id, host-id)` or,
//!   if the service cannot be started, `CLSE(0, host-id)`. Data moves in
//!   `WRTE(sender-id, receiver-id, data)`; each WRTE is acknowledged with an OKAY, and a sender
//!   keeps at most one WRTE in flight per stream. `CLSE(sender-id, receiver-id)` ends a stream.
//!   For `adb reverse` the device opens streams the same way towards the host
//!   ([`Connection::open`]); the host answers OKAY or CLSE.
//! - Checksums: before version 0x01000001 (and for CNXN/AUTH, sent while the peer still assumes
//!   the minimum version) `data_check` is the byte sum of the payload and is verified; after
//!   negotiation to 0x01000001 it is not verified. A host re-connecting a transport it had
//!   already negotiated sends 0 in its CNXN/AUTH, which is accepted. Outgoing packets always
//!   carry the checksum.
//!
//! Errors from [`Connection::handle_input`] are fatal: the caller drops the connection.

use std::collections::{BTreeMap, VecDeque};

use crate::auth::{AdbKeys, AdbPublicKey};
use crate::packet::*;

/// How the device authenticates hosts.
#[derive(Debug, Clone)]
pub enum AuthMode {
    /// No AUTH at all (`ro.adb.secure=0`): CNXN is answered at once.
    Disabled,
    /// Run the AUTH exchange and accept whichever public key the host offers, as a device
    /// whose user always taps "Allow, always" would. The keys are those already allowed that
    /// way: a host that signs with one of them is let in without offering its key again.
    AcceptAny(AdbKeys),
    /// Accept only hosts that sign the token with one of these keys (an `adb_keys` file).
    Keys(AdbKeys),
}

/// Static configuration of the device end.
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    /// The connect banner, e.g. `device::ro.product.name=…;ro.product.model=…;…;features=…`.
    pub banner: String,
    /// The largest payload we accept and offer.
    pub max_payload: u32,
    pub auth: AuthMode,
}

/// Something the application (the services of the device) must react to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The host is connected and authorised; streams may now be opened.
    Online {
        version: u32,
        max_payload: u32,
        host_banner: String,
    },
    /// In [`AuthMode::AcceptAny`], the host's offered key was accepted; `key` is its text
    /// (`base64 comment`), to be remembered for its next connection.
    KeyAccepted { key: String },
    /// The host offered a public key that is not authorised; the connection stays up but
    /// unusable, as on a device whose user has not approved the key.
    Unauthorized { key_comment: String },
    /// The host asks for a service. Answer with [`Connection::accept`] or
    /// [`Connection::refuse`].
    Open { local_id: u32, service: String },
    /// Data for an accepted stream. Call [`Connection::ack`] once it is consumed: that sends
    /// the OKAY that lets the host send more.
    Data { local_id: u32, data: Vec<u8> },
    /// Everything written to the stream has been handed to the wire (at most one WRTE awaits
    /// its OKAY); a writer waiting for room may continue.
    Writable { local_id: u32 },
    /// The host closed the stream (or the connection was reset by a new CNXN, or it refused
    /// a stream we opened).
    Closed { local_id: u32 },
    /// The host accepted a stream we opened with [`Connection::open`].
    Opened { local_id: u32 },
}

/// A fatal protocol violation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error(transparent)]
    Packet(#[from] PacketError),
    #[error("{0}")]
    Protocol(String),
}

/// Why a stream operation was not done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stream {0} is not open")]
pub struct StreamGone(pub u32);

#[derive(Debug)]
enum State {
    /// Waiting for the host's CNXN.
    AwaitingConnect,
    /// CNXN received, AUTH(TOKEN) sent; `token` is what the host must sign.
    Authenticating {
        token: [u8; TOKEN_SIZE],
        host: HostHello,
    },
    /// The host's key was refused; everything but a new CNXN is ignored.
    Refused,
    Online {
        version: u32,
        max_payload: u32,
    },
}

#[derive(Debug, Clone)]
struct HostHello {
    version: u32,
    max_payload: u32,
    banner: String,
}

#[derive(Debug, Default)]
struct Stream {
    remote_id: u32,
    accepted: bool,
    /// Chunks (each ≤ max payload) not yet sent.
    queue: VecDeque<Vec<u8>>,
    /// A WRTE was sent and its OKAY has not arrived.
    in_flight: bool,
    /// A WRTE from the host was delivered and not yet acknowledged.
    ack_pending: bool,
    /// Send CLSE once the queue is empty.
    close_when_drained: bool,
    /// We sent OPEN (a reverse connection) and the host has not answered yet.
    opening: bool,
}

/// Produces the 20-byte tokens sent in AUTH(TOKEN).
pub type TokenSource = Box<dyn FnMut() -> [u8; TOKEN_SIZE] + Send>;

/// The device end of one adb connection.
pub struct Connection {
    config: ConnectionConfig,
    state: State,
    decoder: PacketDecoder,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    streams: BTreeMap<u32, Stream>,
    /// Local ids are never reused, so an id below this one that is not in `streams` belongs
    /// to a stream that was closed (late packets for it are ignored, as adbd does).
    next_local_id: u32,
    tokens: TokenSource,
}

impl Connection {
    pub fn new(config: ConnectionConfig, tokens: TokenSource) -> Self {
        Connection {
            config,
            state: State::AwaitingConnect,
            decoder: PacketDecoder::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            streams: BTreeMap::new(),
            next_local_id: 1,
            tokens,
        }
    }

    /// Whether the host has been authorised.
    pub fn is_online(&self) -> bool {
        matches!(self.state, State::Online { .. })
    }

    /// The negotiated maximum payload (the pre-negotiation limit until online).
    pub fn max_payload(&self) -> u32 {
        match self.state {
            State::Online { max_payload, .. } => max_payload,
            _ => self.config.max_payload,
        }
    }

    /// Processes received bytes. An error means the connection must be dropped.
    pub fn handle_input(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        self.decoder.feed(bytes);
        loop {
            let (limit, checksum) = match self.state {
                State::Online {
                    version,
                    max_payload,
                } if version < A_VERSION_SKIP_CHECKSUM => (max_payload, Checksum::Verify),
                State::Online { max_payload, .. } => (max_payload, Checksum::Skip),
                // Before our CNXN the host still assumes the minimum version and checksums,
                // unless it is re-connecting a transport it had negotiated (then it sends 0).
                _ => (self.config.max_payload, Checksum::VerifyUnlessZero),
            };
            match self.decoder.next_packet(limit, checksum)? {
                Some(p) => self.handle_packet(p)?,
                None => return Ok(()),
            }
        }
    }

    /// Next bytes to send to the host.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// Next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Accepts an opened stream: sends `OKAY(local, remote)`.
    pub fn accept(&mut self, local_id: u32) -> Result<(), StreamGone> {
        let s = self
            .streams
            .get_mut(&local_id)
            .ok_or(StreamGone(local_id))?;
        s.accepted = true;
        let remote = s.remote_id;
        self.send(A_OKAY, local_id, remote, Vec::new());
        Ok(())
    }

    /// Opens a stream towards the host (reverse forwarding: a device-side client connected
    /// to a `reverse` listener): sends `OPEN(local, 0, "service\0")`. The answer is
    /// [`Event::Opened`] or [`Event::Closed`]. `None` until the connection is online.
    pub fn open(&mut self, service: &str) -> Option<u32> {
        if !self.is_online() {
            return None;
        }
        let local_id = self.next_local_id;
        self.next_local_id += 1;
        self.streams.insert(
            local_id,
            Stream {
                opening: true,
                ..Default::default()
            },
        );
        self.send(A_OPEN, local_id, 0, format!("{service}\0").into_bytes());
        Some(local_id)
    }

    /// Refuses an opened stream (unknown service, nothing listening): sends `CLSE(0, remote)`.
    pub fn refuse(&mut self, local_id: u32) -> Result<(), StreamGone> {
        let s = self.streams.remove(&local_id).ok_or(StreamGone(local_id))?;
        self.send(A_CLSE, 0, s.remote_id, Vec::new());
        Ok(())
    }

    /// Queues data for the host, split into WRTEs of at most the negotiated payload.
    pub fn write(&mut self, local_id: u32, data: &[u8]) -> Result<(), StreamGone> {
        let max = self.max_payload() as usize;
        let s = self
            .streams
            .get_mut(&local_id)
            .ok_or(StreamGone(local_id))?;
        if !s.accepted || s.close_when_drained {
            return Err(StreamGone(local_id));
        }
        for chunk in data.chunks(max.max(1)) {
            s.queue.push_back(chunk.to_vec());
        }
        self.pump(local_id);
        Ok(())
    }

    /// Acknowledges the last delivered WRTE, letting the host send the next one.
    pub fn ack(&mut self, local_id: u32) {
        if let Some(s) = self.streams.get_mut(&local_id)
            && std::mem::take(&mut s.ack_pending)
        {
            let remote = s.remote_id;
            self.send(A_OKAY, local_id, remote, Vec::new());
        }
    }

    /// Closes a stream from the device side, after any queued data has been sent.
    pub fn close(&mut self, local_id: u32) {
        let Some(s) = self.streams.get_mut(&local_id) else {
            return;
        };
        if s.queue.is_empty() {
            let remote = s.remote_id;
            self.streams.remove(&local_id);
            self.send(A_CLSE, local_id, remote, Vec::new());
        } else {
            s.close_when_drained = true;
        }
    }

    /// Ids of the streams currently open.
    pub fn open_streams(&self) -> Vec<u32> {
        self.streams.keys().copied().collect()
    }

    fn send(&mut self, command: u32, arg0: u32, arg1: u32, data: Vec<u8>) {
        self.transmit
            .push_back(encode(&Packet::new(command, arg0, arg1, data)));
    }

    /// Sends the next queued chunk of a stream if none is in flight.
    fn pump(&mut self, local_id: u32) {
        let Some(s) = self.streams.get_mut(&local_id) else {
            return;
        };
        if s.in_flight {
            return;
        }
        let Some(chunk) = s.queue.pop_front() else {
            return;
        };
        s.in_flight = true;
        let remote = s.remote_id;
        let drained = s.queue.is_empty();
        let close = drained && s.close_when_drained;
        self.send(A_WRTE, local_id, remote, chunk);
        if close {
            self.streams.remove(&local_id);
            self.send(A_CLSE, local_id, remote, Vec::new());
        } else if drained {
            self.events.push_back(Event::Writable { local_id });
        }
    }

    fn protocol(msg: impl Into<String>) -> TransportError {
        TransportError::Protocol(msg.into())
    }

    fn handle_packet(&mut self, p: Packet) -> Result<(), TransportError> {
        match p.command {
            A_CNXN => self.on_connect(p),
            A_AUTH => self.on_auth(p),
            A_STLS => Err(Self::protocol(
                "STLS received: this device does not speak TLS",
            )),
            _ if matches!(self.state, State::Refused) => Ok(()),
            _ if !self.is_online() => Err(Self::protocol(format!(
                "{} received before the connection was authorised",
                command_name(p.command)
            ))),
            A_OPEN => self.on_open(p),
            A_OKAY => {
                // OKAY(remote, local): the host consumed our WRTE (or accepted our OPEN).
                if let Some(s) = self.streams.get_mut(&p.arg1)
                    && s.opening
                {
                    if p.arg0 == 0 {
                        return Err(Self::protocol("OKAY to our OPEN with remote id 0"));
                    }
                    s.opening = false;
                    s.accepted = true;
                    s.remote_id = p.arg0;
                    self.events.push_back(Event::Opened { local_id: p.arg1 });
                } else if let Some(s) = self.streams.get_mut(&p.arg1) {
                    if s.remote_id != p.arg0 {
                        return Err(Self::protocol(format!(
                            "OKAY for stream {} from remote id {} (expected {})",
                            p.arg1, p.arg0, s.remote_id
                        )));
                    }
                    s.in_flight = false;
                    self.pump(p.arg1);
                } else {
                    self.check_known(p.arg1, "OKAY")?;
                }
                Ok(())
            }
            A_WRTE => {
                match self.streams.get_mut(&p.arg1) {
                    Some(s) if s.accepted && s.remote_id == p.arg0 => {
                        s.ack_pending = true;
                        self.events.push_back(Event::Data {
                            local_id: p.arg1,
                            data: p.data,
                        });
                    }
                    Some(_) => {
                        return Err(Self::protocol(format!(
                            "WRTE on stream {} from remote {} that is not accepted or not its peer",
                            p.arg1, p.arg0
                        )));
                    }
                    // Data racing our CLSE is dropped; data for an id never given out is not.
                    None => self.check_known(p.arg1, "WRTE")?,
                }
                Ok(())
            }
            A_CLSE => {
                // CLSE(remote or 0, local). Unknown ids are ignored per protocol.txt. A CLSE
                // for a stream we are opening is the host refusing it.
                if let Some(s) = self.streams.get(&p.arg1)
                    && (p.arg0 == 0 || p.arg0 == s.remote_id || s.opening)
                {
                    self.streams.remove(&p.arg1);
                    self.events.push_back(Event::Closed { local_id: p.arg1 });
                }
                Ok(())
            }
            other => Err(PacketError::UnknownCommand(other).into()),
        }
    }

    /// Ids that were handed out and closed since are fine; others are a protocol error.
    fn check_known(&self, local_id: u32, what: &str) -> Result<(), TransportError> {
        if local_id == 0 || local_id >= self.next_local_id {
            Err(Self::protocol(format!(
                "{what} on unknown stream {local_id}"
            )))
        } else {
            Ok(())
        }
    }

    fn on_connect(&mut self, p: Packet) -> Result<(), TransportError> {
        if p.arg0 < A_VERSION_MIN {
            return Err(Self::protocol(format!(
                "CNXN with unsupported version {:#x}",
                p.arg0
            )));
        }
        if p.arg1 == 0 {
            return Err(Self::protocol("CNXN with a max payload of 0"));
        }
        // A new CNXN resets the connection: every open stream is gone.
        for id in std::mem::take(&mut self.streams).into_keys() {
            self.events.push_back(Event::Closed { local_id: id });
        }
        let host = HostHello {
            version: p.arg0,
            max_payload: p.arg1,
            banner: String::from_utf8_lossy(&p.data)
                .trim_end_matches('\0')
                .to_string(),
        };
        match self.config.auth {
            AuthMode::Disabled => self.go_online(host),
            _ => {
                let token = (self.tokens)();
                self.send(A_AUTH, AUTH_TOKEN, 0, token.to_vec());
                self.state = State::Authenticating { token, host };
            }
        }
        Ok(())
    }

    fn on_auth(&mut self, p: Packet) -> Result<(), TransportError> {
        let State::Authenticating { token, host } = &self.state else {
            return match self.state {
                State::AwaitingConnect => Err(Self::protocol("AUTH received before CNXN")),
                // Late AUTH packets after a decision (the host may still be sending) are ignored.
                _ => Ok(()),
            };
        };
        let (token, host) = (*token, host.clone());
        match p.arg0 {
            AUTH_SIGNATURE => {
                if let AuthMode::Keys(keys) | AuthMode::AcceptAny(keys) = &self.config.auth
                    && keys.find_signer(&token, &p.data).is_some()
                {
                    self.go_online(host);
                } else {
                    // Not verified: ask again; once out of keys the host offers its public key.
                    let token = (self.tokens)();
                    self.send(A_AUTH, AUTH_TOKEN, 0, token.to_vec());
                    self.state = State::Authenticating { token, host };
                }
            }
            AUTH_RSAPUBLICKEY => {
                let text = String::from_utf8_lossy(&p.data).to_string();
                let parsed = AdbPublicKey::parse(&text);
                match (&self.config.auth, parsed) {
                    (AuthMode::AcceptAny(_), Ok(_)) => {
                        let key = text.trim_end_matches('\0').trim().to_string();
                        self.events.push_back(Event::KeyAccepted { key });
                        self.go_online(host);
                    }
                    (_, Ok(key)) => {
                        self.state = State::Refused;
                        self.events.push_back(Event::Unauthorized {
                            key_comment: key.comment,
                        });
                    }
                    (_, Err(e)) => {
                        self.state = State::Refused;
                        self.events.push_back(Event::Unauthorized {
                            key_comment: format!("unreadable key: {e}"),
                        });
                    }
                }
            }
            other => return Err(Self::protocol(format!("AUTH with unexpected type {other}"))),
        }
        Ok(())
    }

    fn go_online(&mut self, host: HostHello) {
        let version = host.version.min(A_VERSION);
        let max_payload = host.max_payload.min(self.config.max_payload);
        let banner = self.config.banner.clone().into_bytes();
        self.send(A_CNXN, version, max_payload, banner);
        self.state = State::Online {
            version,
            max_payload,
        };
        self.events.push_back(Event::Online {
            version,
            max_payload,
            host_banner: host.banner,
        });
    }

    fn on_open(&mut self, p: Packet) -> Result<(), TransportError> {
        if p.arg0 == 0 {
            return Err(Self::protocol("OPEN with remote id 0"));
        }
        let service = String::from_utf8_lossy(&p.data)
            .trim_end_matches('\0')
            .to_string();
        let local_id = self.next_local_id;
        self.next_local_id += 1;
        self.streams.insert(
            local_id,
            Stream {
                remote_id: p.arg0,
                ..Default::default()
            },
        );
        self.events.push_back(Event::Open { local_id, service });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::tests::{PUBLIC_KEY, SIGNATURE, TOKEN};

    const HOST_BANNER: &[u8] = b"host::features=shell_v2,cmd,stat_v2\0";

    fn config(auth: AuthMode) -> ConnectionConfig {
        ConnectionConfig {
            banner: "device::ro.product.name=t;features=shell_v2".into(),
            max_payload: MAX_PAYLOAD,
            auth,
        }
    }

    fn conn(auth: AuthMode) -> Connection {
        Connection::new(config(auth), Box::new(|| *TOKEN))
    }

    fn send(c: &mut Connection, p: Packet) -> Result<(), TransportError> {
        c.handle_input(&encode(&p))
    }

    fn sent(c: &mut Connection) -> Vec<Packet> {
        let mut d = PacketDecoder::new();
        while let Some(b) = c.poll_transmit() {
            d.feed(&b);
        }
        let mut out = Vec::new();
        while let Some(p) = d.next_packet(u32::MAX, Checksum::Verify).unwrap() {
            out.push(p);
        }
        out
    }

    fn events(c: &mut Connection) -> Vec<Event> {
        std::iter::from_fn(|| c.poll_event()).collect()
    }

    fn online(auth: AuthMode) -> Connection {
        let mut c = conn(auth);
        send(
            &mut c,
            Packet::new(A_CNXN, A_VERSION, MAX_PAYLOAD, HOST_BANNER),
        )
        .unwrap();
        sent(&mut c);
        events(&mut c);
        c
    }

    /// Opens and accepts a stream for host id 5; returns the device's id.
    fn open(c: &mut Connection, service: &str) -> u32 {
        send(c, Packet::new(A_OPEN, 5, 0, format!("{service}\0"))).unwrap();
        let Some(Event::Open {
            local_id,
            service: s,
        }) = c.poll_event()
        else {
            panic!()
        };
        assert_eq!(s, service);
        c.accept(local_id).unwrap();
        assert_eq!(sent(c), vec![Packet::new(A_OKAY, local_id, 5, Vec::new())]);
        local_id
    }

    #[test]
    fn connect_without_auth_negotiates_version_and_payload() {
        let mut c = conn(AuthMode::Disabled);
        send(
            &mut c,
            Packet::new(A_CNXN, 0x0100_0002, 1024 * 1024, HOST_BANNER),
        )
        .unwrap();
        let out = sent(&mut c);
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].command, out[0].arg0, out[0].arg1),
            (A_CNXN, A_VERSION, MAX_PAYLOAD)
        );
        assert!(out[0].data.starts_with(b"device::"));
        assert_eq!(
            events(&mut c),
            vec![Event::Online {
                version: A_VERSION,
                max_payload: MAX_PAYLOAD,
                host_banner: "host::features=shell_v2,cmd,stat_v2".into()
            }]
        );
        // A v1 host with a 4K payload gets exactly that.
        let mut c = conn(AuthMode::Disabled);
        send(
            &mut c,
            Packet::new(A_CNXN, A_VERSION_MIN, MAX_PAYLOAD_V1, HOST_BANNER),
        )
        .unwrap();
        let out = sent(&mut c);
        assert_eq!((out[0].arg0, out[0].arg1), (A_VERSION_MIN, MAX_PAYLOAD_V1));
        assert_eq!(c.max_payload(), MAX_PAYLOAD_V1);
    }

    #[test]
    fn auth_with_keys_accepts_a_valid_signature() {
        let (keys, _) = AdbKeys::parse(PUBLIC_KEY);
        let mut c = conn(AuthMode::Keys(keys));
        send(
            &mut c,
            Packet::new(A_CNXN, A_VERSION, MAX_PAYLOAD, HOST_BANNER),
        )
        .unwrap();
        assert_eq!(
            sent(&mut c),
            vec![Packet::new(A_AUTH, AUTH_TOKEN, 0, TOKEN.to_vec())]
        );
        assert!(!c.is_online());
        send(&mut c, Packet::new(A_AUTH, AUTH_SIGNATURE, 0, SIGNATURE)).unwrap();
        assert_eq!(sent(&mut c)[0].command, A_CNXN);
        assert!(c.is_online());
    }

    #[test]
    fn auth_with_keys_refuses_unknown_signers_and_keys() {
        let mut c = conn(AuthMode::Keys(AdbKeys::default()));
        send(
            &mut c,
            Packet::new(A_CNXN, A_VERSION, MAX_PAYLOAD, HOST_BANNER),
        )
        .unwrap();
        sent(&mut c);
        send(&mut c, Packet::new(A_AUTH, AUTH_SIGNATURE, 0, SIGNATURE)).unwrap();
        // A fresh token, not CNXN.
        assert_eq!(
            sent(&mut c),
            vec![Packet::new(A_AUTH, AUTH_TOKEN, 0, TOKEN.to_vec())]
        );
        send(
            &mut c,
            Packet::new(A_AUTH, AUTH_RSAPUBLICKEY, 0, format!("{PUBLIC_KEY}\0")),
        )
        .unwrap();
        assert!(sent(&mut c).is_empty());
        assert!(matches!(
            events(&mut c).as_slice(),
            [Event::Unauthorized { .. }]
        ));
        // Streams cannot be opened; the packets are ignored, not answered.
        send(&mut c, Packet::new(A_OPEN, 1, 0, b"shell:id\0".to_vec())).unwrap();
        assert!(sent(&mut c).is_empty() && events(&mut c).is_empty());
    }

    #[test]
    fn accept_any_takes_the_offered_public_key_and_then_its_signature() {
        let mut c = conn(AuthMode::AcceptAny(AdbKeys::default()));
        send(
            &mut c,
            Packet::new(A_CNXN, A_VERSION, MAX_PAYLOAD, HOST_BANNER),
        )
        .unwrap();
        sent(&mut c);
        send(&mut c, Packet::new(A_AUTH, AUTH_SIGNATURE, 0, vec![7; 256])).unwrap();
        assert_eq!(sent(&mut c)[0].command, A_AUTH);
        send(
            &mut c,
            Packet::new(A_AUTH, AUTH_RSAPUBLICKEY, 0, format!("{PUBLIC_KEY}\0")),
        )
        .unwrap();
        assert_eq!(sent(&mut c)[0].command, A_CNXN);
    }

    #[test]
    fn open_write_flow_control_and_close() {
        let mut c = online(AuthMode::Disabled);
        let id = open(&mut c, "shell:echo");
        // Two writes: only the first WRTE goes out until the host's OKAY.
        c.write(id, b"one").unwrap();
        c.write(id, b"two").unwrap();
        assert_eq!(
            sent(&mut c),
            vec![Packet::new(A_WRTE, id, 5, b"one".to_vec())]
        );
        assert_eq!(events(&mut c), vec![Event::Writable { local_id: id }]);
        send(&mut c, Packet::new(A_OKAY, 5, id, Vec::new())).unwrap();
        assert_eq!(
            sent(&mut c),
            vec![Packet::new(A_WRTE, id, 5, b"two".to_vec())]
        );
        // Close waits for nothing queued; CLSE goes out now.
        c.close(id);
        assert_eq!(sent(&mut c), vec![Packet::new(A_CLSE, id, 5, Vec::new())]);
        // The host's late OKAY and WRTE for the closed stream are ignored.
        send(&mut c, Packet::new(A_OKAY, 5, id, Vec::new())).unwrap();
        send(&mut c, Packet::new(A_WRTE, 5, id, b"late".to_vec())).unwrap();
        assert!(sent(&mut c).is_empty());
    }

    #[test]
    fn large_writes_are_split_at_the_negotiated_payload() {
        let mut c = conn(AuthMode::Disabled);
        send(&mut c, Packet::new(A_CNXN, A_VERSION, 4096, HOST_BANNER)).unwrap();
        sent(&mut c);
        events(&mut c);
        let id = open(&mut c, "sync:");
        c.write(id, &vec![1u8; 10_000]).unwrap();
        c.close(id);
        let mut lens = Vec::new();
        for _ in 0..3 {
            let out = sent(&mut c);
            lens.extend(out.iter().map(|p| (p.command, p.data.len())));
            send(&mut c, Packet::new(A_OKAY, 5, id, Vec::new())).unwrap();
        }
        assert_eq!(
            lens,
            vec![
                (A_WRTE, 4096),
                (A_WRTE, 4096),
                (A_WRTE, 10_000 - 8192),
                (A_CLSE, 0)
            ]
        );
    }

    #[test]
    fn host_data_is_acknowledged_when_the_app_says_so() {
        let mut c = online(AuthMode::Disabled);
        let id = open(&mut c, "exec:cat");
        send(&mut c, Packet::new(A_WRTE, 5, id, b"in".to_vec())).unwrap();
        assert_eq!(
            events(&mut c),
            vec![Event::Data {
                local_id: id,
                data: b"in".to_vec()
            }]
        );
        assert!(sent(&mut c).is_empty());
        c.ack(id);
        assert_eq!(sent(&mut c), vec![Packet::new(A_OKAY, id, 5, Vec::new())]);
        c.ack(id); // nothing pending: no second OKAY
        assert!(sent(&mut c).is_empty());
        send(&mut c, Packet::new(A_CLSE, 5, id, Vec::new())).unwrap();
        assert_eq!(events(&mut c), vec![Event::Closed { local_id: id }]);
        assert!(c.open_streams().is_empty());
    }

    #[test]
    fn refused_open_answers_clse_with_zero_local_id() {
        let mut c = online(AuthMode::Disabled);
        send(&mut c, Packet::new(A_OPEN, 9, 0, b"frobnicate:\0".to_vec())).unwrap();
        let Some(Event::Open { local_id, .. }) = c.poll_event() else {
            panic!()
        };
        c.refuse(local_id).unwrap();
        assert_eq!(sent(&mut c), vec![Packet::new(A_CLSE, 0, 9, Vec::new())]);
    }

    #[test]
    fn malformed_input_is_fatal() {
        // WRTE on a stream id never given out.
        let mut c = online(AuthMode::Disabled);
        let e = send(&mut c, Packet::new(A_WRTE, 5, 77, b"x".to_vec())).unwrap_err();
        assert_eq!(
            e,
            TransportError::Protocol("WRTE on unknown stream 77".into())
        );
        // OPEN before CNXN.
        let mut c = conn(AuthMode::Disabled);
        assert!(send(&mut c, Packet::new(A_OPEN, 1, 0, b"shell:\0".to_vec())).is_err());
        // Bad magic.
        let mut c = online(AuthMode::Disabled);
        let mut bytes = encode(&Packet::new(A_OKAY, 1, 1, Vec::new()));
        bytes[23] = 0;
        assert!(matches!(
            c.handle_input(&bytes),
            Err(TransportError::Packet(PacketError::BadMagic { .. }))
        ));
        // A payload larger than the negotiated maximum.
        let mut c = online(AuthMode::Disabled);
        let id = open(&mut c, "exec:cat");
        let big = Packet::new(A_WRTE, 5, id, vec![0; MAX_PAYLOAD as usize + 1]);
        assert!(matches!(
            send(&mut c, big),
            Err(TransportError::Packet(PacketError::Oversize { .. }))
        ));
        // A bad checksum on CNXN (still checksummed) but not after negotiating 0x01000001.
        let mut c = conn(AuthMode::Disabled);
        let mut bytes = encode(&Packet::new(A_CNXN, A_VERSION, MAX_PAYLOAD, HOST_BANNER));
        bytes[16] ^= 1;
        assert!(matches!(
            c.handle_input(&bytes),
            Err(TransportError::Packet(PacketError::BadChecksum { .. }))
        ));
        let mut c = online(AuthMode::Disabled);
        let mut bytes = encode(&Packet::new(A_OPEN, 5, 0, b"shell:\0".to_vec()));
        bytes[16] ^= 1;
        c.handle_input(&bytes).unwrap();
        // … but a version-1 peer's checksums are verified on every packet.
        let mut c = conn(AuthMode::Disabled);
        send(
            &mut c,
            Packet::new(A_CNXN, A_VERSION_MIN, MAX_PAYLOAD, HOST_BANNER),
        )
        .unwrap();
        assert!(matches!(
            c.handle_input(&bytes),
            Err(TransportError::Packet(PacketError::BadChecksum { .. }))
        ));
        // An unknown command.
        let mut c = online(AuthMode::Disabled);
        assert!(matches!(
            send(&mut c, Packet::new(0x4141_4141, 0, 0, Vec::new())),
            Err(TransportError::Packet(PacketError::UnknownCommand(
                0x4141_4141
            )))
        ));
        // STLS.
        let mut c = online(AuthMode::Disabled);
        assert!(send(&mut c, Packet::new(A_STLS, 0x0100_0000, 0, Vec::new())).is_err());
    }

    #[test]
    fn device_initiated_open_for_reverse_forwarding() {
        let mut c = conn(AuthMode::Disabled);
        assert_eq!(c.open("tcp:8000"), None, "not before CNXN");
        send(
            &mut c,
            Packet::new(A_CNXN, A_VERSION, MAX_PAYLOAD, HOST_BANNER),
        )
        .unwrap();
        sent(&mut c);
        events(&mut c);
        let id = c.open("tcp:8000").unwrap();
        assert_eq!(
            sent(&mut c),
            vec![Packet::new(A_OPEN, id, 0, b"tcp:8000\0".to_vec())]
        );
        assert!(
            c.write(id, b"early").is_err(),
            "no data before the host accepts"
        );
        send(&mut c, Packet::new(A_OKAY, 77, id, Vec::new())).unwrap();
        assert_eq!(events(&mut c), vec![Event::Opened { local_id: id }]);
        c.write(id, b"hi").unwrap();
        assert_eq!(
            sent(&mut c),
            vec![Packet::new(A_WRTE, id, 77, b"hi".to_vec())]
        );
        send(&mut c, Packet::new(A_OKAY, 77, id, Vec::new())).unwrap();
        send(&mut c, Packet::new(A_WRTE, 77, id, b"yo".to_vec())).unwrap();
        assert!(events(&mut c).contains(&Event::Data {
            local_id: id,
            data: b"yo".to_vec()
        }));
        // The host refusing an OPEN is a CLSE for the id we gave.
        let id2 = c.open("tcp:1").unwrap();
        sent(&mut c);
        send(&mut c, Packet::new(A_CLSE, 0, id2, Vec::new())).unwrap();
        assert_eq!(events(&mut c), vec![Event::Closed { local_id: id2 }]);
    }

    #[test]
    fn a_second_cnxn_resets_open_streams() {
        let mut c = online(AuthMode::Disabled);
        let id = open(&mut c, "shell:");
        send(
            &mut c,
            Packet::new(A_CNXN, A_VERSION, MAX_PAYLOAD, HOST_BANNER),
        )
        .unwrap();
        let ev = events(&mut c);
        assert_eq!(ev[0], Event::Closed { local_id: id });
        assert!(matches!(ev[1], Event::Online { .. }));
    }
}
