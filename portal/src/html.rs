//! Safe HTML building: every piece of text that reaches a page goes through [`esc`] (or
//! [`attr`]), and pages are assembled with `format!` around already-escaped fragments.
//!
//! The rule the pages follow: a `String` is text (escape it); an [`Html`] is markup (built here
//! or by the layout from escaped parts). Only `Html` is ever written into a page.

use std::fmt::{self, Display, Write};

/// A fragment of markup that is safe to place in a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Html(String);

impl Html {
    /// Markup the caller vouches for (literal templates, or parts already escaped).
    pub fn trusted(s: impl Into<String>) -> Html {
        Html(s.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn push(&mut self, other: Html) {
        self.0.push_str(&other.0);
    }
}

impl Display for Html {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromIterator<Html> for Html {
    fn from_iter<I: IntoIterator<Item = Html>>(iter: I) -> Html {
        let mut out = String::new();
        for h in iter {
            out.push_str(&h.0);
        }
        Html(out)
    }
}

/// Escapes text for element content and quoted attribute values (`&<>"'`).
pub fn esc(text: impl Display) -> Html {
    let text = text.to_string();
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Html(out)
}

/// An escaped attribute value (same escaping; separate name for readability at call sites).
pub fn attr(text: impl Display) -> Html {
    esc(text)
}

/// A URL for an `href`/`src`: only `http(s)://`, root-relative `/…` and `#…` pass; anything else
/// (`javascript:`, `data:`) becomes `#`.
pub fn url(text: &str) -> Html {
    let t = text.trim();
    let ok = t.starts_with("https://")
        || t.starts_with("http://")
        || (t.starts_with('/') && !t.starts_with("//"))
        || t.starts_with('#');
    if ok { esc(t) } else { Html::trusted("#") }
}

/// Percent-encodes one path segment or query value (everything but unreserved characters).
pub fn pct(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A `<table>` with a caption, header cells and rows of cells (each cell already markup).
pub fn table(caption: &str, testid: &str, head: &[&str], rows: Vec<Vec<Html>>) -> Html {
    if rows.is_empty() {
        return Html::trusted(format!(
            "<p class=\"empty\" data-testid=\"{}-empty\">{}: none yet.</p>",
            attr(testid),
            esc(caption)
        ));
    }
    let mut s = format!(
        "<div class=\"table-wrap\"><table data-testid=\"{}\"><caption>{}</caption><thead><tr>",
        attr(testid),
        esc(caption)
    );
    for h in head {
        let _ = write!(s, "<th scope=\"col\">{}</th>", esc(h));
    }
    s.push_str("</tr></thead><tbody>");
    for row in rows {
        s.push_str("<tr>");
        for cell in row {
            let _ = write!(s, "<td>{cell}</td>");
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div>");
    Html(s)
}

/// A timestamp (RFC 3339 on the wire) as a `<time>` element.
pub fn time(ts: &playrack_wire::Timestamp) -> Html {
    let text = serde_json::to_value(ts)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let short = text.replace('T', " ");
    let short = short
        .split('.')
        .next()
        .unwrap_or(&short)
        .trim_end_matches('Z');
    Html::trusted(format!(
        "<time datetime=\"{}\">{} UTC</time>",
        attr(&text),
        esc(short)
    ))
}

/// An optional timestamp, or a dash.
pub fn time_opt(ts: Option<&playrack_wire::Timestamp>) -> Html {
    ts.map(time).unwrap_or_else(|| Html::trusted("—"))
}

/// Micro-units of money as a decimal with two places.
pub fn money(micros: i64) -> String {
    let cents = micros / 10_000;
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.abs();
    format!("{sign}{}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"y\"").as_str(),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }

    #[test]
    fn urls_refuse_scripts_and_protocol_relative() {
        assert_eq!(url("javascript:alert(1)").as_str(), "#");
        assert_eq!(url("//evil.example/x").as_str(), "#");
        assert_eq!(url(" data:text/html,x").as_str(), "#");
        assert_eq!(
            url("https://a.example/?q=\"").as_str(),
            "https://a.example/?q=&quot;"
        );
        assert_eq!(
            url("/v1/play/links/abc/icon").as_str(),
            "/v1/play/links/abc/icon"
        );
    }

    #[test]
    fn money_and_pct() {
        assert_eq!(money(1_234_567), "1.23");
        assert_eq!(money(0), "0.00");
        assert_eq!(pct("a b/ü"), "a%20b%2F%C3%BC");
    }
}
