//! `Wallet`: shares end at the service's clock, a read-only share cannot add documents, the
//! consent answer says what it does.

use chrono::Duration;
use std::sync::Arc;

use crate::support::{World, backends};
use peps_core::domain::{AccountId, OrganisationKind, Role};
use peps_core::policy::Actor;
use peps_core::services::wallet::{NewDocument, NewGrant, UploadSource};
use peps_core::services::{Caller, Wallet, WalletPorts, WalletSettings};
use peps_core::wallet::{Access, GrantScope, Grantee};

/// A person, a worker who is not their referent, and the wallet.
struct People {
    world: World,
    wallet: Wallet,
    person: Caller,
    worker: Caller,
    _blobs: tempfile::TempDir,
}

fn caller(actor: Actor) -> Caller {
    Caller { actor, ip: None }
}

impl People {
    async fn new(backend: peps_store::testing::TestBackend) -> Self {
        let world = World::new(backend).await;
        let ccas = world
            .organisation("CCAS", OrganisationKind::SocialService)
            .await;
        let person = world.actor(Role::Person, &[]).await;
        let worker = world.actor(Role::Worker, &[ccas]).await;
        let dir = tempfile::tempdir().unwrap();
        let blobs = Arc::new(
            peps_store::blobs::FsBlobStore::open(dir.path().join("blobs"))
                .await
                .unwrap(),
        );
        let key_line =
            peps_core::wallet::keyring::KeyRing::generate_line(&"test-1".parse().unwrap());
        let keys = Arc::new(peps_core::wallet::keyring::KeyRing::parse(&key_line).unwrap());
        let wallet = Wallet::new(
            WalletPorts::from_store(world.store.clone(), blobs, keys, None),
            peps_core::services::Notices::new(world.store.clone(), world.clock.clone()),
            world.clock.clone(),
            WalletSettings::default(),
        );
        Self {
            world,
            wallet,
            person: caller(person),
            worker: caller(worker),
            _blobs: dir,
        }
    }

    fn person_id(&self) -> AccountId {
        self.person.actor.account
    }

    fn share(&self, access: Access, days: Option<i64>) -> NewGrant {
        NewGrant {
            grantee: Grantee::Worker(self.worker.actor.account),
            scope: GrantScope::Wallet,
            access,
            ends_at: days.map(|d| self.world.clock_now() + Duration::days(d)),
        }
    }
}

/// One small PDF page.
struct Page(Option<Vec<u8>>);

#[async_trait::async_trait]
impl UploadSource for Page {
    async fn next_chunk(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        Ok(self.0.take())
    }
}

fn page() -> Page {
    Page(Some(b"%PDF-1.7\n% a scanned page\n%%EOF\n".to_vec()))
}

fn identity_card() -> NewDocument {
    NewDocument {
        kind: "identity".into(),
        title: Some("Carte".into()),
        issued_on: None,
        valid_until: None,
    }
}

#[tokio::test]
async fn a_share_ends_at_the_services_clock_and_its_flag_says_so() {
    for backend in backends() {
        let p = People::new(backend).await;
        let made = p
            .wallet
            .grant(&p.person, p.person_id(), p.share(Access::Read, Some(2)))
            .await
            .unwrap();
        // The service's clock is years from the wall clock: the flag follows the service.
        assert!(made.active, "{backend:?}");
        let listed = p.wallet.grants(&p.person, p.person_id()).await.unwrap();
        assert!(listed[0].active, "{backend:?}");
        p.world.clock.advance(Duration::days(3));
        let listed = p.wallet.grants(&p.person, p.person_id()).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(!listed[0].active, "{backend:?}: past its end");
        // And the rule agrees with the flag: the worker no longer sees the wallet.
        let seen = p.wallet.list(&p.worker, p.person_id()).await;
        assert_eq!(
            seen.unwrap_err().code(),
            "resource.not_found",
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn a_revoked_share_is_inactive_at_once() {
    for backend in backends() {
        let p = People::new(backend).await;
        let made = p
            .wallet
            .grant(&p.person, p.person_id(), p.share(Access::Read, None))
            .await
            .unwrap();
        let revoked = p.wallet.revoke(&p.person, made.grant.id).await.unwrap();
        assert!(!revoked.active, "{backend:?}");
        assert_eq!(revoked.grant.revoked_at, Some(p.world.clock_now()));
    }
}

#[tokio::test]
async fn a_read_only_share_cannot_upload() {
    for backend in backends() {
        let p = People::new(backend).await;
        p.wallet
            .grant(&p.person, p.person_id(), p.share(Access::Read, None))
            .await
            .unwrap();
        let refused = p
            .wallet
            .upload_document(&p.worker, p.person_id(), identity_card(), &mut page())
            .await
            .unwrap_err();
        assert_eq!(refused.code(), "access.denied", "{backend:?}");
        assert!(
            p.wallet
                .list(&p.person, p.person_id())
                .await
                .unwrap()
                .is_empty()
        );
        // With an upload share, the same upload goes in.
        p.wallet
            .grant(&p.person, p.person_id(), p.share(Access::ReadUpload, None))
            .await
            .unwrap();
        p.wallet
            .upload_document(&p.worker, p.person_id(), identity_card(), &mut page())
            .await
            .unwrap();
        assert_eq!(
            p.wallet.list(&p.person, p.person_id()).await.unwrap().len(),
            1
        );
    }
}

#[tokio::test]
async fn a_consent_answer_comes_back_with_its_effect() {
    for backend in backends() {
        let p = People::new(backend).await;
        let never = p
            .wallet
            .referent_consent(&p.person, p.person_id())
            .await
            .unwrap();
        assert!(never.latest.is_none());
        assert!(!never.referent_has_access);
        // Consent names the referents of now: with none, a "yes" has nobody to go to.
        let refused = p
            .wallet
            .set_referent_consent(&p.person, p.person_id(), true)
            .await
            .unwrap_err();
        assert_eq!(refused.code(), "consent.no_referent", "{backend:?}");
        let withdrawn = p
            .wallet
            .set_referent_consent(&p.person, p.person_id(), false)
            .await
            .unwrap();
        let answer = withdrawn.latest.expect("the answer");
        assert!(!answer.given);
        assert_eq!(answer.at, p.world.clock_now(), "{backend:?}");
        assert!(!withdrawn.referent_has_access, "{backend:?}");
    }
}
