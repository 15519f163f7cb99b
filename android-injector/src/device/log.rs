//! The device's log, what `logcat` reads: a bounded ring of entries (the oldest go first, as
//! in logd's ring buffers) and a bounded broadcast to followers (`logcat` without `-d`). A
//! follower that falls behind skips what it missed rather than holding the device up.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::SystemTime;

/// Entries kept (logd's main buffer holds about 256 KiB; entries here are short).
pub const RING: usize = 4096;
/// Entries a follower may fall behind by before it skips.
const FOLLOW_QUEUE: usize = 256;
/// The pid that `system_server` log lines carry.
pub const SYSTEM_PID: u32 = 538;

/// A log priority, lowest first (`android/log.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    Verbose,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
    /// Filters only: show nothing.
    Silent,
}

impl Priority {
    pub fn letter(self) -> char {
        match self {
            Priority::Verbose => 'V',
            Priority::Debug => 'D',
            Priority::Info => 'I',
            Priority::Warn => 'W',
            Priority::Error => 'E',
            Priority::Fatal => 'F',
            Priority::Silent => 'S',
        }
    }

    pub fn from_letter(c: char) -> Option<Priority> {
        Some(match c.to_ascii_uppercase() {
            'V' | '*' => Priority::Verbose,
            'D' => Priority::Debug,
            'I' => Priority::Info,
            'W' => Priority::Warn,
            'E' => Priority::Error,
            'F' => Priority::Fatal,
            'S' => Priority::Silent,
            _ => return None,
        })
    }
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub time: SystemTime,
    pub pid: u32,
    pub tid: u32,
    pub priority: Priority,
    pub tag: String,
    pub message: String,
}

/// The log.
pub struct Log {
    ring: Mutex<VecDeque<Entry>>,
    followers: tokio::sync::broadcast::Sender<Entry>,
}

impl Default for Log {
    fn default() -> Self {
        Log {
            ring: Mutex::new(VecDeque::with_capacity(RING)),
            followers: tokio::sync::broadcast::channel(FOLLOW_QUEUE).0,
        }
    }
}

impl Log {
    /// Writes one entry per line of `message` (as `Log.println` callers see in logcat).
    pub fn write(&self, pid: u32, priority: Priority, tag: &str, message: &str) {
        let time = SystemTime::now();
        let mut ring = self.ring.lock().unwrap();
        for line in message.lines() {
            let e = Entry {
                time,
                pid,
                tid: pid,
                priority,
                tag: tag.to_owned(),
                message: line.to_owned(),
            };
            if ring.len() == RING {
                ring.pop_front();
            }
            ring.push_back(e.clone());
            let _ = self.followers.send(e);
        }
    }

    /// The last `n` entries (all of them when `None`), oldest first, and a receiver of what is
    /// written after them.
    pub fn tail(&self, n: Option<usize>) -> (Vec<Entry>, tokio::sync::broadcast::Receiver<Entry>) {
        let ring = self.ring.lock().unwrap();
        let skip = n.map_or(0, |n| ring.len().saturating_sub(n));
        let entries = ring.iter().skip(skip).cloned().collect();
        (entries, self.followers.subscribe())
    }

    /// `logcat -c`.
    pub fn clear(&self) {
        self.ring.lock().unwrap().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_the_newest_and_followers_see_what_comes_after() {
        let log = Log::default();
        for i in 0..RING + 10 {
            log.write(1, Priority::Info, "T", &format!("m{i}"));
        }
        let (all, _) = log.tail(None);
        assert_eq!(all.len(), RING);
        assert_eq!(all[0].message, "m10");
        let (last, mut rx) = log.tail(Some(2));
        assert_eq!(
            last.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(),
            [format!("m{}", RING + 8), format!("m{}", RING + 9)]
        );
        log.write(
            7,
            Priority::Error,
            "AndroidRuntime",
            "FATAL EXCEPTION: main\nProcess: p, PID: 7",
        );
        assert_eq!(rx.try_recv().unwrap().message, "FATAL EXCEPTION: main");
        assert_eq!(rx.try_recv().unwrap().message, "Process: p, PID: 7");
        log.clear();
        assert!(log.tail(None).0.is_empty());
        assert_eq!(Priority::from_letter('w'), Some(Priority::Warn));
        assert_eq!(Priority::from_letter('x'), None);
    }
}
