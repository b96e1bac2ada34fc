//! `Catalogue`: who may publish and change an offer, versions, freshness, what search shows.

use chrono::Duration;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::{World, backends};
use peps_core::catalogue::search::SearchQuery;
use peps_core::catalogue::{Accessibility, Contact, Mobilisation, OfferContent, OfferStatus};
use peps_core::domain::{Language, OrganisationKind, Role};
use peps_core::services::{Catalogue, CatalogueSettings, Transition};

fn content(title: &str) -> OfferContent {
    OfferContent {
        title: title.to_owned(),
        summary: Some("Résumé".into()),
        description: "Une description assez longue pour être utile aux lecteurs.".into(),
        theme: "ville-du-quotidien".into(),
        topics: vec!["logement-hebergement--louer-un-logement".into()],
        service_type: Some("accompagnement".into()),
        audiences: vec!["tous-publics".into()],
        audience_details: None,
        cost: Some("gratuit".into()),
        cost_details: None,
        access_conditions: None,
        mobilisation: Mobilisation::default(),
        reception_modes: vec!["a-distance".into()],
        locations: vec![],
        eligibility_zone: vec!["89".into()],
        opening_hours: Some("Mo-Fr 09:00-12:00".into()),
        languages_spoken: vec!["fr".into()],
        accessibility: Accessibility::default(),
        contact: Contact::default(),
        professional_contact: None,
        website: None,
        validity: None,
        update_frequency_months: 6,
        translations: BTreeMap::new(),
        confidential_address: false,
    }
}

/// A catalogue, an offerer organisation with one member, and another offerer's member.
struct Offerers {
    world: World,
    catalogue: Catalogue,
    org: peps_core::domain::OrganisationId,
    member: peps_core::policy::Actor,
    stranger: peps_core::policy::Actor,
}

impl Offerers {
    async fn new(backend: peps_store::testing::TestBackend) -> Self {
        let world = World::new(backend).await;
        let org = world
            .organisation("Épicerie X", OrganisationKind::Offerer)
            .await;
        let other = world
            .organisation("Offreur Y", OrganisationKind::Offerer)
            .await;
        let member = world.actor(Role::Member, &[org]).await;
        let stranger = world.actor(Role::Member, &[other]).await;
        let catalogue = world.catalogue(CatalogueSettings::default());
        Self {
            world,
            catalogue,
            org,
            member,
            stranger,
        }
    }
}

fn query(text: &str) -> SearchQuery {
    SearchQuery {
        text: Some(text.to_owned()),
        limit: 20,
        ..SearchQuery::default()
    }
}

#[tokio::test]
async fn a_member_publishes_their_organisations_offer_and_no_one_else_changes_it() {
    for backend in backends() {
        let o = Offerers::new(backend).await;
        let draft = o
            .catalogue
            .create_offer(&o.member, o.org, content("Colis alimentaires"))
            .await
            .unwrap();
        assert_eq!(draft.status, OfferStatus::Draft);
        let refused = o
            .catalogue
            .create_offer(&o.stranger, o.org, content("Intrus"))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), "access.denied", "{backend:?}");
        // Someone else's draft does not even exist for them.
        let hidden = o
            .catalogue
            .update_offer(&o.stranger, draft.id, draft.version, content("Changé"))
            .await
            .unwrap_err();
        assert_eq!(hidden.code(), "resource.not_found", "{backend:?}");
        let published = o
            .catalogue
            .transition(&o.member, draft.id, Transition::Publish, None, None)
            .await
            .unwrap();
        assert_eq!(published.status, OfferStatus::Published);
        // Once public, the answer is a refusal, and nothing changed.
        let refused = o
            .catalogue
            .update_offer(&o.stranger, draft.id, published.version, content("Changé"))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), "access.denied", "{backend:?}");
        let read = o.catalogue.offer(None, draft.id).await.unwrap();
        assert_eq!(read.content.title, "Colis alimentaires");
    }
}

#[tokio::test]
async fn an_update_from_a_stale_version_is_refused_and_writes_nothing() {
    for backend in backends() {
        let o = Offerers::new(backend).await;
        let offer = o
            .catalogue
            .create_offer(&o.member, o.org, content("Colis alimentaires"))
            .await
            .unwrap();
        let v2 = o
            .catalogue
            .update_offer(
                &o.member,
                offer.id,
                offer.version,
                content("Colis, version 2"),
            )
            .await
            .unwrap();
        assert_eq!(v2.version, offer.version + 1);
        let stale = o
            .catalogue
            .update_offer(
                &o.member,
                offer.id,
                offer.version,
                content("Colis, en retard"),
            )
            .await
            .unwrap_err();
        assert_eq!(stale.code(), "offer.version_conflict", "{backend:?}");
        let read = o.catalogue.offer(Some(&o.member), offer.id).await.unwrap();
        assert_eq!(read.content.title, "Colis, version 2");
        assert_eq!(read.version, v2.version);
    }
}

#[tokio::test]
async fn an_offer_past_its_verification_date_is_overdue_until_verified_at_the_service_clock() {
    for backend in backends() {
        let o = Offerers::new(backend).await;
        let offer = o
            .catalogue
            .create_offer(&o.member, o.org, content("Colis alimentaires"))
            .await
            .unwrap();
        o.catalogue
            .transition(&o.member, offer.id, Transition::Publish, None, None)
            .await
            .unwrap();
        let overdue = || async { o.catalogue.overdue_offers(&o.member, Some(o.org)).await };
        assert!(overdue().await.unwrap().is_empty(), "{backend:?}");
        // Verified every 6 months: a day past that, it is due.
        o.world.clock.advance(Duration::days(31 * 6 + 1));
        let due = overdue().await.unwrap();
        assert_eq!(due.len(), 1, "{backend:?}");
        let verified = o
            .catalogue
            .verify_offer(&o.member, offer.id, None)
            .await
            .unwrap();
        assert_eq!(verified.last_verified_at, o.world.clock_now());
        assert!(overdue().await.unwrap().is_empty(), "{backend:?}");
    }
}

#[tokio::test]
async fn an_offer_page_lists_the_offerers_other_published_offers_only() {
    for backend in backends() {
        let o = Offerers::new(backend).await;
        let mut ids = Vec::new();
        for title in [
            "Colis alimentaires",
            "Épicerie solidaire",
            "Vestiaire",
            "Brouillon",
        ] {
            let offer = o
                .catalogue
                .create_offer(&o.member, o.org, content(title))
                .await
                .unwrap();
            if title != "Brouillon" {
                o.catalogue
                    .transition(&o.member, offer.id, Transition::Publish, None, None)
                    .await
                    .unwrap();
            }
            ids.push(offer.id);
        }
        let page = o.catalogue.offer_page(None, ids[0], 10).await.unwrap();
        assert_eq!(page.offer.id, ids[0]);
        let mut others: Vec<_> = page.others.iter().map(|x| x.id).collect();
        others.sort_by_key(|id| id.0);
        let mut expected = vec![ids[1], ids[2]];
        expected.sort_by_key(|id| id.0);
        assert_eq!(
            others, expected,
            "{backend:?}: itself and the draft left out"
        );
        let page = o.catalogue.offer_page(None, ids[0], 1).await.unwrap();
        assert_eq!(
            page.others.len(),
            1,
            "{backend:?}: at most the number asked"
        );
        assert!(
            o.catalogue.offer_page(None, ids[3], 10).await.is_err(),
            "{backend:?}: a draft's page is not public"
        );
        let page = o.catalogue.offer_page(Some(&o.member), ids[3], 10).await;
        assert!(page.is_ok(), "{backend:?}: its members see the draft");
    }
}

#[tokio::test]
async fn drafts_are_not_searchable_until_published() {
    for backend in backends() {
        let o = Offerers::new(backend).await;
        let offer = o
            .catalogue
            .create_offer(&o.member, o.org, content("Colis alimentaires"))
            .await
            .unwrap();
        let found = o.catalogue.search(&query("colis")).await.unwrap();
        assert_eq!(found.total, 0, "{backend:?}: a draft is not searchable");
        o.catalogue
            .transition(&o.member, offer.id, Transition::Publish, None, None)
            .await
            .unwrap();
        let found = o.catalogue.search(&query("colis")).await.unwrap();
        assert_eq!(found.total, 1, "{backend:?}");
        o.catalogue
            .transition(&o.member, offer.id, Transition::Suspend, None, None)
            .await
            .unwrap();
        let found = o.catalogue.search(&query("colis")).await.unwrap();
        assert_eq!(
            found.total, 0,
            "{backend:?}: a suspended offer is hidden again"
        );
    }
}

#[tokio::test]
async fn a_search_page_is_rendered_again_only_when_the_catalogue_or_the_minute_changes() {
    for backend in backends() {
        let o = Offerers::new(backend).await;
        let offer = o
            .catalogue
            .create_offer(&o.member, o.org, content("Colis alimentaires"))
            .await
            .unwrap();
        let offer = o
            .catalogue
            .transition(&o.member, offer.id, Transition::Publish, None, None)
            .await
            .unwrap();
        let renders = Arc::new(AtomicUsize::new(0));
        let french = Language::french();
        let page = |q: SearchQuery| {
            let renders = renders.clone();
            let catalogue = &o.catalogue;
            let french = &french;
            async move {
                catalogue
                    .search_page(&q, french, |outcome| {
                        renders.fetch_add(1, Ordering::SeqCst);
                        outcome
                            .results
                            .hits
                            .iter()
                            .map(|h| h.offer.content.title.clone())
                            .collect::<Vec<_>>()
                    })
                    .await
                    .unwrap()
            }
        };
        assert_eq!(*page(query("colis")).await, ["Colis alimentaires"]);
        assert_eq!(*page(query("colis")).await, ["Colis alimentaires"]);
        assert_eq!(renders.load(Ordering::SeqCst), 1, "{backend:?}: kept");
        // An edit moves the catalogue counter: the page shows it at once.
        o.catalogue
            .update_offer(
                &o.member,
                offer.id,
                offer.version,
                content("Colis du lundi"),
            )
            .await
            .unwrap();
        assert_eq!(*page(query("colis")).await, ["Colis du lundi"]);
        assert_eq!(renders.load(Ordering::SeqCst), 2, "{backend:?}");
        // A minute later, "open now" and freshness may differ: rendered again.
        o.world.clock.advance(Duration::minutes(1));
        page(query("colis")).await;
        assert_eq!(renders.load(Ordering::SeqCst), 3, "{backend:?}");
        // An invalid query is an error, never a kept page.
        let mut bad = query("colis");
        bad.themes = vec!["no-such-theme".into()];
        let err = o
            .catalogue
            .search_page(&bad, &french, |_| ())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "search.filter.unknown");
    }
}

#[tokio::test]
async fn a_search_page_labels_facets_in_the_readers_language_at_the_service_clock() {
    for backend in backends() {
        let o = Offerers::new(backend).await;
        let offer = o
            .catalogue
            .create_offer(&o.member, o.org, content("Colis alimentaires"))
            .await
            .unwrap();
        o.catalogue
            .transition(&o.member, offer.id, Transition::Publish, None, None)
            .await
            .unwrap();
        let english = Language::parse("en").unwrap();
        let (now, cost) = &*o
            .catalogue
            .search_page(
                &SearchQuery {
                    facets: true,
                    ..query("colis")
                },
                &english,
                |outcome| {
                    let cost = outcome
                        .facets
                        .iter()
                        .find(|f| f.facet.as_str() == "cost")
                        .and_then(|f| f.values.first().cloned());
                    (outcome.now, cost)
                },
            )
            .await
            .unwrap();
        assert_eq!(*now, o.world.clock_now(), "{backend:?}");
        let cost = cost.clone().expect("a cost facet");
        assert_eq!((cost.code.as_str(), cost.count), ("gratuit", 1));
        let reference = o.catalogue.reference();
        let label = reference.label(peps_core::catalogue::ListKind::Costs, "gratuit", "en");
        assert_eq!(cost.label, label.text);
    }
}
