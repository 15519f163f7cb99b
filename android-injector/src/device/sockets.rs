//! Abstract-namespace sockets inside the device process (`localabstract:NAME`).
//!
//! On Android the scrcpy server listens on the abstract Unix socket `scrcpy_%08x` and adbd
//! connects to it when a forwarded port is used. Here both ends live in the device process, so
//! the "socket" is an in-memory duplex pipe: a server calls [`AbstractSockets::listen`] and
//! [`AbstractListener::accept`]s connections; adbd calls [`AbstractSockets::connect`] for each
//! `localabstract:` stream. Connecting to a name nobody listens on fails with
//! `ConnectionRefused`, and adbd then closes the stream as it does on Android.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};

use tokio::io::DuplexStream;
use tokio::sync::mpsc;

/// Bytes buffered in each direction of one connection.
const PIPE_CAPACITY: usize = 256 * 1024;
/// Connections that may wait for `accept` (the `listen(2)` backlog).
const BACKLOG: usize = 16;

/// A listening name's registration: its id (to recognise it on drop) and the backlog sender.
type Registration = (u64, mpsc::Sender<DuplexStream>);

/// The registry of listening names. Cheap to clone; all clones share the registry.
#[derive(Debug, Clone, Default)]
pub struct AbstractSockets {
    listeners: Arc<Mutex<HashMap<String, Registration>>>,
    next_id: Arc<std::sync::atomic::AtomicU64>,
}

/// A listening abstract socket. Dropping it stops listening.
#[derive(Debug)]
pub struct AbstractListener {
    name: String,
    id: u64,
    incoming: mpsc::Receiver<DuplexStream>,
    registry: AbstractSockets,
}

impl AbstractSockets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts listening on `name`. Fails with `AddrInUse` if someone already listens there.
    pub fn listen(&self, name: &str) -> io::Result<AbstractListener> {
        let mut map = self.listeners.lock().unwrap();
        if let Some((_, tx)) = map.get(name)
            && !tx.is_closed()
        {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("@{name}: address already in use"),
            ));
        }
        let (tx, rx) = mpsc::channel(BACKLOG);
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        map.insert(name.to_string(), (id, tx));
        Ok(AbstractListener {
            name: name.to_string(),
            id,
            incoming: rx,
            registry: self.clone(),
        })
    }

    /// Connects to `name`; the returned stream is the client end.
    pub fn connect(&self, name: &str) -> io::Result<DuplexStream> {
        let tx = self
            .listeners
            .lock()
            .unwrap()
            .get(name)
            .map(|(_, tx)| tx.clone());
        let refused = || {
            io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("@{name}: connection refused"),
            )
        };
        let tx = tx.ok_or_else(refused)?;
        let (client, server) = tokio::io::duplex(PIPE_CAPACITY);
        tx.try_send(server).map_err(|_| refused())?;
        Ok(client)
    }

    /// Whether something listens on `name`.
    pub fn is_listening(&self, name: &str) -> bool {
        self.listeners
            .lock()
            .unwrap()
            .get(name)
            .is_some_and(|(_, tx)| !tx.is_closed())
    }
}

impl AbstractListener {
    /// The next connection (the server end).
    pub async fn accept(&mut self) -> io::Result<DuplexStream> {
        self.incoming
            .recv()
            .await
            .ok_or_else(|| io::Error::other("listener closed"))
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for AbstractListener {
    fn drop(&mut self) {
        let mut map = self.registry.listeners.lock().unwrap();
        // Only remove our own registration, not one made after ours was replaced.
        if map.get(&self.name).is_some_and(|(id, _)| *id == self.id) {
            map.remove(&self.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn connect_accept_and_talk() {
        let sockets = AbstractSockets::new();
        assert_eq!(
            sockets.connect("scrcpy_0000002a").unwrap_err().kind(),
            io::ErrorKind::ConnectionRefused
        );
        let mut l = sockets.listen("scrcpy_0000002a").unwrap();
        assert_eq!(
            sockets.listen("scrcpy_0000002a").unwrap_err().kind(),
            io::ErrorKind::AddrInUse
        );
        let mut c = sockets.connect("scrcpy_0000002a").unwrap();
        let mut s = l.accept().await.unwrap();
        s.write_all(&[0]).await.unwrap();
        let mut b = [9u8; 1];
        c.read_exact(&mut b).await.unwrap();
        assert_eq!(b, [0]);
        drop(l);
        assert!(!sockets.is_listening("scrcpy_0000002a"));
        assert!(sockets.connect("scrcpy_0000002a").is_err());
        // The name is free again.
        let _l2 = sockets.listen("scrcpy_0000002a").unwrap();
    }
}
