//! Per-principal turns: operations on one principal run one at a time, in the order they were
//! submitted (the moment the operation's future was created, not when it is first polled).
//!
//! Every key has a queue tail: a receiver that completes when the last submitted operation on
//! that key finishes. Submitting takes the current tail (to wait on) and installs its own.
//! A ticket over several keys is taken atomically, so tickets form one total order and a
//! ticket only ever waits on earlier ones: no deadlock, whatever the keys.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

#[derive(Debug, Default)]
pub(crate) struct PrincipalQueues {
    inner: Mutex<Tails>,
}

#[derive(Debug, Default)]
struct Tails {
    next_id: u64,
    tails: HashMap<String, (u64, oneshot::Receiver<()>)>,
}

#[derive(Debug)]
struct Slot {
    key: String,
    id: u64,
    previous: Option<oneshot::Receiver<()>>,
    _done: oneshot::Sender<()>,
}

/// A place in the queues of some keys. Dropping it ends the turn (and lets the next
/// operation on each key run), whether or not it was waited for.
#[derive(Debug)]
pub(crate) struct Ticket {
    turns: Arc<PrincipalQueues>,
    slots: Vec<Slot>,
}

impl PrincipalQueues {
    fn lock(&self) -> MutexGuard<'_, Tails> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a place in the queue of every key (duplicates ignored), atomically.
    pub(crate) fn enqueue<I>(self: &Arc<Self>, keys: I) -> Ticket
    where
        I: IntoIterator<Item = String>,
    {
        let mut tails = self.lock();
        let mut slots: Vec<Slot> = Vec::new();
        for key in keys {
            if slots.iter().any(|s| s.key == key) {
                continue;
            }
            let (done, finished) = oneshot::channel();
            tails.next_id += 1;
            let id = tails.next_id;
            let previous = tails
                .tails
                .insert(key.clone(), (id, finished))
                .map(|(_, rx)| rx);
            slots.push(Slot {
                key,
                id,
                previous,
                _done: done,
            });
        }
        Ticket {
            turns: Arc::clone(self),
            slots,
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().tails.len()
    }
}

impl Ticket {
    /// Waits until every earlier operation on these keys has finished.
    pub(crate) async fn wait(&mut self) {
        for slot in &mut self.slots {
            if let Some(previous) = slot.previous.take() {
                // Err = the earlier operation's ticket was dropped: its turn is over too.
                let _ = previous.await;
            }
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut tails = self.turns.lock();
        for slot in &self.slots {
            if tails
                .tails
                .get(&slot.key)
                .is_some_and(|(id, _)| *id == slot.id)
            {
                tails.tails.remove(&slot.key);
            }
        }
        // The senders drop after this, waking the next operation of each key.
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn submission_order_is_kept_and_the_map_empties() {
        let turns = Arc::new(PrincipalQueues::default());
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut handles = Vec::new();
        // Submitted in order 0..10; started in reverse; each sleeps a shrinking time.
        let mut futures = Vec::new();
        for i in 0..10u64 {
            let mut ticket = turns.enqueue([String::from("user:a")]);
            let log = Arc::clone(&log);
            futures.push(async move {
                ticket.wait().await;
                tokio::time::sleep(Duration::from_millis(100 - i * 10)).await;
                log.lock().unwrap().push(i);
            });
        }
        for f in futures.into_iter().rev() {
            handles.push(tokio::spawn(f));
        }
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(*log.lock().unwrap(), (0..10).collect::<Vec<_>>());
        assert_eq!(turns.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn multi_key_tickets_do_not_deadlock() {
        let turns = Arc::new(PrincipalQueues::default());
        let mut a = turns.enqueue(["x".to_owned(), "y".to_owned()]);
        let mut b = turns.enqueue(["y".to_owned(), "x".to_owned()]);
        let mut c = turns.enqueue(["x".to_owned()]);
        let order = Arc::new(Mutex::new(Vec::new()));
        let (o1, o2, o3) = (order.clone(), order.clone(), order.clone());
        let hb = tokio::spawn(async move {
            b.wait().await;
            o2.lock().unwrap().push('b');
        });
        let hc = tokio::spawn(async move {
            c.wait().await;
            o3.lock().unwrap().push('c');
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
        a.wait().await;
        o1.lock().unwrap().push('a');
        drop(a);
        hb.await.unwrap();
        hc.await.unwrap();
        assert_eq!(*order.lock().unwrap(), vec!['a', 'b', 'c']);
        assert_eq!(turns.len(), 0);
    }
}
