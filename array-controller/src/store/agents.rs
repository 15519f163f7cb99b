//! What boards report, the command outbox, the controllers table and shell runs.
