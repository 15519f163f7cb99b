//! Small inline-SVG bar charts, drawn server-side (no script, no style attributes: CSP-clean).
//! Each chart has a `<title>`/`<desc>` and comes with the same numbers as a table on the page,
//! so screen-reader users get the data too.

use crate::html::{Markup, Text, html};
use crate::i18n::Lang;
use fluent_templates::fluent_bundle::FluentValue;

/// One bar: its label and value.
pub struct Bar {
    pub label: String,
    pub value: f64,
}

/// A horizontal bar chart (labels left, bars right): reads well on phones and with long names.
pub fn bars(lang: Lang, title: &str, unit: &str, testid: &str, data: &[Bar]) -> Markup {
    if data.is_empty() {
        let text = lang.t_args(
            "chart-empty",
            &[("title", FluentValue::from(title.to_owned()))],
        );
        return html! {
            p class="empty" data-testid={ (testid) "-empty" } { (text) }
        };
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
    html! {
        figure class="chart" {
            svg role="img" aria-labelledby={ (testid) "-t" } data-testid=(testid)
                viewBox={ "0 0 " (width) " " (height) } width="100%"
                preserveAspectRatio="xMinYMin meet"
            {
                title id={ (testid) "-t" } { (title) }
                @for (i, b) in data.iter().enumerate() {
                    @let y = 4.0 + i as f64 * row_h;
                    @let ty = y + row_h * 0.65;
                    @let w = (b.value / max * bar_w).max(if b.value > 0.0 { 1.0 } else { 0.0 });
                    @let label: String = b.label.chars().take(22).collect();
                    @let v = fmt_num(b.value);
                    text x=(label_w - 6.0) y=(ty) text-anchor="end" class="chart-label" { (Text(label)) }
                    rect x=(label_w) y=(y) width=(format!("{w:.1}")) height=(row_h - 6.0)
                        class="chart-bar"
                    {
                        title { (Text(&b.label)) ": " (v) " " (unit) }
                    }
                    text x=(format!("{:.1}", label_w + w + 4.0)) y=(ty) class="chart-value" {
                        (v) " " (unit)
                    }
                }
            }
            figcaption { (title) }
        }
    }
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
            Lang::En,
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
        assert!(svg.0.contains("&lt;b&gt;"));
        assert!(!svg.0.contains("<b>"));
        assert!(svg.0.contains("width=\"300.0\""));
        assert!(svg.0.contains("width=\"150.0\""));
    }
}
