//! The in-memory reference of the wallet port (part of [`MemoryStore`]).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;

use super::{MemoryStore, conflict};
use crate::domain::*;
use crate::error::{Conflict, StoreError};
use crate::ports::StoreResult;
use crate::wallet::ports::{BlobKey, WrappedKey};
use crate::wallet::*;

#[derive(Default)]
pub(crate) struct WalletState {
    documents: HashMap<DocumentId, Document>,
    grants: HashMap<GrantId, Grant>,
    consents: Vec<ReferentConsent>,
    requests: HashMap<DocumentRequestId, DocumentRequest>,
    events: Vec<WalletEvent>,
    reminders: HashMap<(DocumentId, NaiveDate), DateTime<Utc>>,
}

fn newest_first<T>(items: &mut [T], at: impl Fn(&T) -> DateTime<Utc>) {
    items.sort_by_key(|i| std::cmp::Reverse(at(i)));
}

#[async_trait]
impl WalletRepository for MemoryStore {
    async fn add_file(
        &self,
        document: &Document,
        file: &DocumentFile,
        placement: FilePlacement,
        quota: u64,
        event: &WalletEvent,
    ) -> StoreResult<Document> {
        let mut s = self.lock();
        if !s.accounts.contains_key(&document.person) {
            return Err(StoreError::NotFound);
        }
        let w = &mut s.wallet;
        let used: u64 = w
            .documents
            .values()
            .filter(|d| d.person == document.person)
            .map(Document::size)
            .sum();
        if used + file.size > quota {
            return Err(conflict(Conflict::QuotaExceeded));
        }
        let stored = match placement {
            FilePlacement::NewDocument => {
                if w.documents.contains_key(&document.id) {
                    return Err(conflict(Conflict::Duplicate));
                }
                let mut d = document.clone();
                d.current_version = 1;
                d.files = vec![DocumentFile {
                    version: 1,
                    page: 1,
                    ..file.clone()
                }];
                w.documents.insert(d.id, d.clone());
                d
            }
            FilePlacement::AddPage | FilePlacement::NewVersion => {
                let d = w
                    .documents
                    .get_mut(&document.id)
                    .filter(|d| d.person == document.person)
                    .ok_or(StoreError::NotFound)?;
                if placement == FilePlacement::NewVersion {
                    d.current_version += 1;
                }
                let page = d.current_files().count() as i32 + 1;
                d.files.push(DocumentFile {
                    version: d.current_version,
                    page,
                    ..file.clone()
                });
                d.updated_at = file.uploaded_at;
                d.clone()
            }
        };
        w.events.push(self.wallet_event(event));
        Ok(stored)
    }

    async fn document(&self, id: DocumentId) -> StoreResult<Document> {
        self.lock()
            .wallet
            .documents
            .get(&id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn documents_of(&self, person: AccountId) -> StoreResult<Vec<Document>> {
        let mut all: Vec<Document> = self
            .lock()
            .wallet
            .documents
            .values()
            .filter(|d| d.person == person)
            .cloned()
            .collect();
        all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        Ok(all)
    }

    async fn usage(&self, person: AccountId) -> StoreResult<u64> {
        Ok(self
            .lock()
            .wallet
            .documents
            .values()
            .filter(|d| d.person == person)
            .map(Document::size)
            .sum())
    }

    async fn update_document(
        &self,
        document: &Document,
        expected_revision: i64,
        event: &WalletEvent,
    ) -> StoreResult<i64> {
        let mut s = self.lock();
        let w = &mut s.wallet;
        let d = w
            .documents
            .get_mut(&document.id)
            .ok_or(StoreError::NotFound)?;
        if d.revision != expected_revision {
            return Err(StoreError::Stale);
        }
        d.kind = document.kind.clone();
        d.title = document.title.clone();
        d.issued_on = document.issued_on;
        d.valid_until = document.valid_until;
        d.updated_at = document.updated_at;
        d.revision += 1;
        let revision = d.revision;
        w.events.push(self.wallet_event(event));
        Ok(revision)
    }

    async fn delete_documents(
        &self,
        ids: &[DocumentId],
        event: &WalletEvent,
    ) -> StoreResult<Vec<BlobKey>> {
        let mut s = self.lock();
        let w = &mut s.wallet;
        let mut blobs = Vec::new();
        for id in ids {
            if let Some(d) = w.documents.remove(id) {
                blobs.extend(d.files.into_iter().map(|f| f.blob));
            }
        }
        w.events.push(self.wallet_event(event));
        Ok(blobs)
    }

    async fn referenced_blobs(&self) -> StoreResult<Vec<BlobKey>> {
        Ok(self
            .lock()
            .wallet
            .documents
            .values()
            .flat_map(|d| d.files.iter().map(|f| f.blob.clone()))
            .collect())
    }

    async fn files_not_under_key(
        &self,
        key_id: Option<&KeyId>,
        limit: u32,
    ) -> StoreResult<Vec<(DocumentFileId, WrappedKey)>> {
        let s = self.lock();
        let mut files: Vec<_> = s
            .wallet
            .documents
            .values()
            .flat_map(|d| d.files.iter())
            .filter(|f| Some(&f.wrapped_key.key_id) != key_id)
            .map(|f| (f.id, f.wrapped_key.clone()))
            .collect();
        files.sort_by_key(|(id, _)| *id);
        files.truncate(limit as usize);
        Ok(files)
    }

    async fn rewrap(
        &self,
        file: DocumentFileId,
        old: &WrappedKey,
        new: &WrappedKey,
    ) -> StoreResult<()> {
        let mut s = self.lock();
        let f = s
            .wallet
            .documents
            .values_mut()
            .flat_map(|d| d.files.iter_mut())
            .find(|f| f.id == file)
            .ok_or(StoreError::NotFound)?;
        if f.wrapped_key != *old {
            return Err(StoreError::Stale);
        }
        f.wrapped_key = new.clone();
        Ok(())
    }

    async fn create_grant(&self, grant: &Grant, event: &WalletEvent) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.accounts.contains_key(&grant.person) {
            return Err(StoreError::NotFound);
        }
        s.wallet.grants.insert(grant.id, grant.clone());
        s.wallet.events.push(self.wallet_event(event));
        Ok(())
    }

    async fn grant(&self, id: GrantId) -> StoreResult<Grant> {
        self.lock()
            .wallet
            .grants
            .get(&id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn grants_of(&self, person: AccountId) -> StoreResult<Vec<Grant>> {
        let mut all: Vec<Grant> = self
            .lock()
            .wallet
            .grants
            .values()
            .filter(|g| g.person == person)
            .cloned()
            .collect();
        newest_first(&mut all, |g| g.created_at);
        Ok(all)
    }

    async fn revoke_grant(
        &self,
        id: GrantId,
        by: AccountId,
        at: DateTime<Utc>,
        event: &WalletEvent,
    ) -> StoreResult<()> {
        let mut s = self.lock();
        let g = s.wallet.grants.get_mut(&id).ok_or(StoreError::NotFound)?;
        if g.revoked_at.is_some() {
            return Err(conflict(Conflict::AlreadyRevoked));
        }
        g.revoked_at = Some(at);
        g.revoked_by = Some(by);
        s.wallet.events.push(self.wallet_event(event));
        Ok(())
    }

    async fn record_consent(
        &self,
        consent: &ReferentConsent,
        event: &WalletEvent,
    ) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.accounts.contains_key(&consent.person) {
            return Err(StoreError::NotFound);
        }
        s.wallet.consents.push(consent.clone());
        s.wallet.events.push(self.wallet_event(event));
        Ok(())
    }

    async fn consents(&self, person: AccountId) -> StoreResult<Vec<ReferentConsent>> {
        Ok(self
            .lock()
            .wallet
            .consents
            .iter()
            .filter(|c| c.person == person)
            .cloned()
            .collect())
    }

    async fn create_request(
        &self,
        request: &DocumentRequest,
        event: &WalletEvent,
    ) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.accounts.contains_key(&request.person) {
            return Err(StoreError::NotFound);
        }
        s.wallet.requests.insert(request.id, request.clone());
        s.wallet.events.push(self.wallet_event(event));
        Ok(())
    }

    async fn request(&self, id: DocumentRequestId) -> StoreResult<DocumentRequest> {
        self.lock()
            .wallet
            .requests
            .get(&id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn requests_of(&self, person: AccountId) -> StoreResult<Vec<DocumentRequest>> {
        let mut all: Vec<DocumentRequest> = self
            .lock()
            .wallet
            .requests
            .values()
            .filter(|r| r.person == person)
            .cloned()
            .collect();
        newest_first(&mut all, |r| r.created_at);
        Ok(all)
    }

    async fn close_request(
        &self,
        request: &DocumentRequest,
        grant: Option<&Grant>,
        events: &[WalletEvent],
    ) -> StoreResult<()> {
        let mut s = self.lock();
        let w = &mut s.wallet;
        let r = w
            .requests
            .get_mut(&request.id)
            .ok_or(StoreError::NotFound)?;
        if r.status != RequestStatus::Open {
            return Err(conflict(Conflict::RequestClosed));
        }
        r.status = request.status;
        r.closed_at = request.closed_at;
        r.grant = grant.map(|g| g.id);
        if let Some(g) = grant {
            w.grants.insert(g.id, g.clone());
        }
        w.events.extend(events.iter().map(|e| self.wallet_event(e)));
        Ok(())
    }

    async fn record_event(&self, event: &WalletEvent) -> StoreResult<()> {
        let mut s = self.lock();
        if s.wallet.events.iter().any(|e| e.id == event.id) {
            return Err(conflict(Conflict::Duplicate));
        }
        s.wallet.events.push(self.wallet_event(event));
        Ok(())
    }

    async fn events_of(
        &self,
        person: AccountId,
        before: Option<WalletEventId>,
        limit: u32,
    ) -> StoreResult<Vec<WalletEvent>> {
        let s = self.lock();
        let end = match before {
            Some(id) => s
                .wallet
                .events
                .iter()
                .position(|e| e.id == id)
                .ok_or(StoreError::NotFound)?,
            None => s.wallet.events.len(),
        };
        Ok(s.wallet.events[..end]
            .iter()
            .rev()
            .filter(|e| e.person == person)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn documents_expiring(
        &self,
        from: NaiveDate,
        until: NaiveDate,
    ) -> StoreResult<Vec<Document>> {
        let mut all: Vec<Document> = self
            .lock()
            .wallet
            .documents
            .values()
            .filter(|d| d.valid_until.is_some_and(|v| from <= v && v <= until))
            .cloned()
            .collect();
        all.sort_by(|a, b| a.valid_until.cmp(&b.valid_until).then(a.id.cmp(&b.id)));
        Ok(all)
    }

    async fn claim_expiry_reminder(
        &self,
        document: DocumentId,
        valid_until: NaiveDate,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut s = self.lock();
        if !s.wallet.documents.contains_key(&document) {
            return Err(StoreError::NotFound);
        }
        if s.wallet.reminders.contains_key(&(document, valid_until)) {
            return Ok(false);
        }
        s.wallet.reminders.insert((document, valid_until), at);
        Ok(true)
    }
}
