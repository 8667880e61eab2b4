//! Deadlines that cannot overflow.

use embassy_time::{Duration, Instant};

/// The instant `timeout` from now; `Duration::MAX` (or any timeout past the end of
/// time) means "no bound" and never panics.
pub fn deadline_after(timeout: Duration) -> Instant {
    Instant::now().saturating_add(timeout)
}
