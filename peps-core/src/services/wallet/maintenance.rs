//! Jobs an operator runs (by hand or from cron): re-wrapping data keys under a new
//! key-encryption key, removing blobs a crash left behind, reminding people of documents that
//! expire. Each is safe to run again.

use chrono::{Duration, Utc};
use std::collections::{BTreeMap, HashSet};

use super::Wallet;
use crate::domain::*;
use crate::error::{CoreError, CoreResult, StoreError};
use crate::services::plan_notices::{Delivery, PersonNotice};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Data keys now wrapped under the active key.
    pub rewrapped: u64,
    /// Files whose key changed under us (another rotation ran): picked up on the next run.
    pub skipped: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReapReport {
    /// Partial uploads removed.
    pub partial: u64,
    /// Committed blobs no file row points to (an upload killed before it was recorded, a
    /// deletion whose blob removal failed).
    pub orphans: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpiryReport {
    /// Persons whose reminder was queued in the outbox.
    pub reminded: u32,
    pub already_reminded: u32,
    pub no_channel: u32,
}

impl Wallet {
    /// Re-wraps every data key not under the vault's active key. Content is not touched: the
    /// data keys stay the same, only their wrapping changes.
    pub async fn rotate_keys(&self) -> CoreResult<RotationReport> {
        let active = self.ports.keys.active_key_id();
        let mut report = RotationReport::default();
        let mut skipped: HashSet<DocumentFileId> = HashSet::new();
        loop {
            let batch = self
                .ports
                .wallet
                .files_not_under_key(Some(&active), 200 + skipped.len() as u32)
                .await?;
            let todo: Vec<_> = batch
                .into_iter()
                .filter(|(id, _)| !skipped.contains(id))
                .collect();
            if todo.is_empty() {
                return Ok(report);
            }
            for (file, old) in todo {
                let context = file.0.as_bytes();
                let key = self.ports.keys.unwrap(&old, context).await.map_err(|e| {
                    tracing::error!(error = %e, file = %file, "data key did not unwrap during rotation");
                    CoreError::Unavailable("wallet.keys_unavailable")
                })?;
                let new = self.ports.keys.wrap(&key, context).await.map_err(|e| {
                    tracing::error!(error = %e, "key vault refused to wrap");
                    CoreError::Unavailable("wallet.keys_unavailable")
                })?;
                match self.ports.wallet.rewrap(file, &old, &new).await {
                    Ok(()) => report.rewrapped += 1,
                    Err(StoreError::Stale | StoreError::NotFound) => {
                        report.skipped += 1;
                        skipped.insert(file);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }

    /// Removes partial uploads and unreferenced blobs older than `grace` (in-flight uploads
    /// are younger).
    pub async fn reap(&self, grace: Duration) -> CoreResult<ReapReport> {
        let cutoff = Utc::now().min(self.now()) - grace;
        let unavailable = |e: crate::wallet::ports::BlobError| {
            tracing::error!(error = %e, "blob store unavailable while reaping");
            CoreError::Unavailable("storage.unavailable")
        };
        let partial = self
            .ports
            .blobs
            .reap_partial(cutoff)
            .await
            .map_err(unavailable)?;
        // Listing blobs before reading the references: a blob committed in between is
        // younger than the cutoff and so left alone.
        let blobs = self.ports.blobs.list().await.map_err(unavailable)?;
        let referenced: HashSet<_> = self
            .ports
            .wallet
            .referenced_blobs()
            .await?
            .into_iter()
            .collect();
        let mut orphans = 0;
        for blob in blobs {
            if blob.modified_at < cutoff && !referenced.contains(&blob.key) {
                self.ports
                    .blobs
                    .delete(&blob.key)
                    .await
                    .map_err(unavailable)?;
                orphans += 1;
            }
        }
        Ok(ReapReport { partial, orphans })
    }

    /// Tells people whose documents stop being valid within `expiry_notice_days`: one notice
    /// per person, each document's date reminded once. The notice is queued under a key
    /// naming the person and the date before the documents are recorded as reminded, so a
    /// run that stopped half-way and ran again sends it once.
    pub async fn remind_expiring(&self) -> CoreResult<ExpiryReport> {
        let today = self.today();
        let until = today + Duration::days(i64::from(self.settings.expiry_notice_days));
        let mut report = ExpiryReport::default();
        let mut per_person: BTreeMap<
            AccountId,
            (chrono::NaiveDate, Vec<(DocumentId, chrono::NaiveDate)>),
        > = BTreeMap::new();
        for document in self.ports.wallet.documents_expiring(today, until).await? {
            let Some(end) = document.valid_until else {
                continue;
            };
            let entry = per_person
                .entry(document.person)
                .or_insert((end, Vec::new()));
            entry.0 = entry.0.min(end);
            entry.1.push((document.id, end));
        }
        for (person, (first_end, documents)) in per_person {
            let account = match self.ports.accounts.account(person).await {
                Ok(a) if a.status == AccountStatus::Active => a,
                Ok(_) | Err(StoreError::NotFound) => continue,
                Err(e) => return Err(e.into()),
            };
            let told = self
                .channels
                .to_person(&account, PersonNotice::DocumentExpiring(first_end))
                .await?;
            let keyed: Vec<_> = told
                .messages
                .into_iter()
                .map(|m| m.with_dedupe_key(format!("wallet.expiring:{person}:{first_end}")))
                .collect();
            self.channels.enqueue(&keyed).await?;
            let mut fresh = false;
            for (document, end) in documents {
                if self
                    .ports
                    .wallet
                    .claim_expiry_reminder(document, end, self.now())
                    .await?
                {
                    fresh = true;
                } else {
                    report.already_reminded += 1;
                }
            }
            if fresh {
                match told.delivery {
                    Delivery::Email | Delivery::Sms => report.reminded += 1,
                    Delivery::NoChannel => report.no_channel += 1,
                }
            }
        }
        Ok(report)
    }
}
