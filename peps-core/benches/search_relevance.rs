//! Relevance of catalogue search as people type: the queries of `data/relevance/queries.tsv`
//! (20 languages and everyday French, typos included), each with the topics a right answer
//! carries, run against the synthetic catalogue (50,000 offers by default), with and without
//! the search vocabulary. Also times every query in process.
//!
//! `cargo bench -p peps-core --bench search_relevance`
//! (`PEPS_BENCH_OFFERS=200000` for a bigger catalogue).
//!
//! Per language: **recall@20**, the share of queries with at least one right offer among the
//! first 20 (each query has hundreds of right offers, so the share of them all in 20 results
//! would say nothing); **precision@20**, the share of right offers among the results shown
//! (up to 20); **MRR**, the mean of 1 / rank of the first right offer (0 when none).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use peps_core::catalogue::search::{SearchIndex, SearchQuery};
use peps_core::catalogue::{Offer, OfferStatus, ReferenceData, synthetic};
use peps_core::domain::{OfferId, OrganisationId};

const QUERIES: &str = include_str!("../data/relevance/queries.tsv");

struct Case {
    language: String,
    query: String,
    expect: Vec<String>,
}

fn cases() -> Vec<Case> {
    QUERIES
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            (cols.len() >= 3).then(|| Case {
                language: cols[0].to_owned(),
                query: cols[1].to_owned(),
                expect: cols[2].split(',').map(|c| c.trim().to_owned()).collect(),
            })
        })
        .collect()
}

fn is_right(offer: &Offer, expect: &[String]) -> bool {
    offer.content.topics.iter().any(|t| {
        let category = t.split("--").next().unwrap_or(t);
        expect.iter().any(|e| e == t || e == category)
    })
}

#[derive(Default, Clone, Copy)]
struct Score {
    queries: usize,
    found: usize,
    precision: f64,
    reciprocal_rank: f64,
    empty: usize,
}

fn measure(index: &SearchIndex, cases: &[Case]) -> (BTreeMap<String, Score>, Vec<f64>, Vec<f64>) {
    let now = Utc::now().naive_utc();
    let mut scores: BTreeMap<String, Score> = BTreeMap::new();
    let mut times = Vec::with_capacity(cases.len());
    let mut precisions = Vec::with_capacity(cases.len());
    for case in cases {
        let query = SearchQuery {
            text: Some(case.query.clone()),
            text_language: Some(case.language.clone()),
            limit: 20,
            ..SearchQuery::default()
        };
        let started = Instant::now();
        let results = index.search(&query, now).expect("a valid query");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        let rights: Vec<bool> = results
            .hits
            .iter()
            .map(|h| is_right(&h.offer, &case.expect))
            .collect();
        let score = scores.entry(case.language.clone()).or_default();
        score.queries += 1;
        let precision = if rights.is_empty() {
            score.empty += 1;
            0.0
        } else {
            rights.iter().filter(|r| **r).count() as f64 / rights.len() as f64
        };
        score.precision += precision;
        precisions.push(precision);
        if let Some(rank) = rights.iter().position(|r| *r) {
            score.found += 1;
            score.reciprocal_rank += 1.0 / (rank + 1) as f64;
        }
    }
    times.sort_by(f64::total_cmp);
    (scores, times, precisions)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let offers: usize = std::env::var("PEPS_BENCH_OFFERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let reference = Arc::new(ReferenceData::builtin());
    let today = Utc::now().date_naive();
    let generated = synthetic::catalogue(7, 500, offers, &reference, today);
    let organisations: Vec<OrganisationId> = generated
        .organisations
        .iter()
        .map(|_| OrganisationId::new())
        .collect();
    let now = Utc::now();
    let started = Instant::now();
    let mut index = SearchIndex::new(reference.clone());
    let vocabulary_built = started.elapsed();
    index.apply(
        generated.offers.into_iter().map(|o| Offer {
            id: OfferId::new(),
            organisation_id: organisations[o.organisation],
            organisation_name: generated.organisations[o.organisation].name.clone(),
            status: OfferStatus::Published,
            content: o.content,
            temporary_changes: Vec::new(),
            origin: None,
            review: None,
            version: 1,
            created_at: now,
            updated_at: now,
            last_verified_at: now - chrono::Duration::days(o.verified_days_ago),
            published_at: Some(now),
        }),
        1,
    );
    println!(
        "{offers} offers indexed in {:.1} s (vocabulary loaded in {} ms)",
        started.elapsed().as_secs_f64(),
        vocabulary_built.as_millis()
    );
    // `PEPS_BENCH_QUERY="fr|ouvrir un compte"`: how one query is read and what it finds.
    if let Ok(probe) = std::env::var("PEPS_BENCH_QUERY") {
        let (language, text) = probe.split_once('|').unwrap_or(("fr", probe.as_str()));
        let vocabulary = peps_core::catalogue::search::vocabulary::Vocabulary::shipped(&reference);
        let words = peps_core::catalogue::text::words(text);
        println!("{:?}", vocabulary.read(&words, Some(language)));
        let query = SearchQuery {
            text: Some(text.to_owned()),
            text_language: Some(language.to_owned()),
            limit: 10,
            ..SearchQuery::default()
        };
        let found = index.search(&query, Utc::now().naive_utc()).unwrap();
        for hit in &found.hits {
            println!(
                "{:.2} {} {:?} {:?}",
                hit.score, hit.offer.content.title, hit.offer.content.topics, hit.matched
            );
        }
        return;
    }
    let cases = cases();
    println!("{} queries\n", cases.len());

    let (with, times_with, precision_with) = measure(&index, &cases);
    let shipped = {
        // The index's own vocabulary, kept to put back.
        let fresh = SearchIndex::new(reference.clone());
        drop(fresh);
        peps_core::catalogue::search::vocabulary::Vocabulary::shipped(&reference)
    };
    index.set_vocabulary(None);
    let (without, times_without, precision_without) = measure(&index, &cases);
    index.set_vocabulary(Some(Arc::new(shipped)));

    println!(
        "{:<8} {:>4} | {:>9} {:>9} {:>7} | {:>9} {:>9} {:>7} {:>6}",
        "lang", "n", "recall@20", "prec@20", "MRR", "recall@20", "prec@20", "MRR", "empty"
    );
    println!(
        "{:<13} | {:^27} | {:^34}",
        "", "without vocabulary", "with vocabulary"
    );
    let mut total = (Score::default(), Score::default());
    for (language, w) in &with {
        let o = without[language];
        let row = |s: &Score| {
            (
                s.found as f64 / s.queries as f64,
                s.precision / s.queries as f64,
                s.reciprocal_rank / s.queries as f64,
            )
        };
        let (r0, p0, m0) = row(&o);
        let (r1, p1, m1) = row(w);
        println!(
            "{language:<8} {:>4} | {r0:>9.2} {p0:>9.2} {m0:>7.2} | {r1:>9.2} {p1:>9.2} {m1:>7.2} {:>6}",
            w.queries, w.empty
        );
        for (sum, s) in [(&mut total.0, &o), (&mut total.1, w)] {
            sum.queries += s.queries;
            sum.found += s.found;
            sum.precision += s.precision;
            sum.reciprocal_rank += s.reciprocal_rank;
            sum.empty += s.empty;
        }
    }
    let (o, w) = total;
    println!(
        "{:<8} {:>4} | {:>9.2} {:>9.2} {:>7.2} | {:>9.2} {:>9.2} {:>7.2} {:>6}",
        "all",
        w.queries,
        o.found as f64 / o.queries as f64,
        o.precision / o.queries as f64,
        o.reciprocal_rank / o.queries as f64,
        w.found as f64 / w.queries as f64,
        w.precision / w.queries as f64,
        w.reciprocal_rank / w.queries as f64,
        w.empty
    );
    println!(
        "\nin-process latency over these queries: without vocabulary median {:.2} ms, p99 {:.2} ms; with: median {:.2} ms, p99 {:.2} ms",
        percentile(&times_without, 0.5),
        percentile(&times_without, 0.99),
        percentile(&times_with, 0.5),
        percentile(&times_with, 0.99)
    );
    let lost: Vec<String> = cases
        .iter()
        .zip(precision_without.iter().zip(&precision_with))
        .filter(|(_, (before, after))| after < before)
        .map(|(c, (before, after))| {
            format!("{} «{}» {before:.2} → {after:.2}", c.language, c.query)
        })
        .collect();
    println!(
        "queries whose precision@20 dropped with the vocabulary: {}{}",
        lost.len(),
        if lost.is_empty() {
            String::new()
        } else {
            format!(": {}", lost.join("; "))
        }
    );
    if std::env::var("PEPS_BENCH_MISSES").is_ok() {
        index.set_vocabulary(Some(Arc::new(
            peps_core::catalogue::search::vocabulary::Vocabulary::shipped(&reference),
        )));
        let now = Utc::now().naive_utc();
        for case in &cases {
            let query = SearchQuery {
                text: Some(case.query.clone()),
                text_language: Some(case.language.clone()),
                limit: 20,
                ..SearchQuery::default()
            };
            let results = index.search(&query, now).unwrap();
            if !results
                .hits
                .iter()
                .any(|h| is_right(&h.offer, &case.expect))
            {
                println!(
                    "miss {} «{}» expect {:?}: {} hits",
                    case.language, case.query, case.expect, results.total
                );
            }
        }
    }
}
