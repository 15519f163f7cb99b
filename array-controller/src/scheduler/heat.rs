//! Whether a board is too hot to take new plays, from its telemetry and its room's limits.
//!
//! A board over its room's CPU or temperature limit takes no new plays (its running plays go
//! on); it takes them again once it is clearly under both — 10 points of CPU and 5 °C under the
//! limits — so a board hovering at the limit does not flap in and out of placement.

use playrack_wire::agent::Telemetry;

/// CPU points under the limit a hot board must fall to before it takes plays again.
pub const CPU_HYSTERESIS: f32 = 10.0;
/// Degrees under the limit a hot board must fall to before it takes plays again.
pub const TEMPERATURE_HYSTERESIS: f32 = 5.0;

/// The board's judgment after this telemetry: why it takes no new plays (`Some(reason)`), or
/// `None` when it takes them. `hot` is the judgment before it.
pub fn judge(t: &Telemetry, max_cpu: u32, max_temp: u32, hot: Option<&str>) -> Option<String> {
    let temp = t
        .temperatures_c
        .iter()
        .copied()
        .filter(|c| c.is_finite())
        .fold(f32::NEG_INFINITY, f32::max);
    let (max_cpu, max_temp) = (max_cpu as f32, max_temp as f32);
    if temp > max_temp {
        return Some(format!(
            "temperature {temp:.0} °C over the room's {max_temp:.0} °C"
        ));
    }
    if t.cpu_percent > max_cpu {
        return Some(format!(
            "CPU {:.0} % over the room's {max_cpu:.0} %",
            t.cpu_percent
        ));
    }
    let cooled =
        t.cpu_percent < max_cpu - CPU_HYSTERESIS && temp < max_temp - TEMPERATURE_HYSTERESIS;
    match hot {
        Some(reason) if !cooled => Some(reason.to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(cpu: f32, temps: &[f32]) -> Telemetry {
        Telemetry {
            cpu_percent: cpu,
            temperatures_c: temps.to_vec(),
            ..Telemetry::default()
        }
    }

    #[test]
    fn over_either_limit_is_hot_and_says_which() {
        assert_eq!(judge(&t(50.0, &[60.0, 70.0]), 90, 85, None), None);
        assert_eq!(
            judge(&t(50.0, &[60.0, 91.2]), 90, 85, None).as_deref(),
            Some("temperature 91 °C over the room's 85 °C")
        );
        assert_eq!(
            judge(&t(97.0, &[]), 90, 85, None).as_deref(),
            Some("CPU 97 % over the room's 90 %")
        );
    }

    #[test]
    fn a_hot_board_cools_only_clearly_under_both_limits() {
        let hot = Some("temperature 91 °C over the room's 85 °C");
        // At the limit, or just under it: still hot (no flapping).
        assert!(judge(&t(50.0, &[85.0]), 90, 85, hot).is_some());
        assert!(judge(&t(50.0, &[81.0]), 90, 85, hot).is_some());
        assert!(judge(&t(85.0, &[60.0]), 90, 85, hot).is_some());
        // Clearly under both.
        assert_eq!(judge(&t(79.0, &[79.0]), 90, 85, hot), None);
        // A board that was not hot is not hot in the band either.
        assert_eq!(judge(&t(85.0, &[82.0]), 90, 85, None), None);
    }

    #[test]
    fn no_sensor_reading_is_not_a_temperature() {
        assert_eq!(judge(&t(10.0, &[f32::NAN]), 90, 85, None), None);
        assert_eq!(judge(&t(10.0, &[]), 90, 85, Some("x")), None);
    }
}
