//! The scrcpy server protocol, sans-IO, pinned to one scrcpy version ([`SCRCPY_VERSION`]).
//!
//! The node agent speaks it as a client to a real scrcpy server inside redroid; the virtual
//! device (`android-injector`) speaks it as the server. The files mirror scrcpy's own:
//! - [`options`]: the launch command and its `key=value` arguments (`Options.java`, `server.c`);
//! - [`control_msg`]: client → device messages (`control_msg.c`, `ControlMessageReader.java`);
//! - [`device_msg`]: device → client messages (`device_msg.c`, `DeviceMessageWriter.java`);
//! - [`hid`]: the gamepad and mouse a client creates with UHID messages (`hid/hid_gamepad.c`,
//!   `hid/hid_mouse.c`): ids, report descriptors and input reports;
//! - [`encoders`]: the encoder list (`--list-encoders`, `LogUtils.java`) written and read;
//! - [`stream`]: the video/audio sockets: dummy byte, device name, codec id, session and media
//!   packets, a client-side [`stream::Demuxer`] and a server-side [`stream::StreamWriter`]
//!   (`Streamer.java`, `demuxer.c`);
//! - [`client`]: the async edge (the only module here doing IO): opens the sockets as scrcpy's
//!   client does and reads events;
//! - [`tunnel`]: where the sockets come from, shared by the client and the virtual device's
//!   server.
//!
//! scrcpy calls its protocol internal and changes it between versions, and the server refuses a
//! client of another version. Moving to a later version means: change [`SCRCPY_VERSION`];
//! add/rename keys in `options.rs`; add message types to `control_msg.rs` (`ControlMsgType::ALL`
//! is the id table); check the flag bits and the session packet in `stream.rs` (they moved in
//! 4.0). Each of those is listed in `research/anchors-scrcpy.md` §1.6.

pub mod client;
pub mod control_msg;
pub mod device_msg;
pub mod encoders;
pub mod hid;
pub mod options;
pub mod stream;
pub mod tunnel;

/// The scrcpy release whose server we are, and whose client we expect.
pub const SCRCPY_VERSION: &str = "4.1";

pub use control_msg::{ControlMsg, ControlMsgError, ControlMsgReader, ControlMsgType, Position};
pub use device_msg::{DeviceMsg, DeviceMsgReader};
pub use options::{Options, OptionsError};
pub use stream::{Demuxer, DemuxerConfig, Session, StreamEvent, StreamKind, StreamWriter};
