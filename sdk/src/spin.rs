//! Wake-up-free hand-off between the node's runtime and a plugin's.
//!
//! Every message on the plugin pipe crosses threads. When the receiving
//! thread is parked, waking it is a futex wake plus, on an idle virtual
//! machine, an inter-processor interrupt to a halted vCPU: measured at about
//! 45 µs per hand-off here, two per round trip. So each side that waits for
//! the other first polls for [`SPIN_WINDOW`], yielding to its own runtime
//! between polls (other tasks keep running, the thread never parks), and
//! only then parks. A conversation in progress (a reply coming back, the
//! next request of a burst) is picked up without a wake-up; an idle pipe
//! costs nothing once the window has passed.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a waiter polls before it parks, by default. Long enough to
/// cover the other side's turnaround for a small message (a few µs) and a
/// wake-up of the other side (about 45 µs on an idle VM), short enough that
/// an idle plugin burns at most this much CPU after its last message.
pub const DEFAULT_SPIN_WINDOW: Duration = Duration::from_micros(100);

/// The environment variable that overrides [`DEFAULT_SPIN_WINDOW`], in
/// microseconds (`0` turns polling off: every wait parks at once).
pub const SPIN_ENV: &str = "LUMEN_PLUGIN_SPIN_US";

/// The window in force: [`SPIN_ENV`] if set to a number, else the default.
/// Read once per process.
pub fn spin_window() -> Duration {
    static WINDOW: OnceLock<Duration> = OnceLock::new();
    *WINDOW.get_or_init(|| {
        std::env::var(SPIN_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(DEFAULT_SPIN_WINDOW, Duration::from_micros)
    })
}

/// Poll `try_take` until it yields a value or `window` has passed (then
/// `None`: the caller parks on the slow path). Between polls the task
/// yields, so other tasks on this runtime still run.
pub(crate) async fn poll_for<T>(
    window: Duration,
    mut try_take: impl FnMut() -> Option<T>,
) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = try_take() {
            return Some(v);
        }
        if start.elapsed() >= window {
            return None;
        }
        std::thread::yield_now();
        tokio::task::yield_now().await;
    }
}
