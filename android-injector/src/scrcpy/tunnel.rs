//! [`Tunnel`]: where scrcpy's sockets come from — the one piece the client and the server
//! share. Its own module so that the client (and the sans-IO codecs) build without the
//! server, which needs the encoders (feature `device`).

use std::io;

use tokio::io::{AsyncRead, AsyncWrite};

/// Where the server's sockets come from: accepted on the abstract socket (forward tunnel) or
/// connected to the client (reverse tunnel). Implemented for TCP and Unix listeners, for an
/// in-process channel of streams (an `AbstractSockets` registry hands over accepted streams),
/// and for an outgoing TCP connector.
pub trait Tunnel: Send + 'static {
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// The next socket, in the order the client opens them.
    fn open(&mut self) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}
