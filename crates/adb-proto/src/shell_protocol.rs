//! The shell v2 protocol (`shell,v2,…:` services, feature `shell_v2`).
//!
//! Inside the adb stream every message is `u8 id, u32 length (LE), length bytes`:
//! stdin (0) host → device, stdout (1) and stderr (2) device → host, exit (3, one byte: the exit
//! code) device → host, close-stdin (4) host → device when its stdin hits EOF, and
//! window-size-change (5, text "rowsxcols,xpixelsxypixels") host → device. With it `adb shell`
//! keeps stdout and stderr apart and returns the remote exit code.

/// Message ids, as numbered by adb's `ShellProtocol::Id`.
pub const ID_STDIN: u8 = 0;
pub const ID_STDOUT: u8 = 1;
pub const ID_STDERR: u8 = 2;
pub const ID_EXIT: u8 = 3;
pub const ID_CLOSE_STDIN: u8 = 4;
pub const ID_WINDOW_SIZE_CHANGE: u8 = 5;

/// Length of the id + length header.
pub const HEADER_LEN: usize = 5;
/// The largest message we accept (adb's own buffer is far smaller).
pub const MAX_MESSAGE: usize = 1024 * 1024;

/// Encodes one message.
pub fn encode(id: u8, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + data.len());
    out.push(id);
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// The exit message for an exit code (the shell's status, truncated to a byte as on Unix).
pub fn exit(code: i32) -> Vec<u8> {
    encode(ID_EXIT, &[(code & 0xff) as u8])
}

/// A message received from the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostMessage {
    Stdin(Vec<u8>),
    CloseStdin,
    WindowSizeChange(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShellProtocolError {
    #[error("shell protocol message of {0} bytes is too long")]
    TooLong(usize),
    #[error("shell protocol message id {0} is not one a host sends")]
    UnexpectedId(u8),
}

/// Splits the host → device byte stream into messages.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub fn next_message(&mut self) -> Result<Option<HostMessage>, ShellProtocolError> {
        if self.buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let len = u32::from_le_bytes(self.buf[1..5].try_into().unwrap()) as usize;
        if len > MAX_MESSAGE {
            return Err(ShellProtocolError::TooLong(len));
        }
        if self.buf.len() < HEADER_LEN + len {
            return Ok(None);
        }
        let id = self.buf[0];
        let data: Vec<u8> = self.buf[HEADER_LEN..HEADER_LEN + len].to_vec();
        self.buf.drain(..HEADER_LEN + len);
        match id {
            ID_STDIN => Ok(Some(HostMessage::Stdin(data))),
            ID_CLOSE_STDIN => Ok(Some(HostMessage::CloseStdin)),
            ID_WINDOW_SIZE_CHANGE => Ok(Some(HostMessage::WindowSizeChange(
                String::from_utf8_lossy(&data).into_owned(),
            ))),
            other => Err(ShellProtocolError::UnexpectedId(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_bytes() {
        assert_eq!(encode(ID_STDOUT, b"hi"), [1, 2, 0, 0, 0, b'h', b'i']);
        assert_eq!(exit(127), [3, 1, 0, 0, 0, 127]);
        assert_eq!(exit(256 + 1), [3, 1, 0, 0, 0, 1]);
    }

    #[test]
    fn decodes_host_messages_in_pieces() {
        let mut bytes = encode(ID_STDIN, b"abc");
        bytes.extend(encode(ID_WINDOW_SIZE_CHANGE, b"24x80,0x0"));
        bytes.extend(encode(ID_CLOSE_STDIN, b""));
        let mut d = Decoder::default();
        let mut got = Vec::new();
        for b in bytes {
            d.feed(&[b]);
            while let Some(m) = d.next_message().unwrap() {
                got.push(m);
            }
        }
        assert_eq!(
            got,
            vec![
                HostMessage::Stdin(b"abc".to_vec()),
                HostMessage::WindowSizeChange("24x80,0x0".into()),
                HostMessage::CloseStdin
            ]
        );
    }

    #[test]
    fn refuses_device_ids_and_huge_lengths() {
        let mut d = Decoder::default();
        d.feed(&encode(ID_STDOUT, b"x"));
        assert_eq!(d.next_message(), Err(ShellProtocolError::UnexpectedId(1)));
        let mut d = Decoder::default();
        d.feed(&[0, 0xff, 0xff, 0xff, 0xff]);
        assert!(matches!(
            d.next_message(),
            Err(ShellProtocolError::TooLong(_))
        ));
    }
}
