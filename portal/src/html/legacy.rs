//! The `format!`-era building blocks, kept only while the pages that still assemble HTML with
//! `format!` are converted to maud: [`Html`] (markup as a string), [`esc`]/[`attr`] (escape
//! text by hand) and the list helpers returning them. An [`Html`] splices into a maud template
//! (and converts into [`Markup`]) as the markup it already is. New code never uses this module.

use maud::{Markup, PreEscaped, Render};
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

impl Render for Html {
    fn render_to(&self, buffer: &mut String) {
        buffer.push_str(&self.0);
    }
}

impl From<Html> for Markup {
    fn from(h: Html) -> Markup {
        PreEscaped(h.0)
    }
}

impl From<Markup> for Html {
    fn from(m: Markup) -> Html {
        Html(m.into_string())
    }
}
