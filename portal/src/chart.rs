//! Small inline-SVG bar charts, drawn server-side (no script, no style attributes: CSP-clean).
//! Each chart has a `<title>`/`<desc>` and comes with the same numbers as a table on the page,
//! so screen-reader users get the data too.

use crate::html::{Html, attr, esc};
use std::fmt::Write;

/// One bar: its label and value.
pub struct Bar {
    pub label: String,
    pub value: f64,
}

/// A horizontal bar chart (labels left, bars right): reads well on phones and with long names.
pub fn bars(title: &str, unit: &str, testid: &str, data: &[Bar]) -> Html {
    if data.is_empty() {
        return Html::trusted(format!(
            "<p class=\"empty\" data-testid=\"{}-empty\">{}: no data for this period.</p>",
            attr(testid),
            esc(title)
        ));
    }
    let row_h = 22.0;
    let label_w = 150.0;
    let bar_w = 300.0;
    let value_w = 90.0;
    let width = label_w + bar_w + value_w;
    let height = row_h * data.len() as f64 + 8.0;
    let max = data
        .iter()
        .map(|b| b.value)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let mut s = format!(
        "<figure class=\"chart\"><svg role=\"img\" aria-labelledby=\"{id}-t\" data-testid=\"{id}\" \
         viewBox=\"0 0 {width} {height}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\">\
         <title id=\"{id}-t\">{t}</title>",
        id = attr(testid),
        t = esc(title),
    );
    for (i, b) in data.iter().enumerate() {
        let y = 4.0 + i as f64 * row_h;
        let w = (b.value / max * bar_w).max(if b.value > 0.0 { 1.0 } else { 0.0 });
        let label: String = b.label.chars().take(22).collect();
        let _ = write!(
            s,
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" class=\"chart-label\">{label}</text>\
             <rect x=\"{bx}\" y=\"{y}\" width=\"{w:.1}\" height=\"{h}\" class=\"chart-bar\"><title>{full}: {v} {unit}</title></rect>\
             <text x=\"{vx:.1}\" y=\"{ty}\" class=\"chart-value\">{v} {unit}</text>",
            lx = label_w - 6.0,
            ty = y + row_h * 0.65,
            label = esc(label),
            bx = label_w,
            h = row_h - 6.0,
            full = esc(&b.label),
            v = esc(fmt_num(b.value)),
            unit = esc(unit),
            vx = label_w + w + 4.0,
        );
    }
    s.push_str("</svg>");
    let _ = write!(s, "<figcaption>{}</figcaption></figure>", esc(title));
    Html::trusted(s)
}

fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_bars_scale() {
        let svg = bars(
            "Minutes",
            "min",
            "c",
            &[
                Bar {
                    label: "<b>".into(),
                    value: 10.0,
                },
                Bar {
                    label: "two".into(),
                    value: 5.0,
                },
            ],
        );
        assert!(svg.as_str().contains("&lt;b&gt;"));
        assert!(!svg.as_str().contains("<b>"));
        assert!(svg.as_str().contains("width=\"300.0\""));
        assert!(svg.as_str().contains("width=\"150.0\""));
    }
}
