//! The relay's outgoing datagrams, sent a run at a time with one `sendmmsg(2)` instead of one
//! `sendto(2)` each: the engine releases a frame's packets together, and each system call
//! costs about as much as the network stack's work for a small datagram.
//!
//! Hand-written on `libc` (with `socket2` for the socket addresses): the crates that batch UDP
//! sends (`quinn-udp`) bring a QUIC stack's options (GSO, ECN, GRO) and their own socket state,
//! while the relay needs only this one call on a socket it already owns.

use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;

/// Datagrams sent by one call at most (and held by a [`Batch`]).
pub const MAX_BATCH: usize = 64;

/// Datagrams waiting to be sent, in order, at most [`MAX_BATCH`].
#[derive(Default)]
pub struct Batch {
    items: Vec<(socket2::SockAddr, Vec<u8>)>,
    /// How many of `items` went already (a partial send leaves the rest in place).
    sent: usize,
}

impl Batch {
    pub fn new() -> Batch {
        Batch {
            items: Vec::with_capacity(MAX_BATCH),
            sent: 0,
        }
    }

    /// Adds a datagram; the caller sends the batch when it [`is_full`](Batch::is_full).
    pub fn push(&mut self, destination: SocketAddr, contents: Vec<u8>) {
        debug_assert!(!self.is_full());
        self.items.push((destination.into(), contents));
    }

    pub fn is_full(&self) -> bool {
        self.items.len() >= MAX_BATCH
    }

    /// Nothing is left to send.
    pub fn is_empty(&self) -> bool {
        self.sent >= self.items.len()
    }

    /// The destination of the next datagram to go.
    pub fn next_destination(&self) -> Option<SocketAddr> {
        self.items.get(self.sent).and_then(|(a, _)| a.as_socket())
    }

    /// Drops the next datagram (its send failed for a reason of its own, e.g. an unreachable
    /// destination) so the rest can go.
    pub fn drop_next(&mut self) {
        self.sent += 1;
        self.reset_if_done();
    }

    /// Sends what is left with one `sendmmsg` on the non-blocking socket `fd`. Returns how many
    /// went; those leave the batch. An error is the next datagram's (nothing went):
    /// `WouldBlock` when the socket's buffer is full, else the caller may [`drop_next`](Batch::drop_next)
    /// it.
    pub fn send(&mut self, fd: RawFd) -> io::Result<usize> {
        let rest = &self.items[self.sent..];
        if rest.is_empty() {
            return Ok(0);
        }
        let mut iovs: [libc::iovec; MAX_BATCH] = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }; MAX_BATCH];
        // SAFETY: an all-zero mmsghdr is a valid empty header (null pointers, zero lengths).
        let mut msgs: [libc::mmsghdr; MAX_BATCH] = unsafe { std::mem::zeroed() };
        for (i, (addr, data)) in rest.iter().enumerate() {
            iovs[i] = libc::iovec {
                iov_base: data.as_ptr() as *mut libc::c_void,
                iov_len: data.len(),
            };
            let h = &mut msgs[i].msg_hdr;
            h.msg_name = addr.as_ptr() as *mut libc::c_void;
            h.msg_namelen = addr.len();
            h.msg_iov = &mut iovs[i];
            h.msg_iovlen = 1;
        }
        // SAFETY: every header points into `iovs` and `rest`, which outlive the call; the
        // kernel only reads the names and buffers and writes `msg_len`.
        let n = unsafe { libc::sendmmsg(fd, msgs.as_mut_ptr(), rest.len() as libc::c_uint, 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        self.sent += n as usize;
        self.reset_if_done();
        Ok(n as usize)
    }

    fn reset_if_done(&mut self) {
        if self.sent >= self.items.len() {
            self.items.clear();
            self.sent = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    fn sink() -> (std::net::UdpSocket, SocketAddr) {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let a = s.local_addr().unwrap();
        (s, a)
    }

    #[test]
    fn a_batch_goes_in_one_call_in_order_to_each_destination() {
        let (a, a_addr) = sink();
        let (b, b_addr) = sink();
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        tx.set_nonblocking(true).unwrap();
        let mut batch = Batch::new();
        for i in 0..10u8 {
            let to = if i % 2 == 0 { a_addr } else { b_addr };
            batch.push(to, vec![i; 100 + i as usize]);
        }
        assert_eq!(batch.next_destination(), Some(a_addr));
        assert_eq!(batch.send(tx.as_raw_fd()).unwrap(), 10);
        assert!(batch.is_empty());
        let mut buf = [0u8; 2048];
        for (sock, first) in [(&a, 0u8), (&b, 1)] {
            for k in 0..5 {
                let i = first + 2 * k;
                let n = sock.recv(&mut buf).unwrap();
                assert_eq!(n, 100 + i as usize, "datagram {i}'s size");
                assert!(buf[..n].iter().all(|&x| x == i), "datagram {i}'s bytes");
            }
        }
        // Sent and empty: another send is a no-op, and the batch takes a full load again.
        assert_eq!(batch.send(tx.as_raw_fd()).unwrap(), 0);
        for _ in 0..MAX_BATCH {
            batch.push(a_addr, vec![7]);
        }
        assert!(batch.is_full());
        assert_eq!(batch.send(tx.as_raw_fd()).unwrap(), MAX_BATCH);
    }

    #[test]
    fn a_datagram_that_cannot_go_is_reported_and_dropped_and_the_rest_go() {
        let (a, a_addr) = sink();
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        tx.set_nonblocking(true).unwrap();
        let mut batch = Batch::new();
        // Larger than any UDP datagram can be.
        batch.push(a_addr, vec![0; 70_000]);
        batch.push(a_addr, vec![1; 10]);
        let e = batch.send(tx.as_raw_fd()).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EMSGSIZE), "{e}");
        assert!(!batch.is_empty());
        batch.drop_next();
        assert_eq!(batch.send(tx.as_raw_fd()).unwrap(), 1);
        let mut buf = [0u8; 64];
        assert_eq!(a.recv(&mut buf).unwrap(), 10);
        assert!(batch.is_empty());
    }
}
