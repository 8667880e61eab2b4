//! Deadlines: the one place at-core turns a timeout into an instant.

use embassy_time::{Duration, Instant};

/// The instant `timeout` from now, saturating: `Duration::MAX` (or any timeout past the
/// end of time) gives `Instant::MAX`, which means "no bound", and never panics.
pub fn deadline_after(timeout: Duration) -> Instant {
    Instant::now().saturating_add(timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_max_means_no_bound() {
        assert_eq!(deadline_after(Duration::MAX), Instant::MAX);
        // Saturates instead of wrapping; `now` may still be tick 0 in a fresh process,
        // which leaves the deadline one tick short of the end of time.
        let near_max = deadline_after(Duration::from_ticks(u64::MAX - 1));
        assert!(near_max.as_ticks() >= u64::MAX - 1, "{near_max:?}");
    }

    #[test]
    fn a_finite_timeout_lies_ahead() {
        let before = Instant::now();
        let deadline = deadline_after(Duration::from_secs(1));
        assert!(deadline >= before + Duration::from_secs(1));
        assert!(deadline < Instant::MAX);
    }
}
