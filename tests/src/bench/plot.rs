//! A figure's plot: the cumulative distribution of its samples beside its baseline's, as a PNG
//! (`plotters`' bitmap backend, text in DejaVu Sans from Debian's `fonts-dejavu-core`).

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Context, anyhow};
use playrack_test_support::figure::Figure;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Where Debian's `fonts-dejavu-core` puts the font (`scripts/install-deps.sh` installs it).
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

fn font() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            let bytes = std::fs::read(FONT).map_err(|e| {
                format!("{FONT}: {e} (install Debian's fonts-dejavu-core: scripts/install-deps.sh)")
            })?;
            plotters::style::register_font("sans-serif", FontStyle::Normal, bytes.leak())
                .map_err(|_| format!("{FONT} is not a font plotters can read"))
        })
        .clone()
        .map_err(|e| anyhow!(e))
}

/// The file name of a figure's plot: its name with anything but letters, digits, `.`, `-`
/// and `_` replaced, so a figure name never leaves the plots' directory.
pub fn file_name(figure: &Figure) -> String {
    let safe: String = figure
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}.png", safe.trim_start_matches('.'))
}

/// The points of the empirical CDF of `samples`, as steps.
pub fn cdf_points(samples: &[f64]) -> Vec<(f64, f64)> {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len() as f64;
    let mut points = Vec::with_capacity(2 * s.len());
    for (i, x) in s.iter().enumerate() {
        points.push((*x, i as f64 / n));
        points.push((*x, (i + 1) as f64 / n));
    }
    points
}

/// Draws `figure` into `path` (PNG, 800×450).
pub fn draw(figure: &Figure, path: &Path) -> anyhow::Result<()> {
    font()?;
    let mut series: Vec<(String, &[f64], RGBColor)> = Vec::new();
    if !figure.samples.is_empty() {
        series.push((
            figure.name.clone(),
            &figure.samples,
            RGBColor(0x1f, 0x6f, 0xd1),
        ));
    }
    if let Some(b) = figure.baseline.as_ref().filter(|b| !b.samples.is_empty()) {
        series.push((
            format!("baseline: {}", b.name),
            &b.samples,
            RGBColor(0x99, 0x99, 0x99),
        ));
    }
    let all = || series.iter().flat_map(|(_, s, _)| s.iter().copied());
    let hi = all().fold(f64::NEG_INFINITY, f64::max);
    let lo = all().fold(f64::INFINITY, f64::min);
    if !hi.is_finite() {
        return Err(anyhow!("{}: no samples to plot", figure.name));
    }
    let pad = ((hi - lo) * 0.05).max(hi.abs() * 0.01).max(1e-3);
    let lo = if lo >= 0.0 {
        (lo - pad).max(0.0)
    } else {
        lo - pad
    };
    let hi = hi + pad;

    let root = BitMapBackend::new(path, (800, 450)).into_drawing_area();
    let err = |e: DrawingAreaErrorKind<_>| anyhow!("drawing {}: {e:?}", path.display());
    root.fill(&WHITE).map_err(err)?;
    let caption = match &figure.target {
        Some(t) => format!("{} (target {t})", figure.name),
        None => figure.name.clone(),
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(lo..hi, 0.0..1.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(figure.unit.as_str())
        .y_desc("fraction of samples ≤ x")
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(err)?;
    for (label, samples, color) in &series {
        let color = *color;
        chart
            .draw_series(LineSeries::new(cdf_points(samples), color.stroke_width(2)))
            .map_err(err)?
            .label(format!("{label} (n = {})", samples.len()))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(("sans-serif", 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    drop(chart);
    std::fs::metadata(path).with_context(|| format!("{} was not written", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cdf_steps_up_to_one_through_sorted_samples() {
        let p = cdf_points(&[3.0, 1.0, 2.0]);
        assert_eq!(p.first(), Some(&(1.0, 0.0)));
        assert_eq!(p.last(), Some(&(3.0, 1.0)));
        assert!(p.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
    }

    #[test]
    fn a_plot_file_name_stays_in_its_directory() {
        let f = Figure::new("../latency.native.720x1280@60", "ms", vec![1.0]);
        assert_eq!(file_name(&f), "_latency.native.720x1280_60.png");
        assert!(!file_name(&f).contains('/'));
    }

    #[test]
    fn a_figure_is_drawn_as_a_png() {
        let dir = tempfile::tempdir().unwrap();
        let f = Figure::new("latency.x", "ms", (1..=50).map(f64::from).collect())
            .baseline("floor", (1..=50).map(|i| f64::from(i) / 2.0).collect());
        let path = dir.path().join(file_name(&f));
        draw(&f, &path).unwrap();
        let png = std::fs::read(&path).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}
