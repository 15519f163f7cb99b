//! The adb packet: a 24-byte little-endian header followed by `data_length` payload bytes.
//!
//! ```text
//! struct message {
//!     u32 command;      // A_CNXN, A_OPEN, …
//!     u32 arg0;         // first argument (meaning depends on the command)
//!     u32 arg1;         // second argument
//!     u32 data_length;  // length of the payload that follows (0 is allowed)
//!     u32 data_check;   // sum of the payload bytes (only checked before version 0x01000001)
//!     u32 magic;        // command ^ 0xffffffff
//! };
//! ```
//!
//! This module owns the codec only: constants, [`Packet`], [`encode`] and the incremental
//! [`PacketDecoder`]. What packets mean belongs to [`crate::adb::transport`].

use std::fmt;

/// `CNXN`: connect (version, max payload, "system-identity-string").
pub const A_CNXN: u32 = 0x4e58_4e43;
/// `AUTH`: authentication (type, 0, token/signature/public key).
pub const A_AUTH: u32 = 0x4854_5541;
/// `OPEN`: open a stream (local-id, 0, "service").
pub const A_OPEN: u32 = 0x4e45_504f;
/// `OKAY`: ready / acknowledge a write (local-id, remote-id).
pub const A_OKAY: u32 = 0x5941_4b4f;
/// `WRTE`: stream data (local-id, remote-id, data).
pub const A_WRTE: u32 = 0x4554_5257;
/// `CLSE`: close a stream (local-id, remote-id).
pub const A_CLSE: u32 = 0x4553_4c43;
/// `STLS`: switch to TLS (newer hosts only; adb 29 never sends it).
pub const A_STLS: u32 = 0x534c_5453;
/// `SYNC`: an obsolete command that appears in adb's headers; no modern peer sends it.
pub const A_SYNC: u32 = 0x434e_5953;

/// The first protocol version; every packet carries a payload checksum.
pub const A_VERSION_MIN: u32 = 0x0100_0000;
/// From this version on the receiver no longer verifies `data_check`.
pub const A_VERSION_SKIP_CHECKSUM: u32 = 0x0100_0001;
/// The version this device speaks (the newest adb 29 knows).
pub const A_VERSION: u32 = A_VERSION_SKIP_CHECKSUM;

/// Payload limit of version-1 peers, and what is assumed before negotiation finishes.
pub const MAX_PAYLOAD_V1: u32 = 4 * 1024;
/// The largest payload this device accepts and advertises (adb 29's MAX_PAYLOAD).
pub const MAX_PAYLOAD: u32 = 256 * 1024;

/// Size of the fixed header.
pub const HEADER_LEN: usize = 24;

/// `AUTH` arg0: the device sends a random token to be signed.
pub const AUTH_TOKEN: u32 = 1;
/// `AUTH` arg0: the host answers with the token signed by one of its keys.
pub const AUTH_SIGNATURE: u32 = 2;
/// `AUTH` arg0: the host offers its public key ("base64 user@host\0").
pub const AUTH_RSAPUBLICKEY: u32 = 3;
/// The token length adbd uses (the size of a SHA-1 digest: the host signs it as one).
pub const TOKEN_SIZE: usize = 20;

/// One adb packet: the header fields that carry meaning, and the payload.
#[derive(Clone, PartialEq, Eq)]
pub struct Packet {
    pub command: u32,
    pub arg0: u32,
    pub arg1: u32,
    pub data: Vec<u8>,
}

impl Packet {
    pub fn new(command: u32, arg0: u32, arg1: u32, data: impl Into<Vec<u8>>) -> Self {
        Packet {
            command,
            arg0,
            arg1,
            data: data.into(),
        }
    }
}

impl fmt::Debug for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let preview: String = self
            .data
            .iter()
            .take(32)
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        write!(
            f,
            "{}({:#x}, {:#x}, {} bytes {:?})",
            command_name(self.command),
            self.arg0,
            self.arg1,
            self.data.len(),
            preview
        )
    }
}

/// The four ASCII letters of a known command, or its hex value.
pub fn command_name(command: u32) -> String {
    match command {
        A_CNXN | A_AUTH | A_OPEN | A_OKAY | A_WRTE | A_CLSE | A_STLS | A_SYNC => {
            String::from_utf8_lossy(&command.to_le_bytes()).into_owned()
        }
        other => format!("{other:#010x}"),
    }
}

/// The adb checksum: the plain sum of the payload bytes (not a CRC, despite old docs).
pub fn checksum(data: &[u8]) -> u32 {
    data.iter().fold(0u32, |sum, &b| sum.wrapping_add(b as u32))
}

/// Serialises a packet. The checksum is always filled in: version-1 peers need it and
/// newer peers ignore it, so computing it keeps both happy.
pub fn encode(packet: &Packet) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + packet.data.len());
    for word in [
        packet.command,
        packet.arg0,
        packet.arg1,
        packet.data.len() as u32,
        checksum(&packet.data),
        packet.command ^ 0xffff_ffff,
    ] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(&packet.data);
    out
}

/// Why a byte stream is not a valid adb packet stream. Every variant is fatal for the
/// connection: after one of these the framing can no longer be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("bad magic {magic:#010x} for command {command:#010x} (expected {:#010x})", command ^ 0xffff_ffff)]
    BadMagic { command: u32, magic: u32 },
    #[error("payload of {length} bytes exceeds the limit of {limit} bytes")]
    Oversize { length: u32, limit: u32 },
    #[error("payload checksum {got:#x} does not match the header's {expected:#x}")]
    BadChecksum { expected: u32, got: u32 },
    #[error("unknown command {0:#010x}")]
    UnknownCommand(u32),
}

/// Whether a packet's `data_check` is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// Always (a version-1 peer after negotiation).
    Verify,
    /// Unless it is 0. Before negotiation: a fresh host checksums its CNXN and AUTH, but a
    /// host re-connecting a transport it already negotiated at 0x01000001 (adb's reconnect of
    /// a TCP device, e.g. after a reboot) sends 0.
    VerifyUnlessZero,
    /// Never (0x01000001 and later).
    Skip,
}

/// Splits a byte stream into packets. Bytes may arrive in any fragmentation.
#[derive(Debug, Default)]
pub struct PacketDecoder {
    buf: Vec<u8>,
}

impl PacketDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet consumed as a packet.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete packet, `Ok(None)` if more bytes are needed.
    ///
    /// `max_payload` is the payload limit currently in force; `checksum` says whether the
    /// peer's protocol version still promises a correct `data_check`. The header is
    /// validated as soon as it is complete, so an oversize length is refused before its
    /// payload is buffered.
    pub fn next_packet(
        &mut self,
        max_payload: u32,
        checksum: Checksum,
    ) -> Result<Option<Packet>, PacketError> {
        if self.buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let word = |i: usize| u32::from_le_bytes(self.buf[i * 4..i * 4 + 4].try_into().unwrap());
        let (command, arg0, arg1, length, check, magic) =
            (word(0), word(1), word(2), word(3), word(4), word(5));
        if magic != command ^ 0xffff_ffff {
            return Err(PacketError::BadMagic { command, magic });
        }
        if !matches!(
            command,
            A_CNXN | A_AUTH | A_OPEN | A_OKAY | A_WRTE | A_CLSE | A_STLS
        ) {
            return Err(PacketError::UnknownCommand(command));
        }
        if length > max_payload {
            return Err(PacketError::Oversize {
                length,
                limit: max_payload,
            });
        }
        let total = HEADER_LEN + length as usize;
        if self.buf.len() < total {
            return Ok(None);
        }
        let data = self.buf[HEADER_LEN..total].to_vec();
        self.buf.drain(..total);
        let verify = match checksum {
            Checksum::Verify => true,
            Checksum::VerifyUnlessZero => check != 0,
            Checksum::Skip => false,
        };
        if verify {
            let got = self::checksum(&data);
            if got != check {
                return Err(PacketError::BadChecksum {
                    expected: check,
                    got,
                });
            }
        }
        Ok(Some(Packet {
            command,
            arg0,
            arg1,
            data,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_constants_are_their_ascii_names() {
        for (c, name) in [
            (A_CNXN, "CNXN"),
            (A_AUTH, "AUTH"),
            (A_OPEN, "OPEN"),
            (A_OKAY, "OKAY"),
            (A_WRTE, "WRTE"),
            (A_CLSE, "CLSE"),
            (A_STLS, "STLS"),
        ] {
            assert_eq!(&c.to_le_bytes(), name.as_bytes());
            assert_eq!(command_name(c), name);
        }
    }

    #[test]
    fn encodes_the_exact_header() {
        let bytes = encode(&Packet::new(A_OKAY, 1, 2, b"ab".to_vec()));
        assert_eq!(
            bytes,
            [
                b'O', b'K', b'A', b'Y', 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0,
                0, // cmd, arg0, arg1, len
                0xc3, 0, 0, 0, // 'a' + 'b' = 0x61 + 0x62
                0xb0, 0xb4, 0xbe, 0xa6, // !"OKAY"
                b'a', b'b'
            ]
        );
    }

    #[test]
    fn decodes_across_fragmentation() {
        let p = Packet::new(A_WRTE, 7, 9, b"hello".to_vec());
        let mut bytes = encode(&p);
        bytes.extend(encode(&Packet::new(A_CLSE, 7, 9, Vec::new())));
        let mut d = PacketDecoder::new();
        let mut got = Vec::new();
        for b in bytes {
            d.feed(&[b]);
            while let Some(p) = d.next_packet(MAX_PAYLOAD, Checksum::Verify).unwrap() {
                got.push(p);
            }
        }
        assert_eq!(got, vec![p, Packet::new(A_CLSE, 7, 9, Vec::new())]);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn refuses_bad_magic() {
        let mut bytes = encode(&Packet::new(A_OPEN, 1, 0, b"shell:\0".to_vec()));
        bytes[20] ^= 1;
        let mut d = PacketDecoder::new();
        d.feed(&bytes);
        assert!(matches!(
            d.next_packet(MAX_PAYLOAD, Checksum::Verify),
            Err(PacketError::BadMagic { .. })
        ));
    }

    #[test]
    fn refuses_oversize_before_the_payload_arrives() {
        let mut bytes = encode(&Packet::new(A_WRTE, 1, 1, Vec::new()));
        bytes[12..16].copy_from_slice(&(MAX_PAYLOAD + 1).to_le_bytes());
        let mut d = PacketDecoder::new();
        d.feed(&bytes[..HEADER_LEN]);
        assert_eq!(
            d.next_packet(MAX_PAYLOAD, Checksum::Skip),
            Err(PacketError::Oversize {
                length: MAX_PAYLOAD + 1,
                limit: MAX_PAYLOAD
            })
        );
    }

    #[test]
    fn checks_the_checksum_only_when_asked() {
        let mut bytes = encode(&Packet::new(A_WRTE, 1, 1, b"xyz".to_vec()));
        bytes[16] ^= 0x10;
        let mut d = PacketDecoder::new();
        d.feed(&bytes);
        assert!(matches!(
            d.next_packet(MAX_PAYLOAD, Checksum::Verify),
            Err(PacketError::BadChecksum { .. })
        ));
        let mut d = PacketDecoder::new();
        d.feed(&bytes);
        assert_eq!(
            d.next_packet(MAX_PAYLOAD, Checksum::Skip)
                .unwrap()
                .unwrap()
                .data,
            b"xyz"
        );
    }

    #[test]
    fn zero_checksum_is_accepted_only_when_allowed() {
        let mut bytes = encode(&Packet::new(
            A_CNXN,
            A_VERSION,
            MAX_PAYLOAD,
            b"host::\0".to_vec(),
        ));
        bytes[16..20].copy_from_slice(&[0; 4]);
        let mut d = PacketDecoder::new();
        d.feed(&bytes);
        assert!(
            d.next_packet(MAX_PAYLOAD, Checksum::VerifyUnlessZero)
                .unwrap()
                .is_some()
        );
        let mut d = PacketDecoder::new();
        d.feed(&bytes);
        assert!(matches!(
            d.next_packet(MAX_PAYLOAD, Checksum::Verify),
            Err(PacketError::BadChecksum { .. })
        ));
        // A wrong non-zero checksum is still refused before negotiation.
        bytes[16] = 1;
        let mut d = PacketDecoder::new();
        d.feed(&bytes);
        assert!(matches!(
            d.next_packet(MAX_PAYLOAD, Checksum::VerifyUnlessZero),
            Err(PacketError::BadChecksum { .. })
        ));
    }

    #[test]
    fn refuses_unknown_commands_even_with_a_valid_magic() {
        let mut d = PacketDecoder::new();
        d.feed(&encode(&Packet::new(0x5858_5858, 0, 0, Vec::new())));
        assert_eq!(
            d.next_packet(MAX_PAYLOAD, Checksum::Verify),
            Err(PacketError::UnknownCommand(0x5858_5858))
        );
    }
}
