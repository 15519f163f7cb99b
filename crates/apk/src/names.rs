//! The one rule for Android package names and activity (class) names, used wherever such a
//! name is accepted: when an uploaded APK is inspected ([`crate::inspect`]), when the virtual
//! device's `pm install` records a package, and when the node agent puts a name into an
//! `adb shell` command line or an archive path.
//!
//! It lives in `playrack-apk` because this crate is the lowest one every user already reaches:
//! it depends only on `thiserror` and `miniz_oxide`, `android-injector` depends on it directly,
//! and `node-agent` already builds it through `android-injector`, so naming it there adds no
//! crate to the node agent's build. (`playrack-wire` would pull `utoipa`, `ed25519-dalek` and
//! `serde_json` into this crate and into the virtual device, which need none of them.)
//!
//! The package rule is Android's own (`FrameworkParsingPackageUtils.validateName` with a
//! separator and a file name required): ASCII only, at least two dot-separated segments, each
//! a letter followed by letters, digits or underscores, and at most [`MAX_PACKAGE_NAME_LEN`]
//! bytes. Android itself lets empty segments (`a..b`, `a.b.`) through its character loop; they
//! are refused here, as no installable app has them and they are not Java package names.
//! A name that passes contains no shell metacharacter, no `/` and no `..`, so it is safe both
//! as a shell word and as one path component.
//!
//! An activity name is a Java class name (dot-separated identifiers, `$` allowed for nested
//! classes, Unicode letters allowed as in Java), optionally in the manifest's short form with a
//! leading `.` (relative to the package), at most [`MAX_ACTIVITY_NAME_LEN`] bytes. Unicode
//! letters and digits are never shell metacharacters (every byte of their UTF-8 is ≥ 0x80).

use std::fmt;

/// Longest package name Android installs (`MAX_FILE_NAME_SIZE` in
/// `FrameworkParsingPackageUtils`: the name must fit in a file name with a suffix).
pub const MAX_PACKAGE_NAME_LEN: usize = 223;

/// Longest activity name accepted, in bytes: a bound on what reaches a shell command line.
pub const MAX_ACTIVITY_NAME_LEN: usize = 255;

/// A name that breaks the rule (see the module doc). `Display` says which rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidName {
    /// `"package"` or `"activity"`.
    pub kind: &'static str,
    /// The refused name, as given.
    pub name: String,
}

impl fmt::Display for InvalidName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            "package" => write!(
                f,
                "{:?} is not a valid Android package name (at least two dot-separated \
                 segments of ASCII letters, digits and underscores, each starting with a \
                 letter; at most {MAX_PACKAGE_NAME_LEN} bytes)",
                self.name
            ),
            _ => write!(
                f,
                "{:?} is not a valid activity name (a Java class name, optionally starting \
                 with '.'; at most {MAX_ACTIVITY_NAME_LEN} bytes)",
                self.name
            ),
        }
    }
}

impl std::error::Error for InvalidName {}

/// Whether `name` is a valid Android package name (see the module doc).
pub fn is_package_name(name: &str) -> bool {
    name.len() <= MAX_PACKAGE_NAME_LEN
        && name.contains('.')
        && name.split('.').all(|segment| {
            let mut bytes = segment.bytes();
            bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
                && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

/// [`is_package_name`] as a `Result`, for `?`.
pub fn check_package_name(name: &str) -> Result<(), InvalidName> {
    if is_package_name(name) {
        Ok(())
    } else {
        Err(InvalidName {
            kind: "package",
            name: name.to_owned(),
        })
    }
}

/// Whether `name` is a fully-qualified Java class name: dot-separated identifiers, each a
/// letter, `_` or `$` followed by letters, digits, `_` or `$`; at most
/// [`MAX_ACTIVITY_NAME_LEN`] bytes.
pub fn is_class_name(name: &str) -> bool {
    name.len() <= MAX_ACTIVITY_NAME_LEN && name.split('.').all(is_java_identifier)
}

/// Whether `name` may name an activity: a class name ([`is_class_name`]), or the manifest's
/// short form `.Name` (relative to the package).
pub fn is_activity_name(name: &str) -> bool {
    is_class_name(name.strip_prefix('.').unwrap_or(name))
}

/// [`is_activity_name`] as a `Result`, for `?`.
pub fn check_activity_name(name: &str) -> Result<(), InvalidName> {
    if is_activity_name(name) {
        Ok(())
    } else {
        Err(InvalidName {
            kind: "activity",
            name: name.to_owned(),
        })
    }
}

fn is_java_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_package_names() {
        for ok in [
            "com.playrack.demo.tapper",
            "com.example.game",
            "a.b",
            "a.b_2",
            "a_b.c1",
            "A.B",
            "com.Example_.x__9",
        ] {
            assert!(is_package_name(ok), "{ok:?}");
            assert_eq!(check_package_name(ok), Ok(()));
        }
    }

    #[test]
    fn malformed_package_names() {
        for bad in [
            "",                    // empty
            ".",                   // only a separator
            "tapper",              // one segment
            "android",             // one segment (the platform's own package)
            "1a.b",                // leading digit
            "a.1b",                // leading digit in a later segment
            "_a.b",                // leading underscore (Android refuses it)
            "a._b",                // leading underscore in a later segment
            "com..x",              // empty segment
            "a..b",                // empty segment
            ".a.b",                // leading dot
            "a.b.",                // trailing dot
            "com.x.",              // trailing dot
            "com.exämple",         // non-ASCII letter
            "com.example\u{200b}", // zero-width space
            "ｃom.x",              // fullwidth letter
            "com.x$y",             // `$` is for classes, not packages
            "a.b c",               // space
            "a.b\tc",              // tab
            "a.b\nc",              // newline
            "a.b;rm -rf",          // `;`
            "a;rm -rf /",
            "a.b&&id",
            "a.b|id",
            "a.b`id`",
            "a.$(id)",
            "a.b>x",
            "a.b'x",
            "a.b\"x",
            "a.b\\x",
            "a.b*",
            "com/x.y", // path separator
            "../x.y",  // path climb
            "a-b.c",   // hyphen
            "a.b\0",   // NUL
        ] {
            assert!(!is_package_name(bad), "{bad:?}");
            let err = check_package_name(bad).unwrap_err();
            assert_eq!(err.kind, "package");
            assert_eq!(err.name, bad);
        }
    }

    #[test]
    fn package_name_length_cap() {
        // "a." then letters: exactly at the cap, and one byte over.
        let at_cap = format!("a.{}", "b".repeat(MAX_PACKAGE_NAME_LEN - 2));
        assert_eq!(at_cap.len(), 223);
        assert!(is_package_name(&at_cap));
        let over = format!("{at_cap}c");
        assert_eq!(over.len(), 224);
        assert!(!is_package_name(&over));
        assert!(!is_package_name(&"a.".repeat(10_000)));
    }

    #[test]
    fn valid_class_and_activity_names() {
        for ok in [
            "com.x.Main$Inner",
            "com.x.Ünïcode",
            "a_b.C1",
            "Main",
            "$Proxy.X",
            "com.playrack.demo.tapper.MainActivity",
        ] {
            assert!(is_class_name(ok), "{ok:?}");
            assert!(is_activity_name(ok), "{ok:?}");
            assert_eq!(check_activity_name(ok), Ok(()));
        }
        // The manifest's short form is an activity name, not a class name.
        for short in [".MainActivity", ".ui.Main$Inner"] {
            assert!(!is_class_name(short), "{short:?}");
            assert!(is_activity_name(short), "{short:?}");
        }
    }

    #[test]
    fn malformed_class_and_activity_names() {
        for bad in [
            "",
            ".",
            "..Main",
            "com..x",
            "a..b",
            "com.x.",
            "com.x.1Main",
            "1Main",
            "com.x.M ain",
            "a b",
            "com.x.M;in",
            ".Main; reboot",
            "com.x/Main",
            "a/../b",
            "$(id)",
            "com.x.Main`id`",
            "com.x.Main&",
            "com.x.Main|x",
            "com.x.Main\n",
            "com.x.Main\u{200b}",
            "com.x.Main-1",
        ] {
            assert!(!is_class_name(bad), "{bad:?}");
            assert!(!is_activity_name(bad), "{bad:?}");
            let err = check_activity_name(bad).unwrap_err();
            assert_eq!(err.kind, "activity");
            assert_eq!(err.name, bad);
        }
    }

    #[test]
    fn activity_name_length_cap() {
        let at_cap = format!("a.{}", "B".repeat(MAX_ACTIVITY_NAME_LEN - 2));
        assert_eq!(at_cap.len(), 255);
        assert!(is_activity_name(&at_cap));
        assert!(!is_activity_name(&format!("{at_cap}C")));
        // The cap counts bytes: 128 two-byte letters are 256 bytes.
        assert!(!is_activity_name(&"é".repeat(128)));
        assert!(is_activity_name(&"é".repeat(127)));
    }

    #[test]
    fn errors_say_which_rule() {
        assert_eq!(
            check_package_name("a;b").unwrap_err().to_string(),
            "\"a;b\" is not a valid Android package name (at least two dot-separated segments \
             of ASCII letters, digits and underscores, each starting with a letter; at most 223 \
             bytes)"
        );
        assert_eq!(
            check_activity_name("$(id) x").unwrap_err().to_string(),
            "\"$(id) x\" is not a valid activity name (a Java class name, optionally starting \
             with '.'; at most 255 bytes)"
        );
    }
}
