//! A collectivity's own Rust service using PEPS's core with its own wiring.
//!
//! Here: the département's existing intake tool creates, for a person met at the counter, a
//! PEPS account with their social worker as referent, and prints the activation sheet in the
//! person's language and in French. No HTTP server: the core is a library.
//!
//! Run it: `cargo run -p peps-examples --example embed`.

use std::sync::Arc;

use peps_core::auth::Argon2Hasher;
use peps_core::clock::SystemClock;
use peps_core::domain::{OrganisationKind, Role};
use peps_core::i18n;
use peps_core::policy::Actor;
use peps_core::services::{
    Identity, IdentityPorts, IdentitySettings, NewOrganisation, NewPerson, ProvisionAccount,
};
use peps_store::SeaOrmStore;

/// Everything the example does; `main` and the test both call it.
pub async fn run(database_url: &str) -> anyhow::Result<String> {
    // 1. Storage: PEPS's own adapter, on the database of your choice.
    let store = Arc::new(SeaOrmStore::connect(database_url).await?);
    store.migrate().await?;

    // 2. Wiring: each port may come from a different adapter; here all from the store.
    //    Your own settings replace the defaults (shorter sessions at a public counter, say).
    let settings = IdentitySettings {
        session_idle: chrono::Duration::minutes(30),
        ..IdentitySettings::default()
    };
    let identity = Identity::new(
        IdentityPorts::from_store(store),
        Arc::new(Argon2Hasher::default()),
        Arc::new(SystemClock),
        settings,
    );

    // 3. Your organisation and a social worker, as your provisioning tool would create them.
    let ccas = identity
        .provision_organisation(NewOrganisation {
            name: "CCAS de Sens".to_owned(),
            kind: OrganisationKind::SocialService,
            siret: None,
        })
        .await?;
    let worker = identity
        .provision_account(ProvisionAccount {
            role: Role::Worker,
            email: "agent.accueil@example.org".to_owned(),
            display_name: "Agent d'accueil".to_owned(),
            password: "Une phrase de passe solide".to_owned(),
            organisations: vec![ccas.id],
        })
        .await?;

    // 4. The use case, acting as that worker: the policy applies exactly as over HTTP.
    let actor = Actor {
        account: worker.id,
        role: Role::Worker,
        organisations: vec![ccas.id],
    };
    let issued = identity
        .create_person(
            &actor,
            NewPerson {
                display_name: "Amina Yusuf".to_owned(),
                email: None,
                phone: Some("06 12 34 56 78".to_owned()),
                language: Some("so".to_owned()),
            },
        )
        .await?;

    let expires = issued.expires_at.format("%d/%m/%Y").to_string();
    let code = issued.code.display();
    let sheet = format!(
        "{}\n\n---\n\n{}",
        i18n::activation_sheet(
            &issued.account.language,
            issued.login.as_str(),
            &code,
            &expires
        ),
        i18n::activation_sheet(
            &peps_core::domain::Language::french(),
            issued.login.as_str(),
            &code,
            &expires
        ),
    );
    Ok(sheet)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("embed.db").display());
    println!("{}", run(&url).await?);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn embed_example_runs() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("embed.db").display());
        let sheet = super::run(&url).await.unwrap();
        assert!(sheet.contains("amina.yusuf."), "{sheet}");
        assert!(sheet.contains("Votre code d'activation"), "{sheet}");
    }
}
