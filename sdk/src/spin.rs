//! Wake-up-free hand-off between the node's runtime and a plugin's.
//!
//! Every message on the plugin pipe crosses threads. When the receiving
//! thread is parked, waking it is a futex wake plus, on an idle virtual
//! machine, an inter-processor interrupt to a halted vCPU: measured at about
//! 45 µs per hand-off here, two per round trip. So each side that waits for
//! the other first polls for a short window ([`spin_window`]), yielding to its own runtime
//! between polls (other tasks keep running, the thread never parks), and
//! only then parks. A conversation in progress (a reply coming back, the
//! next request of a burst) is picked up without a wake-up; an idle pipe
//! costs nothing once the window has passed.
//!
//! Spinning only pays when the answer comes within the window. When it
//! does not (the pipe is idle, or the CPUs are busy with other work), the
//! spin is wasted, and worse: the scheduler charges the CPU it burnt to the
//! waiting thread, so its later wake-up loses to the busy threads (measured:
//! calls 1 ms apart on two saturated cores took 1.9 ms at p50 with a blind
//! spin, 90 µs without). So each waiter keeps a spin policy: it stops
//! spinning after a few waits in a row that outlasted the window, or at once
//! when a yield shows that other threads want the CPU.

use std::sync::OnceLock;

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

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

/// Whether one waiter (a request path, a receive loop) spins next time:
/// yes until [`MISSES_BEFORE_PARKING`] waits in a row have outlasted the
/// window, and again as soon as a wait is short. One slow answer in a busy
/// conversation does not stop the spinning; a pipe that has gone quiet, or
/// a machine too busy for the other side to answer in time, does.
#[derive(Debug, Default)]
pub(crate) struct SpinPolicy(AtomicU8);

/// How many long waits in a row turn spinning off.
pub const MISSES_BEFORE_PARKING: u8 = 3;

impl SpinPolicy {
    /// The window for the next wait: [`spin_window`] or zero.
    pub(crate) fn window(&self) -> Duration {
        if self.0.load(Ordering::Relaxed) < MISSES_BEFORE_PARKING {
            spin_window()
        } else {
            Duration::ZERO
        }
    }

    /// Record how long a wait took, from its start to its message.
    pub(crate) fn record(&self, waited: Duration) {
        let misses = if waited < spin_window() {
            0
        } else {
            self.0
                .load(Ordering::Relaxed)
                .saturating_add(1)
                .min(MISSES_BEFORE_PARKING)
        };
        self.0.store(misses, Ordering::Relaxed);
    }
}

/// How a wait for one answer ended.
#[derive(Debug)]
pub(crate) enum Answer<T> {
    /// The answer.
    Got(T),
    /// The sender was dropped without answering.
    Closed,
    /// No answer in time.
    TimedOut,
}

impl SpinPolicy {
    /// The next message of an unbounded channel (`None` once it is closed
    /// and drained): poll, then park; the wait is recorded.
    pub(crate) async fn recv<T>(&self, rx: &mut mpsc::UnboundedReceiver<T>) -> Option<T> {
        let started = Instant::now();
        let fast = self
            .poll(|| match rx.try_recv() {
                Ok(msg) => Some(Some(msg)),
                Err(mpsc::error::TryRecvError::Empty) => None,
                Err(mpsc::error::TryRecvError::Disconnected) => Some(None),
            })
            .await;
        let msg = match fast {
            Some(msg) => msg,
            None => rx.recv().await,
        };
        self.record(started.elapsed());
        msg
    }

    /// The answer on `rx`, waiting at most `timeout`: poll, then park; the
    /// wait is recorded.
    pub(crate) async fn answer<T>(
        &self,
        mut rx: oneshot::Receiver<T>,
        timeout: Duration,
    ) -> Answer<T> {
        let started = Instant::now();
        let fast = self
            .poll(|| match rx.try_recv() {
                Ok(v) => Some(Answer::Got(v)),
                Err(oneshot::error::TryRecvError::Empty) => None,
                Err(oneshot::error::TryRecvError::Closed) => Some(Answer::Closed),
            })
            .await;
        let answer = match fast {
            Some(answer) => answer,
            None => match tokio::time::timeout(timeout.saturating_sub(started.elapsed()), rx).await
            {
                Ok(Ok(v)) => Answer::Got(v),
                Ok(Err(_)) => Answer::Closed,
                Err(_) => Answer::TimedOut,
            },
        };
        self.record(started.elapsed());
        answer
    }
}

/// A `sched_yield` that takes longer than this gave the CPU to another
/// thread for a time slice: the CPUs are contended, and spinning on would
/// only lose (see the module docs).
pub const CONTENDED_YIELD: Duration = Duration::from_micros(50);

impl SpinPolicy {
    /// Poll `try_take` until it yields a value or the window has passed
    /// (then `None`: the caller parks on the slow path); with spinning off,
    /// poll once. Between polls the thread yields to the OS scheduler (a
    /// thread woken on this CPU runs at once) and the task to its runtime
    /// (other tasks run). A yield that took a time slice turns spinning off
    /// at once.
    pub(crate) async fn poll<T>(&self, mut try_take: impl FnMut() -> Option<T>) -> Option<T> {
        let window = self.window();
        let start = Instant::now();
        loop {
            if let Some(v) = try_take() {
                return Some(v);
            }
            if start.elapsed() >= window {
                return None;
            }
            let before_yield = Instant::now();
            std::thread::yield_now();
            if before_yield.elapsed() > CONTENDED_YIELD {
                self.0.store(MISSES_BEFORE_PARKING, Ordering::Relaxed);
                return try_take();
            }
            tokio::task::yield_now().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short() -> Duration {
        spin_window() / 10
    }

    fn long() -> Duration {
        spin_window() * 2
    }

    #[test]
    fn spinning_stops_after_long_waits_in_a_row_and_resumes_after_a_short_one() {
        let p = SpinPolicy::default();
        assert_eq!(p.window(), spin_window());
        for _ in 1..MISSES_BEFORE_PARKING {
            p.record(long());
            assert_eq!(p.window(), spin_window(), "one slow answer is not enough");
        }
        p.record(short());
        for _ in 0..MISSES_BEFORE_PARKING {
            p.record(long());
        }
        assert_eq!(p.window(), Duration::ZERO);
        p.record(long());
        assert_eq!(p.window(), Duration::ZERO);
        p.record(short());
        assert_eq!(p.window(), spin_window());
    }

    #[tokio::test]
    async fn poll_returns_what_arrives_within_the_window_and_gives_up_after_it() {
        let p = SpinPolicy::default();
        let mut calls = 0;
        let got = p
            .poll(|| {
                calls += 1;
                (calls == 2).then_some("x")
            })
            .await;
        // The second poll comes after one yield, contended or not.
        assert_eq!((got, calls), (Some("x"), 2));

        let t0 = Instant::now();
        assert_eq!(p.poll(|| None::<()>).await, None);
        // It gave up (after the window, or sooner if the CPU was
        // contended) instead of waiting for a message that never comes.
        assert!(t0.elapsed() < Duration::from_secs(1));

        // Spinning off: one poll, no waiting.
        p.0.store(MISSES_BEFORE_PARKING, Ordering::Relaxed);
        let mut calls = 0;
        let got = p
            .poll(|| {
                calls += 1;
                None::<()>
            })
            .await;
        assert_eq!((got, calls), (None, 1));
    }
}
