//! adb packet framing (24-byte header + payload), device side. The first byte picks the
//! payload limit and checksum mode; the rest is the byte stream. Fed in pieces it yields the
//! same packets (or the same error) as fed at once, every packet respects the limit, and
//! encoding a packet decodes to the same packet.
#![no_main]
use libfuzzer_sys::fuzz_target;
use playrack_adb_proto::packet::{Checksum, MAX_PAYLOAD, MAX_PAYLOAD_V1, PacketDecoder, encode};
use playrack_fuzz::{decode_pieces, same_in_pieces};

fn run(chunks: &[&[u8]], max: u32, mode: Checksum) -> Vec<Result<Vec<u8>, String>> {
    decode_pieces(
        chunks,
        PacketDecoder::new(),
        PacketDecoder::feed,
        |d| d.next_packet(max, mode),
        |p| {
            assert!(p.data.len() <= max as usize);
            let bytes = encode(&p);
            let mut again = PacketDecoder::new();
            again.feed(&bytes);
            assert_eq!(
                again.next_packet(max, Checksum::Verify),
                Ok(Some(p.clone()))
            );
            assert_eq!(again.buffered(), 0);
            bytes
        },
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, stream)) = data.split_first() else {
        return;
    };
    let max = if sel & 1 == 0 {
        MAX_PAYLOAD_V1
    } else {
        MAX_PAYLOAD
    };
    let mode = match (sel >> 1) % 3 {
        0 => Checksum::Verify,
        1 => Checksum::VerifyUnlessZero,
        _ => Checksum::Skip,
    };
    same_in_pieces(stream, sel, |chunks| run(chunks, max, mode));
});
