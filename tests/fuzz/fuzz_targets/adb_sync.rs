//! The adb file sync protocol (`sync:` streams: push, pull, ls), device side. Fed in pieces it
//! yields the same requests as fed at once; paths and DATA stay within their limits; a SEND
//! target always splits into a path and a mode.
#![no_main]
use libfuzzer_sys::fuzz_target;
use playrack_adb_proto::sync::{Decoder, MAX_PATH, Request, SYNC_DATA_MAX, parse_send_target};
use playrack_fuzz::{decode_pieces, same_in_pieces};

fn run(chunks: &[&[u8]]) -> Vec<Result<Request, String>> {
    decode_pieces(
        chunks,
        Decoder::default(),
        Decoder::feed,
        Decoder::next_request,
        |r| {
            match &r {
                Request::Data(b) => assert!(b.len() <= SYNC_DATA_MAX),
                Request::Send(arg) => {
                    assert!(arg.len() <= MAX_PATH);
                    let (path, _mode) = parse_send_target(arg);
                    assert!(path.len() <= arg.len());
                }
                Request::Stat(p)
                | Request::Stat2(p)
                | Request::Lstat2(p)
                | Request::List(p)
                | Request::List2(p)
                | Request::Recv(p) => assert!(p.len() <= MAX_PATH),
                Request::Done { .. } | Request::Quit => {}
            }
            r
        },
    )
}

fuzz_target!(|data: &[u8]| {
    if let Some((&sel, stream)) = data.split_first() {
        same_in_pieces(stream, sel, run);
    }
});
