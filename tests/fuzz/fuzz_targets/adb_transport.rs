//! One adb connection as the virtual device's adbd runs it: CNXN/AUTH negotiation (with the
//! host's RSA public key parsed when offered), stream open/accept/refuse, WRTE/OKAY flow
//! control, CLSE — fed arbitrary bytes in pieces, with service names parsed as adbd does.
//! Everything the device sends back is well-formed adb within the negotiated payload limit.
#![no_main]
use libfuzzer_sys::fuzz_target;
use playrack_adb_proto::auth::AdbKeys;
use playrack_adb_proto::packet::{Checksum, MAX_PAYLOAD, PacketDecoder};
use playrack_adb_proto::service::Service;
use playrack_adb_proto::transport::{AuthMode, Connection, ConnectionConfig, Event};
use playrack_fuzz::pieces;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, stream)) = data.split_first() else {
        return;
    };
    let auth = if sel & 1 == 0 {
        AuthMode::Disabled
    } else {
        AuthMode::AcceptAny(AdbKeys::default())
    };
    let config = ConnectionConfig {
        banner: "device::ro.product.name=fuzz;features=shell_v2,cmd".into(),
        max_payload: MAX_PAYLOAD,
        auth,
    };
    let mut conn = Connection::new(config, Box::new(|| [7u8; 20]));
    let mut sent = PacketDecoder::new();
    for piece in pieces(stream, sel) {
        if conn.handle_input(piece).is_err() {
            break;
        }
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Open { local_id, service } => {
                    let _ = Service::parse(&service);
                    if local_id % 2 == 0 {
                        let _ = conn.accept(local_id);
                    } else {
                        let _ = conn.refuse(local_id);
                    }
                }
                Event::Data { local_id, data } => {
                    let _ = conn.write(local_id, &data);
                    conn.ack(local_id);
                    if data.first() == Some(&b'x') {
                        conn.close(local_id);
                    }
                }
                Event::Online { .. } if sel & 2 != 0 => {
                    let _ = conn.open("localabstract:scrcpy_0000002a");
                }
                _ => {}
            }
        }
        while let Some(bytes) = conn.poll_transmit() {
            sent.feed(&bytes);
            while let Some(p) = sent
                .next_packet(conn.max_payload().max(4096), Checksum::Verify)
                .expect("the device sends well-formed packets")
            {
                assert!(p.data.len() <= MAX_PAYLOAD as usize);
            }
        }
    }
    for id in conn.open_streams() {
        conn.close(id);
    }
});
