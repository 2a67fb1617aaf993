//! A wall-clock timer for the injected latency, finer than tokio's.
//!
//! tokio's timer counts whole milliseconds and rounds every deadline up, so a 20 ms sleep
//! answers in 21–22 ms (measured with curl against `segment-mock --latency-ms 20`: 21.7 ms).
//! At 16 requests in flight that is 8 % more time than the latency the benchmarks state. This
//! timer keeps the deadlines in a heap on one thread that waits on a condition variable with
//! the OS's sub-millisecond timeout, and wakes each request's task through a oneshot channel.
//! It runs on real time only: tests on tokio's paused clock use tokio's timer instead
//! ([`crate::MockConfig::wall_clock_latency`] is off by default).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use tokio::sync::oneshot;

/// The timer thread's handle; the thread stops when this is dropped.
pub(crate) struct WallTimer {
    shared: Arc<TimerShared>,
}

struct TimerShared {
    queue: Mutex<Queue>,
    wake: Condvar,
}

#[derive(Default)]
struct Queue {
    due: BinaryHeap<Reverse<Due>>,
    next_seq: u64,
    closed: bool,
}

/// One waiting request, ordered by deadline (then by arrival, so the heap is a total order).
struct Due {
    at: Instant,
    seq: u64,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Due {}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Due {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl TimerShared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl WallTimer {
    /// Starts the timer thread.
    pub(crate) fn start() -> std::io::Result<Self> {
        let shared = Arc::new(TimerShared {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
        });
        let thread_shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("segment-mock-latency".to_owned())
            .spawn(move || run(&thread_shared))?;
        Ok(Self { shared })
    }

    /// Resolves at `at` (at once when `at` has passed or the timer has stopped).
    pub(crate) async fn wait_until(&self, at: Instant) {
        if at <= Instant::now() {
            return;
        }
        let (wake, woken) = oneshot::channel();
        {
            let mut queue = self.shared.lock();
            if queue.closed {
                return;
            }
            let seq = queue.next_seq;
            queue.next_seq += 1;
            let earliest = queue.due.peek().is_none_or(|Reverse(d)| at < d.at);
            queue.due.push(Reverse(Due { at, seq, wake }));
            if earliest {
                self.shared.wake.notify_one();
            }
        }
        // An error means the timer stopped (its queue was dropped): do not wait any longer.
        let _ = woken.await;
    }
}

impl WallTimer {
    /// Stops the thread; every waiting and later [`WallTimer::wait_until`] resolves at once.
    fn stop(&self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
    }
}

impl Drop for WallTimer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(shared: &TimerShared) {
    let mut queue = shared.lock();
    loop {
        if queue.closed {
            // Dropping the senders wakes every waiting task.
            queue.due.clear();
            return;
        }
        let now = Instant::now();
        while queue.due.peek().is_some_and(|Reverse(d)| d.at <= now) {
            if let Some(Reverse(due)) = queue.due.pop() {
                let _ = due.wake.send(());
            }
        }
        queue = match queue.due.peek() {
            None => shared
                .wake
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner),
            Some(Reverse(next)) => {
                let timeout = next.at.saturating_duration_since(now);
                shared
                    .wake
                    .wait_timeout(queue, timeout)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn wakes_in_deadline_order_not_arrival_order() {
        let timer = Arc::new(WallTimer::start().expect("timer thread"));
        let start = Instant::now();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for (label, ms) in [("late", 60u64), ("early", 20), ("middle", 40)] {
            let (timer, tx) = (Arc::clone(&timer), tx.clone());
            tokio::spawn(async move {
                timer.wait_until(start + Duration::from_millis(ms)).await;
                let _ = tx.send((label, start.elapsed()));
            });
        }
        drop(tx);
        let mut order = Vec::new();
        while let Some((label, elapsed)) = rx.recv().await {
            order.push(label);
            let ms = match label {
                "early" => 20,
                "middle" => 40,
                _ => 60,
            };
            assert!(elapsed >= Duration::from_millis(ms), "{label} woke early");
        }
        assert_eq!(order, ["early", "middle", "late"]);
    }

    #[tokio::test]
    async fn a_stopped_timer_releases_its_waiters() {
        let timer = Arc::new(WallTimer::start().expect("timer thread"));
        let far = Instant::now() + Duration::from_secs(3600);
        let waiter = tokio::spawn({
            let timer = Arc::clone(&timer);
            async move { timer.wait_until(far).await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        timer.stop();
        tokio::time::timeout(Duration::from_secs(10), waiter)
            .await
            .expect("the waiter was not released")
            .expect("the waiter task panicked");
    }
}
