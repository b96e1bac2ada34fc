//! `peps demo`: a working PEPS in one command, on the embedded defaults, with demo accounts.
//! Idempotent: a second run finds what the first created and only resets the passwords to
//! the one it prints.

use anyhow::Context;
use rand::Rng;

use crate::app::App;
use crate::config::Config;
use peps_core::domain::{Account, MandateScope, OrganisationKind, Role};
use peps_core::policy::Actor;
use peps_core::services::{NewMandate, NewOrganisation, ProvisionAccount};

pub const DEMO_PASSWORD_VAR: &str = "PEPS_DEMO_PASSWORD";

struct DemoAccount {
    role: Role,
    email: &'static str,
    name: &'static str,
    organisation: Option<&'static str>,
}

const SOCIAL_SERVICE: &str = "CCAS de Démoville";
const OFFERER: &str = "Association Entraide Démoville";

const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        role: Role::Admin,
        email: "admin@demo.peps",
        name: "Alice Admin",
        organisation: None,
    },
    DemoAccount {
        role: Role::Worker,
        email: "worker@demo.peps",
        name: "Wassila Travailleuse-Sociale",
        organisation: Some(SOCIAL_SERVICE),
    },
    DemoAccount {
        role: Role::Member,
        email: "member@demo.peps",
        name: "Marc Membre",
        organisation: Some(OFFERER),
    },
    DemoAccount {
        role: Role::Person,
        email: "person@demo.peps",
        name: "Paulette Personne",
        organisation: None,
    },
    DemoAccount {
        role: Role::Helper,
        email: "helper@demo.peps",
        name: "Hugo Aidant",
        organisation: None,
    },
];

fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    let body: String = (0..18)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{}-{}-{}", &body[..6], &body[6..12], &body[12..])
}

/// Forces a loopback address, keeping the configured port.
fn loopback(listen: &str) -> String {
    let port = listen.rsplit(':').next().unwrap_or("8080");
    format!("127.0.0.1:{port}")
}

pub async fn run(mut config: Config) -> anyhow::Result<()> {
    let listen = loopback(&config.server.listen);
    if listen != config.server.listen {
        tracing::warn!(configured = %config.server.listen, %listen, "demo mode listens on loopback only");
    }
    let listener = crate::app::bind(&listen)?;
    config.server.public_url = format!("http://{}", listener.local_addr()?);
    let password = match std::env::var(DEMO_PASSWORD_VAR) {
        Ok(p) if !p.is_empty() => p,
        _ => random_password(),
    };
    let app = App::start(&config).await?;
    seed(&app, &password).await.context("seeding demo data")?;

    print_welcome(&config, &password);
    app.serve(listener, &config).await
}

/// Prints the URLs and accounts. Write errors are ignored: a closed stdout (`peps demo | head`)
/// must not take the server down.
fn print_welcome(config: &Config, password: &str) {
    use std::io::Write;
    let url = &config.server.public_url;
    let mut text = format!(
        "\nPEPS demo is running on {url}\n  \
         web pages:    {url}/  (in Arabic: {url}/ar/, easy French: {url}/fr-x-falc/)\n  \
         health:       {url}/health\n  \
         API docs:     {url}/docs\n  \
         OpenAPI:      {url}/openapi.json\n  \
         languages:    {url}/api/v1/languages\n  \
         search:       {url}/api/v1/offers?q=logement&open_now=true\n\n\
         Demo accounts (password for all: {password}):\n"
    );
    for account in ACCOUNTS {
        text.push_str(&format!(
            "  {:<7} {}\n",
            account.role.as_str(),
            account.email
        ));
    }
    text.push_str(
        "  (the admin sets up a second factor with an authenticator app at the first sign-in)\n",
    );
    text.push_str(&format!(
        "\nLog in:  curl -s {url}/api/v1/auth/login -H 'content-type: application/json' \\\n           \
         -d '{{\"email\":\"worker@demo.peps\",\"password\":\"{password}\"}}'\n\
         Data lives in {}; stop with Ctrl-C.\n\n",
        config.database.url
    ));
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Creates the demo account, or sets this run's password on the existing one.
async fn ensure_account(
    identity: &peps_core::services::Identity,
    demo: &DemoAccount,
    password: &str,
    organisations: Vec<peps_core::domain::OrganisationId>,
) -> Result<Account, peps_core::CoreError> {
    match identity.find_by_login(demo.email).await? {
        Some(_) => {
            // A new run gives new credentials: the admin sets up a second factor again.
            identity.operator_remove_second_factor(demo.email).await?;
            identity.operator_set_password(demo.email, password).await
        }
        None => {
            identity
                .provision_account(ProvisionAccount {
                    role: demo.role,
                    email: demo.email.to_owned(),
                    display_name: demo.name.to_owned(),
                    password: password.to_owned(),
                    organisations,
                })
                .await
        }
    }
}

async fn seed(app: &App, password: &str) -> anyhow::Result<()> {
    let identity = &app.state.identity;
    let fail = |e: peps_core::CoreError| {
        anyhow::anyhow!(
            "{} ({})",
            peps_core::i18n::error_message(e.code(), "en"),
            e.code()
        )
    };

    // The admin first; everything else is done as that admin, through the policy.
    let mut accounts: std::collections::HashMap<Role, Account> = Default::default();
    let (admin_demo, others) = ACCOUNTS.split_first().expect("demo accounts");
    accounts.insert(
        Role::Admin,
        ensure_account(identity, admin_demo, password, vec![])
            .await
            .map_err(fail)?,
    );
    let admin = Actor {
        account: accounts[&Role::Admin].id,
        role: Role::Admin,
        organisations: vec![],
    };

    let mut organisations = std::collections::HashMap::new();
    let existing = identity.list_organisations(&admin).await.map_err(fail)?;
    for (name, kind) in [
        (SOCIAL_SERVICE, OrganisationKind::SocialService),
        (OFFERER, OrganisationKind::Offerer),
    ] {
        let id = match existing.iter().find(|o| o.name.as_str() == name) {
            Some(o) => o.id,
            None => {
                let new = NewOrganisation {
                    name: name.to_owned(),
                    kind,
                    siret: None,
                };
                identity
                    .create_organisation(&admin, new)
                    .await
                    .map_err(fail)?
                    .id
            }
        };
        organisations.insert(name, id);
    }

    for demo in others {
        let orgs = demo
            .organisation
            .map(|o| organisations[o])
            .into_iter()
            .collect();
        accounts.insert(
            demo.role,
            ensure_account(identity, demo, password, orgs)
                .await
                .map_err(fail)?,
        );
    }

    let person = accounts[&Role::Person].id;
    let worker = accounts[&Role::Worker].id;
    let helper = accounts[&Role::Helper].id;

    let now = identity.now();
    let referents = identity.referents(&admin, person).await.map_err(fail)?;
    if !referents
        .iter()
        .any(|r| r.worker == worker && r.is_current(now))
    {
        identity
            .assign_referent(&admin, person, worker)
            .await
            .map_err(fail)?;
    }
    let mandates = identity
        .mandates_of_person(&admin, person)
        .await
        .map_err(fail)?;
    if !mandates
        .iter()
        .any(|m| m.helper == helper && m.is_valid_at(now))
    {
        // A wallet scope is the person's to give (an admin gives none).
        let the_person = Actor {
            account: person,
            role: Role::Person,
            organisations: vec![],
        };
        identity
            .grant_mandate(
                &the_person,
                person,
                NewMandate {
                    helper,
                    scopes: vec![MandateScope::PlansRead, MandateScope::WalletRead],
                    starts_at: None,
                    ends_at: now + chrono::Duration::days(365),
                    consent_given_on: None,
                },
            )
            .await
            .map_err(fail)?;
    }
    seed_catalogue(app, &admin, organisations[OFFERER])
        .await
        .map_err(fail)?;
    let referent = Actor {
        account: worker,
        role: Role::Worker,
        organisations: vec![organisations[SOCIAL_SERVICE]],
    };
    seed_plan(app, &referent, person, organisations[OFFERER])
        .await
        .map_err(fail)?;
    seed_wallet(app, &referent, person).await.map_err(fail)?;
    Ok(())
}

/// A page of a sample document: a tiny valid PDF saying it is an example.
fn sample_pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 18 Tf 60 760 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend(format!("{} 0 obj\n{body}\nendobj\n", i + 1).into_bytes());
    }
    let xref = pdf.len();
    pdf.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
    for offset in offsets {
        pdf.extend(format!("{offset:010} 00000 n \n").into_bytes());
    }
    pdf.extend(
        format!(
            "trailer << /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .into_bytes(),
    );
    pdf
}

struct Bytes(Option<Vec<u8>>);

#[async_trait::async_trait]
impl peps_core::services::wallet::UploadSource for Bytes {
    async fn next_chunk(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        Ok(self.0.take())
    }
}

/// The demo person's wallet: an identity card, a proof of address that expires soon, their
/// consent for the referent, and the referent's request for a tax notice. Created once.
async fn seed_wallet(
    app: &App,
    referent: &Actor,
    person: peps_core::domain::AccountId,
) -> Result<(), peps_core::CoreError> {
    use peps_core::services::Caller;
    use peps_core::services::wallet::{NewDocument, NewRequest};
    let wallet = &app.state.wallet;
    let own = Caller {
        actor: Actor {
            account: person,
            role: Role::Person,
            organisations: vec![],
        },
        ip: None,
    };
    if !wallet.list(&own, person).await?.is_empty() {
        return Ok(());
    }
    let today = chrono::Utc::now().date_naive();
    for (kind, title, valid_until, text) in [
        (
            "identity",
            "Carte d'identité",
            Some(today + chrono::Duration::days(3 * 365)),
            "Exemple de carte d'identite (demo PEPS)",
        ),
        (
            "proof_of_address",
            "Attestation d'hébergement",
            Some(today + chrono::Duration::days(20)),
            "Exemple d'attestation d'hebergement (demo PEPS)",
        ),
    ] {
        wallet
            .upload_document(
                &own,
                person,
                NewDocument {
                    kind: kind.to_owned(),
                    title: Some(title.to_owned()),
                    issued_on: None,
                    valid_until,
                },
                &mut Bytes(Some(sample_pdf(text))),
            )
            .await?;
    }
    wallet.set_referent_consent(&own, person, true).await?;
    let worker = Caller {
        actor: referent.clone(),
        ip: None,
    };
    wallet
        .request(
            &worker,
            person,
            NewRequest {
                kinds: vec!["tax_notice".to_owned(), "identity".to_owned()],
                step: None,
                message: Some("Pour compléter votre dossier RSA.".to_owned()),
            },
        )
        .await?;
    tracing::info!("demo wallet seeded");
    Ok(())
}

/// The demo person's plan, written by their referent: three steps from templates and one
/// orientation to an offer of the demo catalogue. Created once.
async fn seed_plan(
    app: &App,
    referent: &Actor,
    person: peps_core::domain::AccountId,
    demo_offerer: peps_core::domain::OrganisationId,
) -> Result<(), peps_core::CoreError> {
    use peps_core::plans::{Orientation, StepDraft};
    use peps_core::services::NewStep;
    let plans = &app.state.plans;
    if !plans.plans_of(referent, person).await?.is_empty() {
        return Ok(());
    }
    let plan = plans
        .create_plan(referent, person, "Ressources, santé et logement")
        .await?
        .plan;
    let due = app.state.catalogue.local_now().date() + chrono::Duration::days(10);
    for (template, due_on) in [
        ("demander-le-rsa", Some(due)),
        ("demander-la-complementaire-sante-solidaire", None),
        ("demander-un-logement-social", None),
    ] {
        plans
            .add_step(
                referent,
                plan.id,
                NewStep {
                    template: Some(template.to_owned()),
                    draft: StepDraft {
                        due_on: Some(due_on),
                        ..StepDraft::default()
                    },
                },
            )
            .await?;
    }
    let offer = app
        .state
        .catalogue
        .organisation_offers(Some(referent), demo_offerer, &[])
        .await?
        .into_iter()
        .next();
    if let Some(offer) = offer {
        plans
            .add_step(
                referent,
                plan.id,
                NewStep {
                    template: None,
                    draft: StepDraft {
                        title: Some(format!("Aller à : {}", offer.content.title)),
                        explanation: Some(
                            "Une association du quartier peut vous aider. \
                             Présentez-vous de la part de votre référente."
                                .to_owned(),
                        ),
                        tasks: Some(vec![
                            "Regarder les horaires d'ouverture".to_owned(),
                            "Y aller avec ce plan imprimé".to_owned(),
                        ]),
                        orientation: Some(Some(Orientation::Offer { offer: offer.id })),
                        ..StepDraft::default()
                    },
                },
            )
            .await?;
    }
    tracing::info!("demo plan seeded");
    Ok(())
}

/// How many offers and offerers the demo catalogue has, and its fixed seed.
const DEMO_OFFERS: usize = 240;
const DEMO_OFFERERS: usize = 24;
const DEMO_SEED: u64 = 89;
/// Kinds of generated offerer (keys of `organisations` in peps-core's offer-templates.yml)
/// whose offers an "Association Entraide" may run, in order of preference.
const DEMO_OFFERER_KINDS: &[&str] = &[
    "association-entraide",
    "aide-alimentaire",
    "centre-social",
    "vestiaire",
    "reemploi",
    "jardin-solidaire",
];

/// A realistic catalogue of the Yonne (synthetic, see `peps_core::catalogue::synthetic`),
/// created once: the demo offerer's first offers let the demo member try editing.
async fn seed_catalogue(
    app: &App,
    admin: &Actor,
    demo_offerer: peps_core::domain::OrganisationId,
) -> Result<(), peps_core::CoreError> {
    use peps_core::catalogue::{ChangeKind, OfferStatus};
    use peps_core::services::NewTemporaryChange;
    let catalogue = &app.state.catalogue;
    if !catalogue
        .organisation_offers(Some(admin), demo_offerer, &[])
        .await?
        .is_empty()
    {
        return Ok(());
    }
    let now = catalogue.now();
    let today = catalogue.local_now().date();
    let generated = peps_core::catalogue::synthetic::catalogue(
        DEMO_SEED,
        DEMO_OFFERERS,
        DEMO_OFFERS,
        catalogue.reference(),
        today,
    );
    // One generated offerer becomes the demo offerer, whose member can log in: one of an
    // associative kind, so that "Association Entraide Démoville" runs offers that fit its
    // name (food aid, a social café), not a CMP's consultations.
    let stands_in = DEMO_OFFERER_KINDS
        .iter()
        .find_map(|kind| generated.organisations.iter().position(|o| o.kind == *kind))
        .unwrap_or(0);
    let mut ids = Vec::with_capacity(generated.organisations.len());
    for (i, org) in generated.organisations.iter().enumerate() {
        if i == stands_in {
            ids.push(demo_offerer);
            continue;
        }
        let created = app
            .state
            .identity
            .create_organisation(
                admin,
                NewOrganisation {
                    name: org.name.clone(),
                    kind: OrganisationKind::Offerer,
                    siret: None,
                },
            )
            .await?;
        ids.push(created.id);
    }
    for offer in generated.offers {
        let created = catalogue
            .create_offer_as_system(
                ids[offer.organisation],
                offer.content,
                OfferStatus::Published,
                None,
                now - chrono::Duration::days(offer.verified_days_ago),
            )
            .await?;
        if let Some(change) = offer.temporary_change {
            let starts_on = today + chrono::Duration::days(change.starts_in_days);
            let ends_on = starts_on + chrono::Duration::days(change.days - 1);
            if ends_on >= today {
                let opening_hours = match change.kind {
                    ChangeKind::ChangedHours { opening_hours } => Some(opening_hours),
                    ChangeKind::Closed => None,
                };
                catalogue
                    .add_temporary_change(
                        admin,
                        created.id,
                        NewTemporaryChange {
                            starts_on,
                            ends_on,
                            opening_hours,
                            message: change.message,
                        },
                    )
                    .await?;
            }
        }
    }
    tracing::info!(
        offers = DEMO_OFFERS,
        offerers = DEMO_OFFERERS,
        "demo catalogue seeded"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_passwords_satisfy_the_rule() {
        for _ in 0..50 {
            let p = random_password();
            assert!(
                peps_core::auth::Password::new(&p, &["admin@demo.peps"]).is_ok(),
                "{p}"
            );
        }
    }

    #[test]
    fn demo_listens_on_loopback() {
        assert_eq!(loopback("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(loopback("[::]:9000"), "127.0.0.1:9000");
    }
}
