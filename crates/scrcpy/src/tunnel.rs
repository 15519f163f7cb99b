//! [`Tunnel`]: where scrcpy's sockets come from — the one piece the client and the virtual
//! device's server share, with its implementations for TCP and Unix listeners.

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

impl Tunnel for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;
    async fn open(&mut self) -> io::Result<Self::Stream> {
        let (s, _) = self.accept().await?;
        Ok(s)
    }
}

impl Tunnel for tokio::net::UnixListener {
    type Stream = tokio::net::UnixStream;
    async fn open(&mut self) -> io::Result<Self::Stream> {
        let (s, _) = self.accept().await?;
        Ok(s)
    }
}
