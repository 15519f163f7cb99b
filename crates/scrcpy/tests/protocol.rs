//! Byte-exact tests of the scrcpy 4.1 protocol against scrcpy's own test vectors:
//! `app/tests/test_control_msg_serialize.c`, `app/tests/test_device_msg_deserialize.c`,
//! `server/src/test/.../ControlMessageReaderTest.java` and `DeviceMessageWriterTest.java`
//! (Genymobile/scrcpy, tag v4.1), plus the stream framing of `Streamer.java`/`demuxer.c` and
//! malformed input.

use playrack_scrcpy::control_msg::*;
use playrack_scrcpy::device_msg::*;
use playrack_scrcpy::stream::*;
use playrack_scrcpy::{ControlMsg, DeviceMsg, Options, SCRCPY_VERSION};

fn ser(m: &ControlMsg) -> Vec<u8> {
    m.to_bytes()
}

/// Decodes exactly one message that fills the buffer (the Java tests check EOS after it).
fn de(bytes: &[u8]) -> ControlMsg {
    let (m, n) = ControlMsg::deserialize(bytes).unwrap().unwrap();
    assert_eq!(n, bytes.len(), "the message must consume every byte");
    m
}

const POS_1080: Position = Position {
    x: 100,
    y: 200,
    width: 1080,
    height: 1920,
};

// ---- test_control_msg_serialize.c ----

#[test]
fn serialize_inject_keycode() {
    let m = ControlMsg::InjectKeycode {
        action: AKEY_EVENT_ACTION_UP,
        keycode: AKEYCODE_ENTER,
        repeat: 5,
        metastate: AMETA_SHIFT_ON | AMETA_SHIFT_LEFT_ON,
    };
    let expected = [
        0x00, 0x01, 0x00, 0x00, 0x00, 0x42, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x41,
    ];
    assert_eq!(ser(&m), expected);
    assert_eq!(de(&expected), m);
}

#[test]
fn serialize_inject_text() {
    let m = ControlMsg::InjectText {
        text: "hello, world!".into(),
    };
    let mut expected = vec![0x01, 0x00, 0x00, 0x00, 0x0d];
    expected.extend_from_slice(b"hello, world!");
    assert_eq!(ser(&m).len(), 18);
    assert_eq!(ser(&m), expected);
    assert_eq!(de(&expected), m);
}

#[test]
fn serialize_inject_text_long() {
    let text = "a".repeat(INJECT_TEXT_MAX_LENGTH);
    let m = ControlMsg::InjectText { text: text.clone() };
    let mut expected = vec![0x01, 0x00, 0x00, 0x01, 0x2c];
    expected.extend_from_slice(text.as_bytes());
    assert_eq!(ser(&m), expected);
    // longer text is cut to 300 bytes by the client, at a UTF-8 boundary
    let longer = ControlMsg::InjectText {
        text: format!("{}é", "a".repeat(299)),
    };
    let b = ser(&longer);
    assert_eq!(&b[1..5], &[0, 0, 0x01, 0x2b]);
    assert_eq!(b.len(), 5 + 299);
}

#[test]
fn serialize_inject_touch_event() {
    let m = ControlMsg::InjectTouchEvent {
        action: AMOTION_EVENT_ACTION_DOWN,
        pointer_id: 0x1234567887654321,
        position: POS_1080,
        pressure: 1.0,
        action_button: AMOTION_EVENT_BUTTON_PRIMARY,
        buttons: AMOTION_EVENT_BUTTON_PRIMARY,
    };
    let expected = [
        0x02, // type
        0x00, // AKEY_EVENT_ACTION_DOWN
        0x12, 0x34, 0x56, 0x78, 0x87, 0x65, 0x43, 0x21, // pointer id
        0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0xc8, // 100 200
        0x04, 0x38, 0x07, 0x80, // 1080 1920
        0xff, 0xff, // pressure
        0x00, 0x00, 0x00, 0x01, // action button
        0x00, 0x00, 0x00, 0x01, // buttons
    ];
    assert_eq!(ser(&m), expected);
    assert_eq!(de(&expected), m);
}

#[test]
fn serialize_inject_scroll_event() {
    let m = ControlMsg::InjectScrollEvent {
        position: Position {
            x: 260,
            y: 1026,
            width: 1080,
            height: 1920,
        },
        hscroll: 16.0,
        vscroll: -16.0,
        buttons: 1,
    };
    let expected = [
        0x03, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x04, 0x02, // 260 1026
        0x04, 0x38, 0x07, 0x80, // 1080 1920
        0x7F, 0xFF, // 16
        0x80, 0x00, // -16
        0x00, 0x00, 0x00, 0x01,
    ];
    assert_eq!(ser(&m), expected);
    assert_eq!(de(&expected), m);
    // one notch
    let one = ControlMsg::InjectScrollEvent {
        position: Position::default(),
        hscroll: 1.0,
        vscroll: 0.0,
        buttons: 0,
    };
    assert_eq!(&ser(&one)[13..15], &[0x08, 0x00]);
}

#[test]
fn serialize_back_or_screen_on() {
    let m = ControlMsg::BackOrScreenOn {
        action: AKEY_EVENT_ACTION_UP,
    };
    assert_eq!(ser(&m), [0x04, 0x01]);
    assert_eq!(de(&[0x04, 0x01]), m);
}

#[test]
fn serialize_one_byte_messages() {
    for (m, t) in [
        (ControlMsg::ExpandNotificationPanel, 5u8),
        (ControlMsg::ExpandSettingsPanel, 6),
        (ControlMsg::CollapsePanels, 7),
        (ControlMsg::RotateDevice, 11),
        (ControlMsg::OpenHardKeyboardSettings, 15),
        (ControlMsg::ResetVideo, 17),
        (ControlMsg::CameraZoomIn, 19),
        (ControlMsg::CameraZoomOut, 20),
    ] {
        assert_eq!(ser(&m), [t]);
        assert_eq!(de(&[t]), m);
    }
}

#[test]
fn serialize_get_clipboard() {
    let m = ControlMsg::GetClipboard {
        copy_key: COPY_KEY_COPY,
    };
    assert_eq!(ser(&m), [0x08, 0x01]);
    assert_eq!(de(&[0x08, 0x01]), m);
}

#[test]
fn serialize_set_clipboard() {
    let m = ControlMsg::SetClipboard {
        sequence: 0x0102030405060708,
        paste: true,
        text: "hello, world!".into(),
    };
    let mut expected = vec![
        0x09, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 1, 0x00, 0x00, 0x00, 0x0d,
    ];
    expected.extend_from_slice(b"hello, world!");
    assert_eq!(expected.len(), 27);
    assert_eq!(ser(&m), expected);
    assert_eq!(de(&expected), m);
}

#[test]
fn serialize_set_clipboard_long() {
    let text = "a".repeat(CLIPBOARD_TEXT_MAX_LENGTH);
    let m = ControlMsg::SetClipboard {
        sequence: 0x0102030405060708,
        paste: true,
        text: text.clone(),
    };
    let b = ser(&m);
    assert_eq!(b.len(), CONTROL_MSG_MAX_SIZE);
    let l = CLIPBOARD_TEXT_MAX_LENGTH as u32;
    assert_eq!(
        &b[..14],
        &[
            0x09,
            0x01,
            0x02,
            0x03,
            0x04,
            0x05,
            0x06,
            0x07,
            0x08,
            1,
            (l >> 24) as u8,
            (l >> 16) as u8,
            (l >> 8) as u8,
            l as u8
        ]
    );
    assert!(b[14..].iter().all(|&c| c == b'a'));
    assert_eq!(de(&b), m);
}

#[test]
fn serialize_set_display_power() {
    let m = ControlMsg::SetDisplayPower { on: true };
    assert_eq!(ser(&m), [0x0a, 0x01]);
    assert_eq!(de(&[0x0a, 0x01]), m);
}

#[test]
fn serialize_uhid_create() {
    let m = ControlMsg::UhidCreate {
        id: 42,
        vendor_id: 0x1234,
        product_id: 0x5678,
        name: "ABC".into(),
        report_desc: vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    };
    let expected = [
        0x0c, 0, 42, 0x12, 0x34, 0x56, 0x78, 3, 65, 66, 67, 0, 11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
        11,
    ];
    assert_eq!(ser(&m), expected);
    assert_eq!(de(&expected), m);
}

#[test]
fn serialize_uhid_input() {
    let m = ControlMsg::UhidInput {
        id: 42,
        data: vec![1, 2, 3, 4, 5],
    };
    let expected = [0x0d, 0, 42, 0, 5, 1, 2, 3, 4, 5];
    assert_eq!(ser(&m), expected);
    assert_eq!(de(&expected), m);
}

#[test]
fn serialize_uhid_destroy() {
    let m = ControlMsg::UhidDestroy { id: 42 };
    assert_eq!(ser(&m), [0x0e, 0, 42]);
    assert_eq!(de(&[0x0e, 0, 42]), m);
}

#[test]
fn serialize_start_app() {
    let m = ControlMsg::StartApp {
        name: "firefox".into(),
    };
    let expected = [0x10, 7, b'f', b'i', b'r', b'e', b'f', b'o', b'x'];
    assert_eq!(ser(&m), expected);
    assert_eq!(de(&expected), m);
}

#[test]
fn serialize_camera_set_torch() {
    let m = ControlMsg::CameraSetTorch { on: true };
    assert_eq!(ser(&m), [0x12, 0x01]);
    assert_eq!(de(&[0x12, 0x01]), m);
}

#[test]
fn serialize_resize_display() {
    let m = ControlMsg::ResizeDisplay {
        width: 1920,
        height: 1080,
    };
    let expected = [0x15, 0x07, 0x80, 0x04, 0x38];
    assert_eq!(ser(&m), expected);
    assert_eq!(de(&expected), m);
}

#[test]
fn serialize_scan_file() {
    let m = ControlMsg::ScanFile {
        path: "/sdcard/Download".into(),
    };
    let mut expected = vec![0x16, 0x00, 0x00, 0x00, 0x10];
    expected.extend_from_slice(b"/sdcard/Download");
    assert_eq!(expected.len(), 21);
    assert_eq!(ser(&m), expected);
    assert_eq!(de(&expected), m);
}

// ---- ControlMessageReaderTest.java ----

#[test]
fn parse_keycode_event_java() {
    // META_CTRL_ON = 0x1000
    let bytes = [0, 1, 0, 0, 0, 66, 0, 0, 0, 5, 0, 0, 0x10, 0];
    assert_eq!(
        de(&bytes),
        ControlMsg::InjectKeycode {
            action: 1,
            keycode: 66,
            repeat: 5,
            metastate: 0x1000
        }
    );
}

#[test]
fn parse_text_event_java() {
    let text = "testé".as_bytes();
    let mut bytes = vec![1, 0, 0, 0, text.len() as u8];
    bytes.extend_from_slice(text);
    assert_eq!(
        de(&bytes),
        ControlMsg::InjectText {
            text: "testé".into()
        }
    );
}

#[test]
fn parse_touch_event_java() {
    let mut bytes = vec![2, 0];
    bytes.extend_from_slice(&(-42i64).to_be_bytes());
    bytes.extend_from_slice(&[0, 0, 0, 100, 0, 0, 0, 200, 0x04, 0x38, 0x07, 0x80]);
    bytes.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 1]);
    match de(&bytes) {
        ControlMsg::InjectTouchEvent {
            action,
            pointer_id,
            position,
            pressure,
            action_button,
            buttons,
        } => {
            assert_eq!(action, 0);
            assert_eq!(pointer_id as i64, -42);
            assert_eq!(position, POS_1080);
            assert_eq!(pressure, 1.0, "must be exact");
            assert_eq!((action_button, buttons), (1, 1));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn parse_scroll_event_java() {
    let bytes = [
        3, 0, 0, 0x01, 0x04, 0, 0, 0x04, 0x02, 0x04, 0x38, 0x07, 0x80, 0, 0, 0x80, 0x00, 0, 0, 0, 1,
    ];
    assert_eq!(
        de(&bytes),
        ControlMsg::InjectScrollEvent {
            position: Position {
                x: 260,
                y: 1026,
                width: 1080,
                height: 1920
            },
            hscroll: 0.0,
            vscroll: -16.0,
            buttons: 1
        }
    );
}

#[test]
fn parse_big_set_clipboard_java() {
    let mut bytes = vec![9];
    bytes.extend_from_slice(&0x0807060504030201u64.to_be_bytes());
    bytes.push(1);
    bytes.extend_from_slice(&(CLIPBOARD_TEXT_MAX_LENGTH as u32).to_be_bytes());
    bytes.extend(std::iter::repeat_n(b'a', CLIPBOARD_TEXT_MAX_LENGTH));
    match de(&bytes) {
        ControlMsg::SetClipboard {
            sequence,
            paste,
            text,
        } => {
            assert_eq!(sequence, 0x0807060504030201);
            assert!(paste);
            assert_eq!(text.len(), CLIPBOARD_TEXT_MAX_LENGTH);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn parse_multi_events_java() {
    let mut bytes = vec![0, 1, 0, 0, 0, 66, 0, 0, 0, 0, 0, 0, 0x10, 0];
    bytes.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0x10, 0]);
    let mut r = ControlMsgReader::new();
    r.push(&bytes);
    assert_eq!(
        r.next_msg().unwrap(),
        Some(ControlMsg::InjectKeycode {
            action: 1,
            keycode: 66,
            repeat: 0,
            metastate: 0x1000
        })
    );
    assert_eq!(
        r.next_msg().unwrap(),
        Some(ControlMsg::InjectKeycode {
            action: 0,
            keycode: 1,
            repeat: 1,
            metastate: 0x1000
        })
    );
    assert_eq!(r.next_msg().unwrap(), None);
    assert_eq!(r.pending(), 0);
}

#[test]
fn parse_partial_events_java() {
    // one full keycode event, then the first two bytes of another: the second needs more data
    let bytes = [0, 1, 0, 0, 0, 66, 0, 0, 0, 4, 0, 0, 0x10, 0, 0, 0];
    let mut r = ControlMsgReader::new();
    r.push(&bytes);
    assert!(matches!(
        r.next_msg().unwrap(),
        Some(ControlMsg::InjectKeycode { repeat: 4, .. })
    ));
    assert_eq!(r.next_msg().unwrap(), None);
    assert_eq!(r.pending(), 2);
}

// ---- malformed control input ----

#[test]
fn unknown_type_is_an_error() {
    for t in [23u8, 24, 100, 255] {
        assert_eq!(
            ControlMsg::deserialize(&[t, 0, 0]),
            Err(ControlMsgError::UnknownType(t))
        );
    }
    assert_eq!(
        ControlMsgError::UnknownType(23).to_string(),
        "Unknown event type: 23"
    );
}

#[test]
fn length_beyond_the_maximum_is_an_error() {
    // INJECT_TEXT declaring 1 GiB
    let bytes = [1, 0x40, 0, 0, 0];
    assert!(matches!(
        ControlMsg::deserialize(&bytes),
        Err(ControlMsgError::TooLarge { msg_type: 1, .. })
    ));
    // SET_CLIPBOARD one byte over the maximum
    let mut b = vec![9, 0, 0, 0, 0, 0, 0, 0, 1, 0];
    b.extend_from_slice(&((CLIPBOARD_TEXT_MAX_LENGTH + 1) as u32).to_be_bytes());
    assert!(matches!(
        ControlMsg::deserialize(&b),
        Err(ControlMsgError::TooLarge { msg_type: 9, .. })
    ));
    // SCAN_FILE with u32::MAX
    assert!(ControlMsg::deserialize(&[22, 0xff, 0xff, 0xff, 0xff]).is_err());
}

#[test]
fn messages_fed_byte_by_byte() {
    let msgs = vec![
        ControlMsg::InjectTouchEvent {
            action: AMOTION_EVENT_ACTION_MOVE,
            pointer_id: POINTER_ID_MOUSE,
            position: POS_1080,
            pressure: 0.5,
            action_button: 0,
            buttons: 0,
        },
        ControlMsg::SetClipboard {
            sequence: 1,
            paste: false,
            text: "päste".into(),
        },
        ControlMsg::ResetVideo,
        ControlMsg::UhidCreate {
            id: 1,
            vendor_id: 2,
            product_id: 3,
            name: "n".into(),
            report_desc: vec![9; 300],
        },
    ];
    let stream: Vec<u8> = msgs.iter().flat_map(|m| m.to_bytes()).collect();
    let mut r = ControlMsgReader::new();
    let mut got = Vec::new();
    for b in &stream {
        r.push(std::slice::from_ref(b));
        while let Some(m) = r.next_msg().unwrap() {
            got.push(m);
        }
    }
    assert_eq!(got, msgs);
    // and an unknown type after valid ones is reported when reached
    r.push(&[0x63]);
    assert_eq!(r.next_msg(), Err(ControlMsgError::UnknownType(0x63)));
}

// ---- device messages: test_device_msg_deserialize.c and DeviceMessageWriterTest.java ----

#[test]
fn deserialize_clipboard() {
    let input = [0x00, 0x00, 0x00, 0x00, 0x03, 0x41, 0x42, 0x43];
    let (m, n) = DeviceMsg::deserialize(&input).unwrap().unwrap();
    assert_eq!(n, 8);
    assert_eq!(m, DeviceMsg::Clipboard { text: "ABC".into() });
    assert_eq!(m.to_bytes(), input);
}

#[test]
fn deserialize_clipboard_big() {
    let mut input = vec![0u8];
    input.extend_from_slice(&(DEVICE_MSG_TEXT_MAX_LENGTH as u32).to_be_bytes());
    input.extend(std::iter::repeat_n(b'a', DEVICE_MSG_TEXT_MAX_LENGTH));
    assert_eq!(input.len(), DEVICE_MSG_MAX_SIZE);
    let (m, n) = DeviceMsg::deserialize(&input).unwrap().unwrap();
    assert_eq!(n, DEVICE_MSG_MAX_SIZE);
    match m {
        DeviceMsg::Clipboard { text } => {
            assert_eq!(text.len(), DEVICE_MSG_TEXT_MAX_LENGTH);
            assert!(text.starts_with('a'));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn deserialize_ack_set_clipboard() {
    let input = [0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08];
    let (m, n) = DeviceMsg::deserialize(&input).unwrap().unwrap();
    assert_eq!(n, 9);
    assert_eq!(
        m,
        DeviceMsg::AckClipboard {
            sequence: 0x0102030405060708
        }
    );
    assert_eq!(m.to_bytes(), input);
}

#[test]
fn deserialize_uhid_output() {
    let input = [0x02, 0, 42, 0, 5, 1, 2, 3, 4, 5];
    let (m, n) = DeviceMsg::deserialize(&input).unwrap().unwrap();
    assert_eq!(n, 10);
    assert_eq!(
        m,
        DeviceMsg::UhidOutput {
            id: 42,
            data: vec![1, 2, 3, 4, 5]
        }
    );
    assert_eq!(m.to_bytes(), input);
}

#[test]
fn serialize_clipboard_java() {
    let text = "aéûoç";
    let mut expected = vec![0u8];
    expected.extend_from_slice(&(text.len() as u32).to_be_bytes());
    expected.extend_from_slice(text.as_bytes());
    assert_eq!(
        DeviceMsg::Clipboard { text: text.into() }.to_bytes(),
        expected
    );
}

#[test]
fn device_msgs_malformed_and_partial() {
    assert_eq!(
        DeviceMsg::deserialize(&[3]),
        Err(playrack_scrcpy::device_msg::DeviceMsgError::UnknownType(3))
    );
    let mut too_big = vec![0u8];
    too_big.extend_from_slice(&((DEVICE_MSG_TEXT_MAX_LENGTH + 1) as u32).to_be_bytes());
    assert!(DeviceMsg::deserialize(&too_big).is_err());
    let full = DeviceMsg::UhidOutput {
        id: 1,
        data: vec![7; 20],
    }
    .to_bytes();
    let mut r = DeviceMsgReader::new();
    for b in &full[..full.len() - 1] {
        r.push(std::slice::from_ref(b));
        assert_eq!(r.next_msg().unwrap(), None);
    }
    r.push(&full[full.len() - 1..]);
    assert!(matches!(
        r.next_msg().unwrap(),
        Some(DeviceMsg::UhidOutput { id: 1, .. })
    ));
}

// ---- stream framing ----

#[test]
fn codec_ids_are_ascii_names() {
    assert_eq!(CODEC_ID_H264.to_be_bytes(), *b"h264");
    assert_eq!(CODEC_ID_H265.to_be_bytes(), *b"h265");
    assert_eq!(CODEC_ID_AV1.to_be_bytes(), *b"\0av1");
    assert_eq!(CODEC_ID_VP8.to_be_bytes(), *b"\0vp8");
    assert_eq!(CODEC_ID_VP9.to_be_bytes(), *b"\0vp9");
    assert_eq!(CODEC_ID_OPUS.to_be_bytes(), *b"opus");
    assert_eq!(CODEC_ID_AAC.to_be_bytes(), *b"\0aac");
    assert_eq!(CODEC_ID_FLAC.to_be_bytes(), *b"flac");
    assert_eq!(CODEC_ID_RAW.to_be_bytes(), *b"\0raw");
}

#[test]
fn session_packet_bytes() {
    assert_eq!(
        session_packet(1080, 1920, false),
        [0x80, 0, 0, 0, 0, 0, 0x04, 0x38, 0, 0, 0x07, 0x80]
    );
    // the client-resized flag is bit 0 of byte 3 (not byte 0, as one web client reads it)
    assert_eq!(session_packet(720, 1280, true)[..4], [0x80, 0, 0, 0x01]);
}

#[test]
fn media_header_bytes() {
    // config: only the flag, PTS bits 0
    assert_eq!(
        media_header(123456, true, false, 20),
        [0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20]
    );
    // key frame with PTS 0x0102
    assert_eq!(
        media_header(0x0102, false, true, 0x010000),
        [0x20, 0, 0, 0, 0, 0, 0x01, 0x02, 0, 0x01, 0, 0]
    );
    // an ordinary frame
    assert_eq!(media_header(5, false, false, 1)[0], 0);
}

#[test]
fn device_name_block() {
    let b = device_meta("Pixel 8");
    assert_eq!(b.len(), 64);
    assert_eq!(&b[..7], b"Pixel 8");
    assert!(b[7..].iter().all(|&c| c == 0));
    assert_eq!(parse_device_meta(&b), "Pixel 8");
    // 63 bytes at most, cut at a UTF-8 boundary
    let long = "é".repeat(40); // 80 bytes
    let b = device_meta(&long);
    assert_eq!(parse_device_meta(&b), "é".repeat(31));
    assert_eq!(b[62], 0);
}

fn server_bytes(forward: bool) -> (Vec<u8>, Options) {
    let o = Options {
        tunnel_forward: forward,
        ..Options::default()
    };
    let w = StreamWriter::from_options(&o);
    let mut out = Vec::new();
    if forward {
        out.push(DUMMY_BYTE);
    }
    out.extend_from_slice(&device_meta("virtual"));
    w.codec_id(&mut out, CODEC_ID_H264);
    w.session(&mut out, 720, 1280, false);
    w.packet(&mut out, 0, true, false, &[0, 0, 0, 1, 0x67, 1, 2]);
    w.packet(&mut out, 1000, false, true, &[0, 0, 0, 1, 0x65, 9, 9, 9]);
    w.packet(&mut out, 17666, false, false, &[0, 0, 0, 1, 0x41, 7]);
    w.session(&mut out, 1280, 720, true);
    (out, o)
}

fn expected_events(forward: bool) -> Vec<StreamEvent> {
    let mut v = Vec::new();
    if forward {
        v.push(StreamEvent::DummyByte);
    }
    v.extend([
        StreamEvent::DeviceName("virtual".into()),
        StreamEvent::Codec(CODEC_ID_H264),
        StreamEvent::Session(Session {
            width: 720,
            height: 1280,
            resized: false,
        }),
        StreamEvent::Config(vec![0, 0, 0, 1, 0x67, 1, 2]),
        StreamEvent::Frame {
            pts: 1000,
            key: true,
            data: vec![0, 0, 0, 1, 0x65, 9, 9, 9],
        },
        StreamEvent::Frame {
            pts: 17666,
            key: false,
            data: vec![0, 0, 0, 1, 0x41, 7],
        },
        StreamEvent::Session(Session {
            width: 1280,
            height: 720,
            resized: true,
        }),
    ]);
    v
}

fn drain(d: &mut Demuxer, out: &mut Vec<StreamEvent>) {
    while let Some(e) = d.poll().unwrap() {
        out.push(e);
    }
}

#[test]
fn demuxer_in_one_chunk_and_byte_by_byte() {
    for forward in [false, true] {
        let (bytes, o) = server_bytes(forward);
        let cfg = DemuxerConfig::for_socket(&o, StreamKind::Video, true);
        let mut d = Demuxer::new(cfg);
        let mut got = Vec::new();
        d.feed(&bytes);
        drain(&mut d, &mut got);
        assert_eq!(got, expected_events(forward));

        let mut d = Demuxer::new(cfg);
        let mut got = Vec::new();
        for b in &bytes {
            d.feed(std::slice::from_ref(b));
            drain(&mut d, &mut got);
        }
        assert_eq!(got, expected_events(forward));

        // odd chunk sizes
        for chunk in [2, 5, 13] {
            let mut d = Demuxer::new(cfg);
            let mut got = Vec::new();
            for c in bytes.chunks(chunk) {
                d.feed(c);
                drain(&mut d, &mut got);
            }
            assert_eq!(got, expected_events(forward));
        }
    }
}

#[test]
fn demuxer_rejects_malformed_streams() {
    let o = Options::default();
    let video = DemuxerConfig::for_socket(&o, StreamKind::Video, false);
    // size 0
    let mut d = Demuxer::new(video);
    d.feed(&CODEC_ID_H264.to_be_bytes());
    d.feed(&media_header(1, false, false, 0));
    assert_eq!(d.poll().unwrap(), Some(StreamEvent::Codec(CODEC_ID_H264)));
    assert_eq!(d.poll(), Err(DemuxError::EmptyPacket));
    assert_eq!(d.poll(), Ok(None), "errors are final");
    // absurd size
    let mut d = Demuxer::new(video);
    d.feed(&CODEC_ID_H264.to_be_bytes());
    d.feed(&media_header(1, false, false, u32::MAX));
    d.poll().unwrap();
    assert!(matches!(d.poll(), Err(DemuxError::PacketTooLarge(_))));
    // a session packet on the audio socket
    let audio = DemuxerConfig::for_socket(&o, StreamKind::Audio, false);
    let mut d = Demuxer::new(audio);
    d.feed(&CODEC_ID_OPUS.to_be_bytes());
    d.feed(&session_packet(1, 1, false));
    d.poll().unwrap();
    assert_eq!(d.poll(), Err(DemuxError::SessionOnAudio));
    // a disabled stream ends; data after it is an error
    let mut d = Demuxer::new(audio);
    d.feed(&[0, 0, 0, 0]);
    assert_eq!(
        d.poll().unwrap(),
        Some(StreamEvent::Codec(CODEC_ID_DISABLED))
    );
    assert_eq!(d.ended(), Some(0));
    d.feed(&[1]);
    assert_eq!(d.poll(), Err(DemuxError::DataAfterEnd(0)));
    // a truncated packet only waits
    let mut d = Demuxer::new(video);
    d.feed(&CODEC_ID_H264.to_be_bytes());
    d.feed(&media_header(1, false, false, 100));
    d.feed(&[0; 99]);
    d.poll().unwrap();
    assert_eq!(d.poll(), Ok(None));
    d.feed(&[0]);
    assert!(matches!(d.poll(), Ok(Some(StreamEvent::Frame { .. }))));
}

#[test]
fn raw_stream_is_passed_through() {
    let o = Options::parse(&[SCRCPY_VERSION, "raw_stream=true", "tunnel_forward=true"]).unwrap();
    let cfg = DemuxerConfig::for_socket(&o, StreamKind::Video, true);
    let w = StreamWriter::from_options(&o);
    let mut out = Vec::new();
    w.codec_id(&mut out, CODEC_ID_H264);
    w.session(&mut out, 1, 2, false);
    w.packet(&mut out, 0, true, false, &[0, 0, 0, 1, 0x67]);
    assert_eq!(
        out,
        [0, 0, 0, 1, 0x67],
        "raw_stream writes only the payload"
    );
    let mut d = Demuxer::new(cfg);
    d.feed(&out);
    assert_eq!(d.poll().unwrap(), Some(StreamEvent::Raw(out.clone())));
}

#[test]
fn packet_merger_prepends_config() {
    let mut m = PacketMerger::new();
    m.config(vec![1, 2]);
    assert_eq!(m.merge(vec![3]), vec![1, 2, 3]);
    assert_eq!(m.merge(vec![4]), vec![4]);
}

#[test]
fn partial_frames_only_for_a_client_that_asked() {
    let o = Options::parse(&[SCRCPY_VERSION, "playrack_slices=4"]).unwrap();
    assert_eq!(o.playrack_slices, 4);
    assert!(o.to_args().contains(&"playrack_slices=4".to_string()));
    assert!(
        !Options::default()
            .to_args()
            .iter()
            .any(|a| a.starts_with("playrack_slices")),
        "scrcpy's command line unless asked"
    );
    assert!(Options::parse(&[SCRCPY_VERSION, "playrack_slices=33"]).is_err());
    assert!(Options::parse(&[SCRCPY_VERSION, "playrack_slices=four"]).is_err());

    let w = StreamWriter::from_options(&o);
    let mut bytes = CODEC_ID_H264.to_be_bytes().to_vec();
    w.partial(&mut bytes, 5000, true, &[0, 0, 0, 1, 0x65, 1]);
    w.partial(&mut bytes, 5000, true, &[0, 0, 0, 1, 0x65, 2]);
    w.packet(&mut bytes, 5000, false, true, &[0, 0, 0, 1, 0x65, 3]);
    w.packet(&mut bytes, 21666, false, false, &[0, 0, 0, 1, 0x41, 4]);

    let mut d = Demuxer::new(DemuxerConfig::for_socket(&o, StreamKind::Video, false));
    let mut got = Vec::new();
    for b in &bytes {
        d.feed(std::slice::from_ref(b));
        drain(&mut d, &mut got);
    }
    let part = |n| StreamEvent::FramePart {
        pts: 5000,
        key: true,
        data: vec![0, 0, 0, 1, 0x65, n],
    };
    assert_eq!(
        got,
        vec![
            StreamEvent::Codec(CODEC_ID_H264),
            part(1),
            part(2),
            StreamEvent::Frame {
                pts: 5000,
                key: true,
                data: vec![0, 0, 0, 1, 0x65, 3],
            },
            StreamEvent::Frame {
                pts: 21666,
                key: false,
                data: vec![0, 0, 0, 1, 0x41, 4],
            },
        ]
    );

    // A client that did not ask reads bit 60 as scrcpy does: a PTS bit.
    let plain = DemuxerConfig::for_socket(&Options::default(), StreamKind::Video, false);
    let mut d = Demuxer::new(plain);
    d.feed(&bytes);
    d.poll().unwrap();
    assert_eq!(
        d.poll().unwrap(),
        Some(StreamEvent::Frame {
            pts: 5000 | PACKET_FLAG_PARTIAL,
            key: true,
            data: vec![0, 0, 0, 1, 0x65, 1],
        })
    );
}
