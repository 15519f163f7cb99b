//! Queue ETAs from what the platform has observed, not a constant.
//!
//! For the ticket at position `p` (1-based) among tickets competing for `n` busy slots, the
//! slots free in the order of their sessions' expected remaining time; the `p`-th free slot
//! comes after `(p - 1) / n` whole average sessions plus the `((p - 1) % n)`-th smallest
//! remaining time. A session already past the average length is expected to end soon, not
//! never: its remaining time counts as a small floor.

/// Remaining time assumed for a session that is already past the average length.
pub const OVERDUE_FLOOR_SECS: f64 = 5.0;

/// Average observed session length with a prior, so the first plays don't swing the ETA.
pub fn average_len(observed_secs: &[u32], prior_secs: u32) -> f64 {
    // The prior counts as five observations.
    const PRIOR_WEIGHT: f64 = 5.0;
    let sum: f64 = observed_secs.iter().map(|s| f64::from(*s)).sum();
    (sum + PRIOR_WEIGHT * f64::from(prior_secs)) / (observed_secs.len() as f64 + PRIOR_WEIGHT)
}

/// ETA in seconds for `position` given the elapsed seconds of the busy slots' sessions.
pub fn eta_secs(position: u32, running_elapsed_secs: &[u32], avg_len_secs: f64) -> u32 {
    if position == 0 {
        return 0;
    }
    let mut remaining: Vec<f64> = running_elapsed_secs
        .iter()
        .map(|e| (avg_len_secs - f64::from(*e)).max(OVERDUE_FLOOR_SECS))
        .collect();
    if remaining.is_empty() {
        // Nothing running (slots are being set up): one average session per position.
        return (f64::from(position) * avg_len_secs).ceil() as u32;
    }
    remaining.sort_by(f64::total_cmp);
    let n = remaining.len() as u32;
    let rounds = (position - 1) / n;
    let idx = ((position - 1) % n) as usize;
    (f64::from(rounds) * avg_len_secs + remaining[idx]).ceil() as u32
}

/// [`eta_secs`] from a sample: the elapsed times of the `sampled` oldest running sessions (the
/// first expected to end) out of `running` busy slots. Positions past the sample count the
/// remaining slots as a fresh average session each, which is what a bounded read can know.
pub fn eta_secs_sampled(
    position: u32,
    oldest_elapsed_secs: &[u32],
    running: u32,
    avg_len_secs: f64,
) -> u32 {
    let n = running.max(oldest_elapsed_secs.len() as u32);
    if position == 0 || n == 0 || oldest_elapsed_secs.len() as u32 >= n {
        return eta_secs(position, oldest_elapsed_secs, avg_len_secs);
    }
    let mut remaining: Vec<f64> = oldest_elapsed_secs
        .iter()
        .map(|e| (avg_len_secs - f64::from(*e)).max(OVERDUE_FLOOR_SECS))
        .collect();
    remaining.sort_by(f64::total_cmp);
    let rounds = (position - 1) / n;
    let idx = ((position - 1) % n) as usize;
    let next = remaining.get(idx).copied().unwrap_or(avg_len_secs);
    (f64::from(rounds) * avg_len_secs + next).ceil() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_follows_the_sessions_that_end_first() {
        // Two slots busy for 100 s and 250 s, sessions last 300 s on average.
        assert_eq!(eta_secs(1, &[100, 250], 300.0), 50);
        assert_eq!(eta_secs(2, &[100, 250], 300.0), 200);
        // The third waits a whole session more behind the first slot.
        assert_eq!(eta_secs(3, &[100, 250], 300.0), 350);
        assert_eq!(eta_secs(0, &[100], 300.0), 0);
        // An overdue session is expected to end soon.
        assert_eq!(eta_secs(1, &[900], 300.0), OVERDUE_FLOOR_SECS as u32);
    }

    #[test]
    fn a_sample_of_the_oldest_sessions_gives_the_same_eta_where_it_reaches() {
        // All running sessions sampled: exactly eta_secs.
        assert_eq!(eta_secs_sampled(2, &[250, 100], 2, 300.0), 200);
        // Two of ten sampled: positions 1–2 follow them, later ones assume a whole session.
        assert_eq!(eta_secs_sampled(1, &[250, 100], 10, 300.0), 50);
        assert_eq!(eta_secs_sampled(2, &[250, 100], 10, 300.0), 200);
        assert_eq!(eta_secs_sampled(5, &[250, 100], 10, 300.0), 300);
        // Past every slot, whole rounds of average sessions are added.
        assert_eq!(eta_secs_sampled(11, &[250, 100], 10, 300.0), 350);
        // Nothing running: one average session per position.
        assert_eq!(eta_secs_sampled(2, &[], 0, 300.0), 600);
    }

    #[test]
    fn averages_lean_on_the_prior_until_data_arrives() {
        assert_eq!(average_len(&[], 300), 300.0);
        let many = vec![60u32; 95];
        let avg = average_len(&many, 300);
        assert!((avg - 72.0).abs() < 1e-9, "{avg}");
    }
}
