//! Device messages, device → client, on the control socket (scrcpy's `device_msg.c` and
//! `DeviceMessageWriter.java`).
//!
//! The control socket is the only bidirectional one: the client writes control messages, the
//! device answers with these. A one-byte type, then:
//! - 0 CLIPBOARD: `len:u32` + UTF-8 (the device clipboard, after GET_CLIPBOARD or on change);
//! - 1 ACK_CLIPBOARD: `sequence:u64` (after a SET_CLIPBOARD whose sequence is not 0);
//! - 2 UHID_OUTPUT: `id:u16`, `size:u16`, data;
//! - 0xC1 CUSTOM, Playrack's own: `len:u32` + UTF-8, at most
//!   [`crate::control_msg::CUSTOM_MAX_LENGTH`] bytes (the game's message for its page).

/// The largest device message (`DEVICE_MSG_MAX_SIZE`).
pub const DEVICE_MSG_MAX_SIZE: usize = 1 << 18;
/// CLIPBOARD text limit: the max size less type(1) and length(4).
pub const DEVICE_MSG_TEXT_MAX_LENGTH: usize = DEVICE_MSG_MAX_SIZE - 5;

pub const DEVICE_MSG_TYPE_CLIPBOARD: u8 = 0;
pub const DEVICE_MSG_TYPE_ACK_CLIPBOARD: u8 = 1;
pub const DEVICE_MSG_TYPE_UHID_OUTPUT: u8 = 2;
/// Playrack's custom message (the same type byte as the control message it answers).
pub const DEVICE_MSG_TYPE_CUSTOM: u8 = crate::control_msg::CUSTOM;

/// One device message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceMsg {
    Clipboard {
        text: String,
    },
    AckClipboard {
        sequence: u64,
    },
    UhidOutput {
        id: u16,
        data: Vec<u8>,
    },
    /// Playrack's extension: the game's message for its page.
    Custom {
        data: String,
    },
}

/// Why bytes on the control socket are not a valid device message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceMsgError {
    #[error("Unknown device message type: {0}")]
    UnknownType(u8),
    #[error(
        "device message type {msg_type} declares {len} bytes, more than the {DEVICE_MSG_MAX_SIZE}-byte maximum"
    )]
    TooLarge { msg_type: u8, len: usize },
    #[error(
        "clipboard text is {0} bytes once invalid UTF-8 is replaced, more than the {DEVICE_MSG_TEXT_MAX_LENGTH}-byte maximum"
    )]
    TextTooLong(usize),
}

impl DeviceMsg {
    /// Appends the wire bytes; clipboard text is cut at a UTF-8 boundary to the limit.
    pub fn serialize(&self, buf: &mut Vec<u8>) -> usize {
        let start = buf.len();
        match self {
            DeviceMsg::Clipboard { text } => {
                buf.push(DEVICE_MSG_TYPE_CLIPBOARD);
                let t = crate::control_msg::utf8_truncate(text, DEVICE_MSG_TEXT_MAX_LENGTH);
                buf.extend_from_slice(&(t.len() as u32).to_be_bytes());
                buf.extend_from_slice(t.as_bytes());
            }
            DeviceMsg::AckClipboard { sequence } => {
                buf.push(DEVICE_MSG_TYPE_ACK_CLIPBOARD);
                buf.extend_from_slice(&sequence.to_be_bytes());
            }
            DeviceMsg::Custom { data } => {
                buf.push(DEVICE_MSG_TYPE_CUSTOM);
                let t =
                    crate::control_msg::utf8_truncate(data, crate::control_msg::CUSTOM_MAX_LENGTH);
                buf.extend_from_slice(&(t.len() as u32).to_be_bytes());
                buf.extend_from_slice(t.as_bytes());
            }
            DeviceMsg::UhidOutput { id, data } => {
                buf.push(DEVICE_MSG_TYPE_UHID_OUTPUT);
                buf.extend_from_slice(&id.to_be_bytes());
                let data = &data[..data.len().min(u16::MAX as usize)];
                buf.extend_from_slice(&(data.len() as u16).to_be_bytes());
                buf.extend_from_slice(data);
            }
        }
        buf.len() - start
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.serialize(&mut v);
        v
    }

    /// Reads one message from the start of `buf` (`sc_device_msg_deserialize`): `Ok(None)` if
    /// `buf` holds only its beginning.
    pub fn deserialize(buf: &[u8]) -> Result<Option<(DeviceMsg, usize)>, DeviceMsgError> {
        let Some(&ty) = buf.first() else {
            return Ok(None);
        };
        let need = |n: usize| buf.len() >= n;
        match ty {
            DEVICE_MSG_TYPE_CLIPBOARD => {
                if !need(5) {
                    return Ok(None);
                }
                let len = u32::from_be_bytes(buf[1..5].try_into().unwrap()) as usize;
                if len > DEVICE_MSG_TEXT_MAX_LENGTH {
                    return Err(DeviceMsgError::TooLarge {
                        msg_type: ty,
                        len: 5 + len,
                    });
                }
                if !need(5 + len) {
                    return Ok(None);
                }
                let text = String::from_utf8_lossy(&buf[5..5 + len]).into_owned();
                // Each invalid byte becomes a 3-byte U+FFFD: the text must still fit the limit.
                if text.len() > DEVICE_MSG_TEXT_MAX_LENGTH {
                    return Err(DeviceMsgError::TextTooLong(text.len()));
                }
                Ok(Some((DeviceMsg::Clipboard { text }, 5 + len)))
            }
            DEVICE_MSG_TYPE_ACK_CLIPBOARD => {
                if !need(9) {
                    return Ok(None);
                }
                let sequence = u64::from_be_bytes(buf[1..9].try_into().unwrap());
                Ok(Some((DeviceMsg::AckClipboard { sequence }, 9)))
            }
            DEVICE_MSG_TYPE_UHID_OUTPUT => {
                if !need(5) {
                    return Ok(None);
                }
                let id = u16::from_be_bytes([buf[1], buf[2]]);
                let size = u16::from_be_bytes([buf[3], buf[4]]) as usize;
                if !need(5 + size) {
                    return Ok(None);
                }
                let data = buf[5..5 + size].to_vec();
                Ok(Some((DeviceMsg::UhidOutput { id, data }, 5 + size)))
            }
            DEVICE_MSG_TYPE_CUSTOM => {
                let max = crate::control_msg::CUSTOM_MAX_LENGTH;
                if !need(5) {
                    return Ok(None);
                }
                let len = u32::from_be_bytes(buf[1..5].try_into().unwrap()) as usize;
                if len > max {
                    return Err(DeviceMsgError::TooLarge {
                        msg_type: ty,
                        len: 5 + len,
                    });
                }
                if !need(5 + len) {
                    return Ok(None);
                }
                let data = String::from_utf8_lossy(&buf[5..5 + len]).into_owned();
                if data.len() > max {
                    return Err(DeviceMsgError::TextTooLong(data.len()));
                }
                Ok(Some((DeviceMsg::Custom { data }, 5 + len)))
            }
            other => Err(DeviceMsgError::UnknownType(other)),
        }
    }
}

/// Reassembles device messages from arbitrary chunks (client side).
#[derive(Debug, Default)]
pub struct DeviceMsgReader {
    buf: Vec<u8>,
}

impl DeviceMsgReader {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub fn next_msg(&mut self) -> Result<Option<DeviceMsg>, DeviceMsgError> {
        match DeviceMsg::deserialize(&self.buf)? {
            Some((m, n)) => {
                self.buf.drain(..n);
                Ok(Some(m))
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The device-side twin of what the `scrcpy_control` fuzz target found: clipboard text of
    /// invalid UTF-8 grew threefold once replaced, past the maximum (and so did not serialise
    /// back to itself, the `scrcpy_device` target's invariant).
    #[test]
    fn clipboard_text_past_the_limit_once_decoded_is_refused() {
        let len = DEVICE_MSG_TEXT_MAX_LENGTH / 2;
        let mut b = vec![DEVICE_MSG_TYPE_CLIPBOARD];
        b.extend_from_slice(&(len as u32).to_be_bytes());
        b.extend(std::iter::repeat_n(0xffu8, len));
        assert_eq!(
            DeviceMsg::deserialize(&b),
            Err(DeviceMsgError::TextTooLong(3 * len))
        );
        // Within the limit, replaced bytes are kept as U+FFFD.
        let b = [DEVICE_MSG_TYPE_CLIPBOARD, 0, 0, 0, 2, b'a', 0xff];
        let text = "a\u{fffd}".to_string();
        assert_eq!(
            DeviceMsg::deserialize(&b),
            Ok(Some((DeviceMsg::Clipboard { text }, 7)))
        );
    }

    #[test]
    fn the_custom_extension_carries_the_games_text_within_its_limit() {
        let m = DeviceMsg::Custom {
            data: "pong 你好".into(),
        };
        let b = m.to_bytes();
        assert_eq!(&b[..5], [0xC1, 0, 0, 0, 11]);
        assert_eq!(DeviceMsg::deserialize(&b), Ok(Some((m, 16))));
        assert_eq!(DeviceMsg::deserialize(&b[..7]), Ok(None));
        let max = crate::control_msg::CUSTOM_MAX_LENGTH;
        let mut long = vec![DEVICE_MSG_TYPE_CUSTOM];
        long.extend_from_slice(&(max as u32 + 1).to_be_bytes());
        assert!(matches!(
            DeviceMsg::deserialize(&long),
            Err(DeviceMsgError::TooLarge { .. })
        ));
        let mut bad = vec![DEVICE_MSG_TYPE_CUSTOM];
        bad.extend_from_slice(&(max as u32).to_be_bytes());
        bad.extend(std::iter::repeat_n(0xffu8, max));
        assert_eq!(
            DeviceMsg::deserialize(&bad),
            Err(DeviceMsgError::TextTooLong(3 * max))
        );
    }
}
