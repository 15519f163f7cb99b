//! Safe HTML building with [maud]: pages are `html! { … }` templates, checked when the crate
//! compiles, and every `(value)` spliced into one is escaped by its type through maud's
//! [`Render`](maud::Render) (text is always text; only a [`Markup`] is markup). Shared here:
//! the list table, timestamps, money, and URL and percent-encoding helpers.
//!
//! Nothing in the portal writes markup from a string: there is no "trusted" constructor. Data
//! that comes from outside the portal (names, labels, URLs, e-mail addresses, ids, problem
//! texts) is spliced as [`Text`], which escapes `'` as well as maud's `&<>"`: harmless either
//! way inside double-quoted attributes, but it keeps such text reading exactly as it always has
//! in the pages (and in the tests that check it).

pub use maud::{Markup, html};

use crate::i18n::Lang;
use fluent_templates::fluent_bundle::FluentValue;
use maud::Render;
use std::fmt::{Display, Write};

/// Text from outside the portal, escaped for element content and quoted attribute values
/// (`&<>"'`).
pub struct Text<T>(pub T);

impl<T: Display> Render for Text<T> {
    fn render_to(&self, buffer: &mut String) {
        for c in self.0.to_string().chars() {
            match c {
                '&' => buffer.push_str("&amp;"),
                '<' => buffer.push_str("&lt;"),
                '>' => buffer.push_str("&gt;"),
                '"' => buffer.push_str("&quot;"),
                '\'' => buffer.push_str("&#39;"),
                c => buffer.push(c),
            }
        }
    }
}

/// [`Text`] as a piece of markup (a table cell, say).
pub fn text(t: impl Display) -> Markup {
    html! { (Text(t)) }
}

/// A URL for an `href`/`src`: only `http(s)://`, root-relative `/…` and `#…` pass; anything else
/// (`javascript:`, `data:`, `//host`) becomes `#`. Splice the result as text: maud escapes it.
pub fn url(text: &str) -> &str {
    let t = text.trim();
    let ok = t.starts_with("https://")
        || t.starts_with("http://")
        || (t.starts_with('/') && !t.starts_with("//"))
        || t.starts_with('#');
    if ok { t } else { "#" }
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

/// A `<table>` with a caption, header cells and rows of cells, or a "none yet" line when there
/// are no rows.
pub fn table<H: AsRef<str>>(
    lang: Lang,
    caption: &str,
    testid: &str,
    head: &[H],
    rows: Vec<Vec<Markup>>,
) -> Markup {
    html! {
        @if rows.is_empty() {
            p class="empty" data-testid={ (testid) "-empty" } {
                (lang.t_args("table-empty", &[("caption", FluentValue::from(caption.to_owned()))]))
            }
        } @else {
            div class="table-wrap" {
                table data-testid=(testid) {
                    caption { (caption) }
                    thead { tr { @for h in head { th scope="col" { (h.as_ref()) } } } }
                    tbody {
                        @for row in &rows {
                            tr { @for cell in row { td { (cell) } } }
                        }
                    }
                }
            }
        }
    }
}

/// A timestamp (RFC 3339 on the wire) as a `<time>` element, in UTC (`app.js` shows it in
/// the reader's time zone and language).
pub fn time(ts: &playrack_wire::Timestamp) -> Markup {
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
    html! { time datetime=(text) { (short) " UTC" } }
}

/// An optional timestamp, or a dash.
pub fn time_opt(ts: Option<&playrack_wire::Timestamp>) -> Markup {
    ts.map(time).unwrap_or_else(|| html! { "—" })
}

/// A size in bytes, KiB, MiB or GiB.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// Micro-units of money in `currency` (an ISO 4217 code), with two decimal places, grouped
/// thousands and the currency's symbol as `lang` writes it (CLDR's: `CN¥` in English, `¥` in
/// Chinese; a currency without a symbol here is written with its code).
pub fn money(lang: Lang, currency: &str, micros: i64) -> String {
    let cents = micros / 10_000;
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let symbol = match (currency, lang) {
        ("CNY", Lang::En) => "CN¥",
        ("CNY", Lang::ZhCn) => "¥",
        ("USD", Lang::En) => "$",
        ("USD", Lang::ZhCn) => "US$",
        ("EUR", _) => "€",
        ("HKD", _) => "HK$",
        ("GBP", _) => "£",
        _ => "",
    };
    let amount = format!("{}.{:02}", grouped(cents / 100), cents % 100);
    if symbol.is_empty() {
        format!("{sign}{currency}\u{a0}{amount}")
    } else {
        format!("{sign}{symbol}{amount}")
    }
}

/// An integer with its thousands grouped (`1,234,567`: how both English and Chinese write it).
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A form that `app.js` sends as JSON to `/api…` (`method`), then follows `then`.
pub fn api_form(api: &str, method: &str, then: &str, testid: &str, inner: Markup) -> Markup {
    html! {
        form class="api-form" data-api=(Text(api)) data-method=(method) data-then=(then)
            data-testid=(testid)
        {
            (inner)
            p class="error" role="alert" data-testid={ (testid) "-error" } {}
        }
    }
}

/// A button that `app.js` turns into one `/api` call with an optional JSON body and
/// confirmation, then reloads the page.
pub fn api_button(
    label: &str,
    api: &str,
    method: &str,
    body: Option<&str>,
    confirm: Option<&str>,
    testid: &str,
    class: &str,
) -> Markup {
    html! {
        button type="button" class=(class) data-api=(Text(api)) data-method=(method)
            data-body=[body.map(Text)] data-confirm=[confirm.map(Text)] data-then="reload"
            data-testid=(testid)
        { (label) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splices_escape_markup_and_quotes() {
        let text = "<script>alert('x')</script> & \"y\"";
        let page = html! { p title=(text) { (text) } }.into_string();
        assert_eq!(
            page,
            "<p title=\"&lt;script&gt;alert('x')&lt;/script&gt; &amp; &quot;y&quot;\">\
             &lt;script&gt;alert('x')&lt;/script&gt; &amp; &quot;y&quot;</p>"
        );
    }

    #[test]
    fn text_escapes_apostrophes_too() {
        let name = "<i>O'Neil</i> & \"co\"";
        assert_eq!(
            html! { b title=(Text(name)) { (Text(name)) } }.into_string(),
            "<b title=\"&lt;i&gt;O&#39;Neil&lt;/i&gt; &amp; &quot;co&quot;\">\
             &lt;i&gt;O&#39;Neil&lt;/i&gt; &amp; &quot;co&quot;</b>"
        );
    }

    #[test]
    fn urls_refuse_scripts_and_protocol_relative() {
        assert_eq!(url("javascript:alert(1)"), "#");
        assert_eq!(url("//evil.example/x"), "#");
        assert_eq!(url(" data:text/html,x"), "#");
        assert_eq!(
            html! { a href=(url("https://a.example/?q=\"")) {} }.into_string(),
            "<a href=\"https://a.example/?q=&quot;\"></a>"
        );
        assert_eq!(url("/v1/play/links/abc/icon"), "/v1/play/links/abc/icon");
    }

    #[test]
    fn empty_tables_say_so_and_cells_are_markup() {
        assert_eq!(
            table(Lang::En, "Keys", "keys", &["Name"], vec![]).into_string(),
            "<p class=\"empty\" data-testid=\"keys-empty\">Keys: none yet.</p>"
        );
        assert_eq!(
            table(Lang::ZhCn, "密钥", "keys", &["名称"], vec![]).into_string(),
            "<p class=\"empty\" data-testid=\"keys-empty\">密钥：暂无。</p>"
        );
        let t = table(
            Lang::En,
            "K",
            "k",
            &["<N>"],
            vec![vec![html! { b { "x" } }]],
        )
        .into_string();
        assert!(t.contains("<th scope=\"col\">&lt;N&gt;</th>"), "{t}");
        assert!(t.contains("<td><b>x</b></td>"), "{t}");
    }

    #[test]
    fn money_and_pct() {
        assert_eq!(money(Lang::En, "CNY", 1_234_567), "CN¥1.23");
        assert_eq!(money(Lang::ZhCn, "CNY", 1_234_567), "¥1.23");
        assert_eq!(money(Lang::En, "USD", 1_234_567_890_000), "$1,234,567.89");
        assert_eq!(money(Lang::ZhCn, "USD", -5_000_000), "-US$5.00");
        assert_eq!(money(Lang::En, "CHF", 0), "CHF\u{a0}0.00");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(0), "0");
        assert_eq!(pct("a b/ü"), "a%20b%2F%C3%BC");
    }
}
