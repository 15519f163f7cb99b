//! The scheduler's decisions as a sans-IO core: plain data in, a decision out, time passed in.
//! Nothing here touches the database, a socket or the clock, so tests can run hours of queueing
//! and timers in microseconds. `play::acquire` reads the views through `store` inside its
//! transaction, asks these functions, and writes what they decide.
//!
//! - [`placement`]: where a play goes — spec fallback, room choice (RTT, region, load), board
//!   choice (warm instance first, then spread or binpack) — or why it must queue.
//! - [`timers`]: the three session timers (max play, reconnect grace, idle kick).
//! - [`eta`]: a queue ticket's honest ETA from observed session lengths.
//! - [`heat`]: whether a board is too hot (CPU, temperature) to take new plays.
//! - [`warm`]: how many instances per game a room keeps ready, and on which boards.

pub mod eta;
pub mod heat;
pub mod placement;
pub mod timers;
pub mod warm;
