//! Command-line parsing for the device shell: a small subset of `mksh`, the Android shell.
//!
//! Supported: words with `'single'`, `"double"` (with `\"`, `\\`, `\$`) quoting and backslash
//! escapes; `$NAME`, `${NAME}` and `$?` expansion (not inside single quotes); `NAME=value`
//! prefixes; lists with `;`, newlines, `&&` and `||`; redirections `>`, `>>`, `<`, `2>`, `2>>`,
//! `2>&1`, `>&2`; `#` comments. Pipes and background jobs are refused with a syntax error
//! rather than run wrongly.

/// A piece of a word: literal text, or a variable to expand at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Lit(String),
    Var(String),
}

/// One word before expansion.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Word {
    pub parts: Vec<Part>,
    /// `NAME=` at the start, unquoted: the word may be an assignment.
    pub assignment: Option<String>,
}

impl Word {
    /// Expands variables with `lookup`.
    pub fn expand(&self, lookup: &dyn Fn(&str) -> String) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Lit(s) => s.clone(),
                Part::Var(v) => lookup(v),
            })
            .collect()
    }
}

/// Where a redirection points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    File(Word),
    /// `>&N`: duplicate another descriptor.
    Fd(u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// 0 stdin, 1 stdout, 2 stderr.
    pub fd: u8,
    pub append: bool,
    pub target: Target,
}

/// `env… argv… redirects…`
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SimpleCommand {
    /// `NAME=value` prefixes; the value is expanded at run time.
    pub assignments: Vec<(String, Word)>,
    pub words: Vec<Word>,
    pub redirects: Vec<Redirect>,
}

/// How a command is joined to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connector {
    /// `;` or newline (also the first command): always run.
    Seq,
    /// `&&`: run if the previous status was 0.
    And,
    /// `||`: run if the previous status was not 0.
    Or,
}

/// A parsed command line.
pub type Script = Vec<(Connector, SimpleCommand)>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("syntax error: {0}")]
pub struct SyntaxError(pub String);

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(Word),
    Op(&'static str),
    Redirect {
        fd: u8,
        append: bool,
        dup: Option<u8>,
    },
}

fn is_name_char(c: char, first: bool) -> bool {
    c == '_' || c.is_ascii_alphabetic() || (!first && c.is_ascii_digit())
}

fn tokenize(src: &str) -> Result<Vec<Token>, SyntaxError> {
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\r' => i += 1,
            '\n' | ';' => {
                out.push(Token::Op(";"));
                i += 1;
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '&' if chars.get(i + 1) == Some(&'&') => {
                out.push(Token::Op("&&"));
                i += 2;
            }
            '|' if chars.get(i + 1) == Some(&'|') => {
                out.push(Token::Op("||"));
                i += 2;
            }
            '|' => return Err(SyntaxError("pipes are not supported by this shell".into())),
            '&' => {
                return Err(SyntaxError(
                    "background jobs are not supported by this shell".into(),
                ));
            }
            '(' | ')' => return Err(SyntaxError(format!("unexpected '{c}'"))),
            '>' | '<' => {
                let fd = if c == '<' { 0 } else { 1 };
                i += 1;
                out.push(redirect(&chars, &mut i, fd)?);
            }
            d @ ('0'..='2') if matches!(chars.get(i + 1), Some('>') | Some('<')) => {
                i += 2;
                out.push(redirect(&chars, &mut i, d as u8 - b'0')?);
            }
            _ => out.push(Token::Word(word(&chars, &mut i)?)),
        }
    }
    Ok(out)
}

/// After `>`/`<` (with the fd already known): `>>`, `>&N`.
fn redirect(chars: &[char], i: &mut usize, fd: u8) -> Result<Token, SyntaxError> {
    let mut append = false;
    if chars.get(*i) == Some(&'>') {
        append = true;
        *i += 1;
    }
    if chars.get(*i) == Some(&'&') {
        *i += 1;
        let d = chars
            .get(*i)
            .and_then(|c| c.to_digit(10))
            .filter(|d| *d <= 2);
        let Some(d) = d else {
            return Err(SyntaxError("bad file descriptor after >&".into()));
        };
        *i += 1;
        return Ok(Token::Redirect {
            fd,
            append,
            dup: Some(d as u8),
        });
    }
    Ok(Token::Redirect {
        fd,
        append,
        dup: None,
    })
}

fn word(chars: &[char], i: &mut usize) -> Result<Word, SyntaxError> {
    let mut parts: Vec<Part> = Vec::new();
    let mut lit = String::new();
    let start = *i;
    let mut all_unquoted_so_far = true;
    let mut assignment = None;
    let flush = |lit: &mut String, parts: &mut Vec<Part>| {
        if !lit.is_empty() {
            parts.push(Part::Lit(std::mem::take(lit)));
        }
    };
    while *i < chars.len() {
        let c = chars[*i];
        match c {
            ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')' => break,
            '\'' => {
                all_unquoted_so_far = false;
                *i += 1;
                loop {
                    match chars.get(*i) {
                        None => return Err(SyntaxError("unterminated quoted string".into())),
                        Some('\'') => break,
                        Some(&ch) => lit.push(ch),
                    }
                    *i += 1;
                }
                *i += 1;
            }
            '"' => {
                all_unquoted_so_far = false;
                *i += 1;
                loop {
                    match chars.get(*i) {
                        None => return Err(SyntaxError("unterminated quoted string".into())),
                        Some('"') => break,
                        Some('\\') if matches!(chars.get(*i + 1), Some('"' | '\\' | '$' | '`')) => {
                            lit.push(chars[*i + 1]);
                            *i += 1;
                        }
                        Some('$') => {
                            if let Some(v) = variable(chars, i) {
                                flush(&mut lit, &mut parts);
                                parts.push(Part::Var(v));
                                continue;
                            }
                            lit.push('$');
                        }
                        Some(&ch) => lit.push(ch),
                    }
                    *i += 1;
                }
                *i += 1;
            }
            '\\' => {
                all_unquoted_so_far = false;
                if let Some(&n) = chars.get(*i + 1) {
                    if n != '\n' {
                        lit.push(n);
                    }
                    *i += 2;
                } else {
                    *i += 1;
                }
            }
            '$' => {
                if let Some(v) = variable(chars, i) {
                    flush(&mut lit, &mut parts);
                    parts.push(Part::Var(v));
                    all_unquoted_so_far = false;
                    continue;
                }
                lit.push('$');
                *i += 1;
            }
            '=' if assignment.is_none() && all_unquoted_so_far && parts.is_empty() => {
                let name: String = chars[start..*i].iter().collect();
                let valid = !name.is_empty()
                    && name
                        .chars()
                        .enumerate()
                        .all(|(k, ch)| is_name_char(ch, k == 0));
                if valid {
                    assignment = Some(name);
                    lit.clear();
                    // The value is what follows; keep collecting into a fresh literal.
                    *i += 1;
                    continue;
                }
                lit.push('=');
                *i += 1;
            }
            _ => {
                lit.push(c);
                *i += 1;
            }
        }
    }
    flush(&mut lit, &mut parts);
    Ok(Word { parts, assignment })
}

/// Parses `$NAME`, `${NAME}` or `$?` at `chars[*i] == '$'`; advances past it.
fn variable(chars: &[char], i: &mut usize) -> Option<String> {
    let next = *chars.get(*i + 1)?;
    if next == '?' {
        *i += 2;
        return Some("?".into());
    }
    if next == '{' {
        let end = chars[*i + 2..].iter().position(|&c| c == '}')? + *i + 2;
        let name: String = chars[*i + 2..end].iter().collect();
        *i = end + 1;
        return Some(name);
    }
    if is_name_char(next, true) {
        let mut j = *i + 1;
        while j < chars.len() && is_name_char(chars[j], false) {
            j += 1;
        }
        let name: String = chars[*i + 1..j].iter().collect();
        *i = j;
        return Some(name);
    }
    None
}

/// Parses a command line into a list of simple commands.
pub fn parse(src: &str) -> Result<Script, SyntaxError> {
    let mut script = Vec::new();
    let mut connector = Connector::Seq;
    let mut cmd = SimpleCommand::default();
    let mut tokens = tokenize(src)?.into_iter().peekable();
    let finish = |cmd: &mut SimpleCommand, connector: Connector, script: &mut Script| -> bool {
        if cmd.words.is_empty() && cmd.assignments.is_empty() && cmd.redirects.is_empty() {
            return false;
        }
        script.push((connector, std::mem::take(cmd)));
        true
    };
    while let Some(t) = tokens.next() {
        match t {
            Token::Word(w) => match (&w.assignment, cmd.words.is_empty()) {
                (Some(name), true) => {
                    let value = Word {
                        parts: w.parts.clone(),
                        assignment: None,
                    };
                    cmd.assignments.push((name.clone(), value));
                }
                (Some(name), false) => {
                    // Not in prefix position: an ordinary word with its '=' put back.
                    let mut parts = vec![Part::Lit(format!("{name}="))];
                    parts.extend(w.parts);
                    cmd.words.push(Word {
                        parts,
                        assignment: None,
                    });
                }
                (None, _) => cmd.words.push(w),
            },
            Token::Redirect { fd, append, dup } => {
                let target = match dup {
                    Some(d) => Target::Fd(d),
                    None => match tokens.next() {
                        Some(Token::Word(w)) => Target::File(w),
                        _ => return Err(SyntaxError("redirection without a file name".into())),
                    },
                };
                cmd.redirects.push(Redirect { fd, append, target });
            }
            Token::Op(op) => {
                let had = finish(&mut cmd, connector, &mut script);
                if !had && op != ";" {
                    return Err(SyntaxError(format!("unexpected '{op}'")));
                }
                connector = match op {
                    "&&" => Connector::And,
                    "||" => Connector::Or,
                    _ => Connector::Seq,
                };
                if op != ";" && tokens.peek().is_none() {
                    return Err(SyntaxError(format!("unexpected end of line after '{op}'")));
                }
            }
        }
    }
    finish(&mut cmd, connector, &mut script);
    Ok(script)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(src: &str) -> Vec<Vec<String>> {
        parse(src)
            .unwrap()
            .iter()
            .map(|(_, c)| {
                c.words
                    .iter()
                    .map(|w| w.expand(&|v| format!("<{v}>")))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn quoting_and_escapes() {
        assert_eq!(
            words(r#"echo 'a b' "c d" e\ f "x\"y" 'it''s'"#),
            vec![vec!["echo", "a b", "c d", "e f", "x\"y", "its"]]
        );
        assert_eq!(
            words(r#"echo "$HOME/x" '$HOME' ${A}b $? $"#),
            vec![vec!["echo", "<HOME>/x", "$HOME", "<A>b", "<?>", "$"]]
        );
        assert_eq!(words("echo a # comment"), vec![vec!["echo", "a"]]);
    }

    #[test]
    fn lists_and_connectors() {
        let s = parse("true && echo a; false || echo b\necho c").unwrap();
        let cons: Vec<Connector> = s.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            cons,
            vec![
                Connector::Seq,
                Connector::And,
                Connector::Seq,
                Connector::Or,
                Connector::Seq
            ]
        );
    }

    #[test]
    fn scrcpy_launch_line() {
        let s = parse("CLASSPATH=/data/local/tmp/scrcpy-server.jar app_process / com.genymobile.scrcpy.Server 4.1 scid=0000002a log_level=info").unwrap();
        let (_, cmd) = &s[0];
        assert_eq!(cmd.assignments.len(), 1);
        assert_eq!(cmd.assignments[0].0, "CLASSPATH");
        assert_eq!(
            cmd.assignments[0].1.expand(&|_| String::new()),
            "/data/local/tmp/scrcpy-server.jar"
        );
        let w: Vec<String> = cmd
            .words
            .iter()
            .map(|w| w.expand(&|_| String::new()))
            .collect();
        assert_eq!(
            w,
            [
                "app_process",
                "/",
                "com.genymobile.scrcpy.Server",
                "4.1",
                "scid=0000002a",
                "log_level=info"
            ]
        );
    }

    #[test]
    fn redirections() {
        let s =
            parse("echo hi > /data/local/tmp/x 2>&1; cat < /sdcard/in >> out 2>/dev/null").unwrap();
        assert_eq!(s[0].1.redirects.len(), 2);
        assert_eq!(
            s[0].1.redirects[1],
            Redirect {
                fd: 2,
                append: false,
                target: Target::Fd(1)
            }
        );
        assert_eq!(s[1].1.redirects.len(), 3);
        assert!(s[1].1.redirects[1].append);
    }

    #[test]
    fn refuses_what_it_cannot_run() {
        assert!(parse("ls | grep x").is_err());
        assert!(parse("sleep 1 &").is_err());
        assert!(parse("&& ls").is_err());
        assert!(parse("echo 'open").is_err());
        assert!(parse("echo >").is_err());
        assert!(parse("true &&").is_err());
        assert_eq!(parse("").unwrap(), vec![]);
        assert_eq!(parse(" ; ").unwrap(), vec![]);
    }
}
