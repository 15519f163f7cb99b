//! Shell v2 framing (`shell,v2,…:` streams), device side: host messages (stdin, close-stdin,
//! window size). Fed in pieces it yields the same messages as fed at once, within the size
//! limit; re-encoding stdin gives back the same frame.
#![no_main]
use libfuzzer_sys::fuzz_target;
use playrack_adb_proto::shell_protocol::{Decoder, HostMessage, ID_STDIN, MAX_MESSAGE, encode};
use playrack_fuzz::{decode_pieces, same_in_pieces};

fn run(chunks: &[&[u8]]) -> Vec<Result<HostMessage, String>> {
    decode_pieces(
        chunks,
        Decoder::default(),
        Decoder::feed,
        Decoder::next_message,
        |m| {
            if let HostMessage::Stdin(b) = &m {
                assert!(b.len() <= MAX_MESSAGE);
                let mut again = Decoder::default();
                again.feed(&encode(ID_STDIN, b));
                assert_eq!(again.next_message(), Ok(Some(m.clone())));
            }
            m
        },
    )
}

fuzz_target!(|data: &[u8]| {
    if let Some((&sel, stream)) = data.split_first() {
        same_in_pieces(stream, sel, run);
    }
});
