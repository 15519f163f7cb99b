//! The adb file sync protocol (`sync:` streams: push, pull, ls), device side. Fed in pieces it
//! yields the same requests as fed at once; paths and DATA stay within their limits; a SEND
//! target always splits into a path and a mode.
#![no_main]
use playrack_adb_proto::sync::{Decoder, MAX_PATH, Request, SYNC_DATA_MAX, parse_send_target};
use libfuzzer_sys::fuzz_target;
use playrack_fuzz::pieces;

fn run(chunks: &[&[u8]]) -> Vec<Result<Request, String>> {
    let mut d = Decoder::default();
    let mut out = Vec::new();
    for c in chunks {
        d.feed(c);
        loop {
            match d.next_request() {
                Ok(Some(r)) => {
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
                    out.push(Ok(r));
                }
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    return out;
                }
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, stream)) = data.split_first() else {
        return;
    };
    assert_eq!(run(&[stream]), run(&pieces(stream, sel)));
});
