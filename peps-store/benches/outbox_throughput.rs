//! The outbox's throughput, in process: how fast messages are written with the changes that
//! cause them (here, plan steps added one by one, each with its notice in its transaction),
//! and how fast one, then two, senders drain them through a provider that answers at once.
//!
//!     cargo bench -p peps-store --bench outbox_throughput
//!
//! On SQLite (a temporary file) and on PostgreSQL when PEPS_TEST_DATABASE_URL is set.
//! PEPS_BENCH_MESSAGES sets how many messages (default 2,000). The provider is instant, so the
//! figures are PEPS's own cost per message (claim, send call, mark sent); a real provider's
//! latency divides them by its round trip, which is why each server sends its batch and
//! several servers share the work.

use async_trait::async_trait;
use chrono::Utc;
use std::sync::Arc;
use std::time::Instant;

use peps_core::clock::SystemClock;
use peps_core::domain::*;
use peps_core::outbox::{OutboxMessage, Recipient};
use peps_core::ports::{Notification, Notifier, NotifyError, OutboxRepository, Sms, SmsSender};
use peps_core::services::{Outbox, OutboxPorts, OutboxSettings};
use peps_store::testing::{TestBackend, backends, fresh};

struct Instant_;

#[async_trait]
impl SmsSender for Instant_ {
    async fn send(&self, _: &Sms) -> Result<(), NotifyError> {
        Ok(())
    }
}

#[async_trait]
impl Notifier for Instant_ {
    async fn send(&self, _: &Notification) -> Result<(), NotifyError> {
        Ok(())
    }
}

fn message(i: usize) -> OutboxMessage {
    OutboxMessage::new(
        Recipient::Sms {
            to: Phone::parse(&format!("06 12 34 {:02} {:02}", (i / 100) % 100, i % 100)).unwrap(),
        },
        Language::parse("ar").unwrap(),
        "PEPS: إجراء جديد في خطتك. سجّل الدخول أو اسأل الشخص المسؤول عن متابعتك.".into(),
        Some(AccountId::new()),
        "plans.new_step",
        Utc::now(),
    )
}

async fn run(backend: TestBackend, n: usize) {
    let settings = OutboxSettings {
        quiet_hours: None,
        sms_per_person_per_day: 0,
        ..OutboxSettings::default()
    };
    for senders in [1usize, 2] {
        let db = fresh(backend).await;
        let store = Arc::new(db.store());
        let started = Instant::now();
        for i in 0..n {
            // One transaction per message, as a change and its notice are written.
            store.enqueue(&[message(i)]).await.unwrap();
        }
        let enqueue = started.elapsed();
        let outboxes: Vec<Outbox> = (0..senders)
            .map(|_| {
                Outbox::new(
                    OutboxPorts::from_store(store.clone()),
                    Arc::new(Instant_),
                    Arc::new(Instant_),
                    Arc::new(SystemClock),
                    settings.clone(),
                )
            })
            .collect();
        let started = Instant::now();
        let reports =
            futures_join(outboxes.iter().map(|o| o.deliver_due(u32::MAX)).collect()).await;
        let drain = started.elapsed();
        let sent: u32 = reports.iter().map(|r| r.as_ref().unwrap().sent).sum();
        assert_eq!(sent as usize, n, "every message sent once");
        println!(
            "{backend:?}: {n} messages; written {:.0}/s; {senders} sender(s) drain {:.0}/s",
            n as f64 / enqueue.as_secs_f64(),
            n as f64 / drain.as_secs_f64(),
        );
    }
}

async fn futures_join<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut out = Vec::new();
    // Polled together on this task: the senders race for the same rows.
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    let results = std::sync::Mutex::new(Vec::new());
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for (i, slot) in pending.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results.lock().unwrap().push((i, v));
                        *slot = None;
                    }
                    std::task::Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    out.extend(results.into_iter().map(|(_, v)| v));
    out
}

fn main() {
    let n = std::env::var("PEPS_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for backend in backends() {
        rt.block_on(run(backend, n));
    }
}
