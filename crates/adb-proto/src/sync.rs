//! The file sync protocol spoken inside a `sync:` stream (adb push / pull / ls).
//!
//! Every message starts with a 4-byte ASCII id and a little-endian u32. Requests from the host:
//! `STAT`/`STA2`/`LST2`/`LIST`/`LIS2`/`SEND`/`RECV` with the u32 being the length of the path
//! that follows; `QUIT` (u32 ignored). During a `SEND` the host streams `DATA` (u32 = length,
//! at most [`SYNC_DATA_MAX`]) and finishes with `DONE` (u32 = mtime).
//!
//! Replies: `STAT mode size mtime` (v1, all zero when the path does not exist); `STA2`/`LST2`
//! with a full struct stat and an errno; `DENT`/`DNT2` per directory entry ending with a `DONE`
//! of the same size; `DATA`…`DONE` for a `RECV`; `OKAY` or `FAIL len message` after a `SEND`.
//! A `FAIL` ends the sync session.
//!
//! This module is the codec; the file system work happens in `device::sync`.

/// The most data one `DATA` message may carry.
pub const SYNC_DATA_MAX: usize = 64 * 1024;
/// The longest path adbd accepts in a request.
pub const MAX_PATH: usize = 1024;

pub const ID_STAT: [u8; 4] = *b"STAT";
pub const ID_STAT2: [u8; 4] = *b"STA2";
pub const ID_LSTAT2: [u8; 4] = *b"LST2";
pub const ID_LIST: [u8; 4] = *b"LIST";
pub const ID_LIST2: [u8; 4] = *b"LIS2";
pub const ID_DENT: [u8; 4] = *b"DENT";
pub const ID_DENT2: [u8; 4] = *b"DNT2";
pub const ID_SEND: [u8; 4] = *b"SEND";
pub const ID_RECV: [u8; 4] = *b"RECV";
pub const ID_DATA: [u8; 4] = *b"DATA";
pub const ID_DONE: [u8; 4] = *b"DONE";
pub const ID_OKAY: [u8; 4] = *b"OKAY";
pub const ID_FAIL: [u8; 4] = *b"FAIL";
pub const ID_QUIT: [u8; 4] = *b"QUIT";

/// errno values as adb puts them on the wire (Linux numbering).
pub const ENOENT: u32 = 2;
pub const EACCES: u32 = 13;
pub const ENOTDIR: u32 = 20;
pub const EINVAL: u32 = 22;

/// A message from the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Stat(String),
    Stat2(String),
    Lstat2(String),
    List(String),
    List2(String),
    /// `SEND "path,mode"`: the raw argument, see [`parse_send_target`].
    Send(String),
    Recv(String),
    Data(Vec<u8>),
    Done {
        mtime: u32,
    },
    Quit,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error("sync path of {0} bytes is too long (limit {MAX_PATH})")]
    PathTooLong(usize),
    #[error("sync DATA of {0} bytes is too long (limit {SYNC_DATA_MAX})")]
    DataTooLong(usize),
    #[error("unknown sync message id {0:?}")]
    UnknownId(String),
    #[error("sync path is not UTF-8")]
    PathNotUtf8,
}

/// Splits the host → device byte stream into requests.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub fn next_request(&mut self) -> Result<Option<Request>, SyncError> {
        if self.buf.len() < 8 {
            return Ok(None);
        }
        let id: [u8; 4] = self.buf[..4].try_into().unwrap();
        let arg = u32::from_le_bytes(self.buf[4..8].try_into().unwrap());
        let payload_len = match id {
            ID_DONE | ID_QUIT => 0,
            ID_DATA => {
                if arg as usize > SYNC_DATA_MAX {
                    return Err(SyncError::DataTooLong(arg as usize));
                }
                arg as usize
            }
            ID_STAT | ID_STAT2 | ID_LSTAT2 | ID_LIST | ID_LIST2 | ID_SEND | ID_RECV => {
                if arg as usize > MAX_PATH {
                    return Err(SyncError::PathTooLong(arg as usize));
                }
                arg as usize
            }
            other => {
                return Err(SyncError::UnknownId(
                    String::from_utf8_lossy(&other).into_owned(),
                ));
            }
        };
        if self.buf.len() < 8 + payload_len {
            return Ok(None);
        }
        let payload: Vec<u8> = self.buf[8..8 + payload_len].to_vec();
        self.buf.drain(..8 + payload_len);
        let path = || String::from_utf8(payload.clone()).map_err(|_| SyncError::PathNotUtf8);
        Ok(Some(match id {
            ID_DONE => Request::Done { mtime: arg },
            ID_QUIT => Request::Quit,
            ID_DATA => Request::Data(payload),
            ID_STAT => Request::Stat(path()?),
            ID_STAT2 => Request::Stat2(path()?),
            ID_LSTAT2 => Request::Lstat2(path()?),
            ID_LIST => Request::List(path()?),
            ID_LIST2 => Request::List2(path()?),
            ID_SEND => Request::Send(path()?),
            _ => Request::Recv(path()?),
        }))
    }
}

/// Splits `SEND`'s "path,mode" (mode in decimal, as adb formats it). A missing mode means 0644.
pub fn parse_send_target(arg: &str) -> (String, u32) {
    match arg.rsplit_once(',') {
        Some((path, mode)) => match mode.parse::<u32>() {
            Ok(m) => (path.to_string(), m),
            Err(_) => (arg.to_string(), 0o100644),
        },
        None => (arg.to_string(), 0o100644),
    }
}

/// File metadata as the sync protocol reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    /// st_mode, including the file type bits (S_IFREG 0o100000, S_IFDIR 0o040000, …).
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub atime: i64,
    pub mtime: i64,
    pub ctime: i64,
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_stat2_fields(out: &mut Vec<u8>, st: &Stat) {
    out.extend_from_slice(&st.dev.to_le_bytes());
    out.extend_from_slice(&st.ino.to_le_bytes());
    put_u32(out, st.mode);
    put_u32(out, st.nlink);
    put_u32(out, st.uid);
    put_u32(out, st.gid);
    out.extend_from_slice(&st.size.to_le_bytes());
    out.extend_from_slice(&st.atime.to_le_bytes());
    out.extend_from_slice(&st.mtime.to_le_bytes());
    out.extend_from_slice(&st.ctime.to_le_bytes());
}

/// `STAT` reply (v1): 16 bytes; a missing file is all zeros.
pub fn stat_v1(st: Option<&Stat>) -> Vec<u8> {
    let mut out = ID_STAT.to_vec();
    let st = st.copied().unwrap_or_default();
    put_u32(&mut out, st.mode);
    put_u32(&mut out, st.size as u32);
    put_u32(&mut out, st.mtime as u32);
    out
}

/// `STA2`/`LST2` reply: 72 bytes, `error` is an errno or 0.
pub fn stat_v2(id: [u8; 4], st: Result<&Stat, u32>) -> Vec<u8> {
    let mut out = id.to_vec();
    match st {
        Ok(st) => {
            put_u32(&mut out, 0);
            put_stat2_fields(&mut out, st);
        }
        Err(errno) => {
            put_u32(&mut out, errno);
            put_stat2_fields(&mut out, &Stat::default());
        }
    }
    out
}

/// One `LIST` entry.
pub fn dent_v1(st: &Stat, name: &str) -> Vec<u8> {
    let mut out = ID_DENT.to_vec();
    put_u32(&mut out, st.mode);
    put_u32(&mut out, st.size as u32);
    put_u32(&mut out, st.mtime as u32);
    put_u32(&mut out, name.len() as u32);
    out.extend_from_slice(name.as_bytes());
    out
}

/// The end of a `LIST`: a `DONE` the size of a `DENT` header.
pub fn dent_v1_done() -> Vec<u8> {
    let mut out = ID_DONE.to_vec();
    out.extend_from_slice(&[0; 16]);
    out
}

/// One `LIS2` entry.
pub fn dent_v2(st: &Stat, name: &str) -> Vec<u8> {
    let mut out = ID_DENT2.to_vec();
    put_u32(&mut out, 0);
    put_stat2_fields(&mut out, st);
    put_u32(&mut out, name.len() as u32);
    out.extend_from_slice(name.as_bytes());
    out
}

/// The end of a `LIS2`: a `DONE` the size of a `DNT2` header.
pub fn dent_v2_done() -> Vec<u8> {
    let mut out = ID_DONE.to_vec();
    out.extend_from_slice(&[0; 72]);
    out
}

/// A `DATA` message (callers keep `data` ≤ [`SYNC_DATA_MAX`]).
pub fn data(data: &[u8]) -> Vec<u8> {
    let mut out = ID_DATA.to_vec();
    put_u32(&mut out, data.len() as u32);
    out.extend_from_slice(data);
    out
}

/// The `DONE` that ends a `RECV`.
pub fn done() -> Vec<u8> {
    let mut out = ID_DONE.to_vec();
    put_u32(&mut out, 0);
    out
}

/// `OKAY` after a successful `SEND`.
pub fn okay() -> Vec<u8> {
    let mut out = ID_OKAY.to_vec();
    put_u32(&mut out, 0);
    out
}

/// `FAIL` with a message (adb prints it after "remote").
pub fn fail(message: &str) -> Vec<u8> {
    let mut out = ID_FAIL.to_vec();
    put_u32(&mut out, message.len() as u32);
    out.extend_from_slice(message.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(id: &[u8; 4], arg: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = id.to_vec();
        v.extend_from_slice(&arg.to_le_bytes());
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn decodes_a_push_session_in_fragments() {
        let mut bytes = req(b"STA2", 15, b"/data/local/tmp");
        bytes.extend(req(b"SEND", 23, b"/data/local/tmp/x,33188"));
        bytes.extend(req(b"DATA", 3, b"abc"));
        bytes.extend(req(b"DONE", 1_700_000_000, b""));
        bytes.extend(req(b"QUIT", 0, b""));
        let mut d = Decoder::default();
        let mut got = Vec::new();
        for chunk in bytes.chunks(5) {
            d.feed(chunk);
            while let Some(r) = d.next_request().unwrap() {
                got.push(r);
            }
        }
        assert_eq!(
            got,
            vec![
                Request::Stat2("/data/local/tmp".into()),
                Request::Send("/data/local/tmp/x,33188".into()),
                Request::Data(b"abc".to_vec()),
                Request::Done {
                    mtime: 1_700_000_000
                },
                Request::Quit,
            ]
        );
        assert_eq!(
            parse_send_target("/data/local/tmp/x,33188"),
            ("/data/local/tmp/x".into(), 33188)
        );
        assert_eq!(parse_send_target("/a,b/c,33188"), ("/a,b/c".into(), 33188));
        assert_eq!(parse_send_target("/x"), ("/x".into(), 0o100644));
    }

    #[test]
    fn refuses_oversize_and_unknown_messages() {
        let mut d = Decoder::default();
        d.feed(&req(b"DATA", 64 * 1024 + 1, b""));
        assert_eq!(d.next_request(), Err(SyncError::DataTooLong(65537)));
        let mut d = Decoder::default();
        d.feed(&req(b"RECV", 4096, b""));
        assert_eq!(d.next_request(), Err(SyncError::PathTooLong(4096)));
        let mut d = Decoder::default();
        d.feed(&req(b"ZZZZ", 0, b""));
        assert_eq!(d.next_request(), Err(SyncError::UnknownId("ZZZZ".into())));
    }

    #[test]
    fn reply_layouts() {
        let st = Stat {
            mode: 0o100644,
            size: 5,
            mtime: 7,
            ..Default::default()
        };
        assert_eq!(
            stat_v1(Some(&st)),
            [
                b"STAT".as_slice(),
                &0o100644u32.to_le_bytes(),
                &[5, 0, 0, 0],
                &[7, 0, 0, 0]
            ]
            .concat()
        );
        assert_eq!(stat_v1(None), [b"STAT".as_slice(), &[0; 12]].concat());
        assert_eq!(stat_v2(ID_STAT2, Ok(&st)).len(), 72);
        let missing = stat_v2(ID_LSTAT2, Err(ENOENT));
        assert_eq!(&missing[..8], b"LST2\x02\x00\x00\x00");
        assert_eq!(dent_v1(&st, "ab").len(), 20 + 2);
        assert_eq!(dent_v1_done().len(), 20);
        assert_eq!(dent_v2(&st, "ab").len(), 76 + 2);
        assert_eq!(dent_v2_done().len(), 76);
        assert_eq!(fail("no"), b"FAIL\x02\x00\x00\x00no");
        assert_eq!(okay(), b"OKAY\x00\x00\x00\x00");
        assert_eq!(data(b"z"), b"DATA\x01\x00\x00\x00z");
        assert_eq!(done(), b"DONE\x00\x00\x00\x00");
    }
}
