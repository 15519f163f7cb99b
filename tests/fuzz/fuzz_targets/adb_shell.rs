//! Shell v2 framing (`shell,v2,…:` streams), device side: host messages (stdin, close-stdin,
//! window size). Fed in pieces it yields the same messages as fed at once, within the size
//! limit; re-encoding stdin gives back the same frame.
#![no_main]
use playrack_adb_proto::shell_protocol::{Decoder, HostMessage, ID_STDIN, MAX_MESSAGE, encode};
use libfuzzer_sys::fuzz_target;
use playrack_fuzz::pieces;

fn run(chunks: &[&[u8]]) -> Vec<Result<HostMessage, String>> {
    let mut d = Decoder::default();
    let mut out = Vec::new();
    for c in chunks {
        d.feed(c);
        loop {
            match d.next_message() {
                Ok(Some(m)) => {
                    if let HostMessage::Stdin(b) = &m {
                        assert!(b.len() <= MAX_MESSAGE);
                        let mut again = Decoder::default();
                        again.feed(&encode(ID_STDIN, b));
                        assert_eq!(again.next_message(), Ok(Some(m.clone())));
                    }
                    out.push(Ok(m));
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
