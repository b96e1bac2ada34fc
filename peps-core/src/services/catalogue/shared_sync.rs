//! Readers who arrive together share one catch-up with the store.
//!
//! Every search, offer page and plan first brings the index up to date with the store's change
//! counter: one small read, but under load it is a read per request. A reader is served
//! correctly by any catch-up that *started after it arrived* (that one sees every write
//! committed before the reader came), so a reader who finds one running waits for the next
//! one instead of issuing its own. Under load a handful of reads serve a crowd; a lone reader
//! still reads the counter itself, and nobody is ever served an index older than their
//! arrival. Waiting is lock-free: readers covered by a catch-up return without queueing.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};

#[derive(Default)]
pub(super) struct SharedSync {
    /// Whether a catch-up is running (at most one at a time).
    running: AtomicBool,
    /// Number of the last catch-up started. A catch-up takes its number *before* it reads the
    /// store, so a reader who saw a lower number arrived before that read.
    started: AtomicU64,
    /// Number of the last catch-up that succeeded.
    finished: AtomicU64,
    /// Wakes the readers waiting for a catch-up to end.
    ended: tokio::sync::Notify,
}

impl SharedSync {
    /// Runs `catch_up` unless a catch-up numbered after this reader's arrival succeeds first;
    /// `None` when one did (the index is then at least as recent as the reader needs).
    pub(super) async fn run<T, E, F, Fut>(&self, catch_up: F) -> Option<Result<T, E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let arrived_after = self.started.load(SeqCst);
        loop {
            // Registered before looking, so an end between the look and the wait is not missed.
            let ended = self.ended.notified();
            let mut ended = std::pin::pin!(ended);
            ended.as_mut().enable();
            if self.finished.load(SeqCst) > arrived_after {
                return None;
            }
            if self
                .running
                .compare_exchange(false, true, SeqCst, SeqCst)
                .is_ok()
            {
                let number = self.started.fetch_add(1, SeqCst) + 1;
                let turn = Turn(self);
                let result = catch_up().await;
                // A failed catch-up covers nobody: a waiter then runs its own.
                if result.is_ok() {
                    self.finished.fetch_max(number, SeqCst);
                }
                drop(turn);
                return Some(result);
            }
            ended.await;
        }
    }
}

/// Ends a catch-up, also when its future is dropped half-way (a client gone).
struct Turn<'a>(&'a SharedSync);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.0.running.store(false, SeqCst);
        self.0.ended.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::task::Poll;

    type Reader = Pin<Box<dyn Future<Output = Option<Result<(), ()>>>>>;

    #[tokio::test]
    async fn a_lone_reader_catches_up_itself_every_time() {
        let shared = SharedSync::default();
        let runs = AtomicUsize::new(0);
        for _ in 0..3 {
            let outcome = shared
                .run(|| async {
                    runs.fetch_add(1, SeqCst);
                    Ok::<_, ()>(())
                })
                .await;
            assert!(outcome.is_some());
        }
        assert_eq!(runs.load(SeqCst), 3);
    }

    #[tokio::test]
    async fn readers_arriving_during_a_catch_up_share_the_next_one() {
        let shared = Arc::new(SharedSync::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let (release, held) = tokio::sync::oneshot::channel::<()>();
        // A first catch-up is running and blocked.
        let first = {
            let (shared, runs) = (shared.clone(), runs.clone());
            tokio::spawn(async move {
                shared
                    .run(|| async {
                        runs.fetch_add(1, SeqCst);
                        held.await.unwrap();
                        Ok::<_, ()>(())
                    })
                    .await
            })
        };
        while shared.started.load(SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        // Ten readers arrive while it runs (each polled once: arrived, now waiting for the
        // turn). It started before them, so it cannot serve them.
        let mut readers: Vec<Reader> = (0..10)
            .map(|_| {
                let (shared, runs) = (shared.clone(), runs.clone());
                Box::pin(async move {
                    shared
                        .run(|| async {
                            runs.fetch_add(1, SeqCst);
                            Ok::<_, ()>(())
                        })
                        .await
                }) as Reader
            })
            .collect();
        for reader in &mut readers {
            let waiting =
                std::future::poll_fn(|cx| Poll::Ready(reader.as_mut().poll(cx).is_pending()));
            assert!(waiting.await, "the first catch-up is still running");
        }
        release.send(()).unwrap();
        first.await.unwrap().unwrap().unwrap();
        let mut own = 0;
        for reader in readers {
            if reader.await.is_some() {
                own += 1;
            }
        }
        assert_eq!(own, 1, "one of them catches up for all ten");
        assert_eq!(runs.load(SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_catch_up_covers_nobody() {
        let shared = SharedSync::default();
        assert_eq!(
            shared.run(|| async { Err::<(), _>("down") }).await,
            Some(Err("down"))
        );
        assert_eq!(shared.run(|| async { Ok::<_, ()>(()) }).await, Some(Ok(())));
    }

    #[tokio::test]
    async fn a_catch_up_dropped_half_way_lets_the_next_reader_run() {
        let shared = SharedSync::default();
        {
            let stuck = shared.run(std::future::pending::<Result<(), ()>>);
            let mut stuck = std::pin::pin!(stuck);
            let pending =
                std::future::poll_fn(|cx| Poll::Ready(stuck.as_mut().poll(cx).is_pending()));
            assert!(pending.await);
        }
        assert_eq!(shared.run(|| async { Ok::<_, ()>(()) }).await, Some(Ok(())));
    }
}
