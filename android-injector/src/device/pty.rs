//! A minimal terminal line discipline for interactive `adb shell` sessions (`pty` services).
//!
//! On Android the shell's pty echoes keystrokes, edits the line (backspace), turns Enter into
//! a line for the shell, Ctrl-D on an empty line into end of input, and maps `\n` to `\r\n` on
//! output. adb puts the host terminal in raw mode and forwards every key, so the device must
//! do this itself. Sans-IO: bytes in, echo/lines/flags out.

/// What a chunk of keystrokes produced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Processed {
    /// Bytes to echo back to the terminal.
    pub echo: Vec<u8>,
    /// Completed lines (each ending in `\n`) for the shell's stdin.
    pub lines: Vec<Vec<u8>>,
    /// Ctrl-D on an empty line: the shell's stdin ends.
    pub eof: bool,
}

#[derive(Debug, Default)]
pub struct LineDiscipline {
    line: Vec<u8>,
    /// Inside an escape sequence (arrow keys and the like), which are swallowed.
    escape: Option<Vec<u8>>,
}

impl LineDiscipline {
    pub fn input(&mut self, bytes: &[u8]) -> Processed {
        let mut p = Processed::default();
        for &b in bytes {
            if let Some(seq) = &mut self.escape {
                seq.push(b);
                // CSI sequences end with a byte in 0x40..=0x7e after "ESC [" ; others are 2 bytes.
                let done = match seq.as_slice() {
                    [b'['] => false,
                    [b'[', .., last] => (0x40..=0x7e).contains(last),
                    _ => true,
                };
                if done {
                    self.escape = None;
                }
                continue;
            }
            match b {
                b'\r' | b'\n' => {
                    p.echo.extend_from_slice(b"\r\n");
                    let mut line = std::mem::take(&mut self.line);
                    line.push(b'\n');
                    p.lines.push(line);
                }
                0x7f | 0x08 => {
                    if self.line.pop().is_some() {
                        p.echo.extend_from_slice(b"\x08 \x08");
                    }
                }
                0x03 => {
                    p.echo.extend_from_slice(b"^C\r\n");
                    self.line.clear();
                }
                0x04 => {
                    if self.line.is_empty() {
                        p.eof = true;
                    }
                }
                0x1b => self.escape = Some(Vec::new()),
                0x15 => {
                    // Ctrl-U: kill the line.
                    for _ in 0..self.line.len() {
                        p.echo.extend_from_slice(b"\x08 \x08");
                    }
                    self.line.clear();
                }
                b => {
                    self.line.push(b);
                    p.echo.push(b);
                }
            }
        }
        p
    }
}

/// Output post-processing of a pty: `\n` → `\r\n`.
pub fn onlcr(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 16);
    for &b in data {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_edits_and_splits_lines() {
        let mut ld = LineDiscipline::default();
        let p = ld.input(b"ls -x\x7fl\r");
        assert_eq!(p.echo, b"ls -x\x08 \x08l\r\n");
        assert_eq!(p.lines, vec![b"ls -l\n".to_vec()]);
        assert!(!p.eof);
        // Arrow keys are swallowed; Ctrl-C drops the line; Ctrl-D on an empty line is EOF.
        let p = ld.input(b"ab\x1b[A\x1b[1;5Dc\x03");
        assert_eq!(p.echo, b"abc^C\r\n");
        assert!(p.lines.is_empty());
        let p = ld.input(b"x\x04");
        assert!(!p.eof);
        let p = ld.input(b"\x15\x04");
        assert_eq!(p.echo, b"\x08 \x08");
        assert!(p.eof);
        assert_eq!(onlcr(b"a\nb\n"), b"a\r\nb\r\n");
    }
}
