//! A PEPS wired on a fresh store with a manual clock, and a cast of accounts.

use chrono::{Duration, TimeZone, Utc};
use poem::test::{TestClient, TestResponse};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use peps_core::auth::Argon2Hasher;
use peps_core::clock::ManualClock;
use peps_core::domain::{AccountId, MandateScope, OrganisationKind, Role};
use peps_core::policy::Actor;
use peps_core::ports::{NoTranslator, Notifier, Translator};
use peps_core::services::{
    Catalogue, CataloguePorts, CatalogueSettings, Identity, IdentityPorts, IdentitySettings,
    NewMandate, NewOrganisation, Notices, Outbox, OutboxPorts, OutboxSettings, PlanPorts,
    PlanSettings, Plans, ProvisionAccount,
};
use peps_http::{AppState, HttpSettings};
use peps_store::testing::{TestBackend, TestStore, fresh};

pub use peps_store::testing::backends;

pub const PASSWORD: &str = "Correct-Horse-Battery-9";

/// How plan notices go out and free text is translated in a test app.
pub struct PlanOptions {
    pub notifier: Arc<dyn Notifier>,
    pub translator: Arc<dyn Translator>,
}

/// How the wallet of a test app stores files and what it allows.
pub struct WalletOptions {
    /// `None`: a folder in a temporary directory.
    pub blobs: Option<Arc<dyn peps_core::wallet::ports::BlobStore>>,
    pub settings: peps_core::services::WalletSettings,
    pub scanner: Option<Arc<dyn peps_core::wallet::ports::Scanner>>,
    pub notifier: Arc<dyn Notifier>,
}

impl Default for WalletOptions {
    fn default() -> Self {
        Self {
            blobs: None,
            settings: peps_core::services::WalletSettings::default(),
            scanner: None,
            notifier: Arc::new(peps_store::notify::LogNotifier),
        }
    }
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            notifier: Arc::new(peps_store::notify::LogNotifier),
            translator: Arc::new(NoTranslator),
        }
    }
}

pub struct TestApp {
    pub backend: TestBackend,
    /// Keeps the test database alive as long as the app.
    _store: TestStore,
    pub clock: Arc<ManualClock>,
    pub shared: Arc<peps_store::SeaOrmStore>,
    pub state: AppState,
    pub client: TestClient<poem::endpoint::BoxEndpoint<'static>>,
    /// Where import jobs keep their files.
    pub _import_dir: tempfile::TempDir,
    /// The wallet's folder of blobs (when it uses the file store) and its key.
    pub wallet_dir: tempfile::TempDir,
    /// The wallet's key file, one line.
    pub key_line: String,
    pub blobs: Arc<dyn peps_core::wallet::ports::BlobStore>,
}

impl TestApp {
    pub async fn new(backend: TestBackend) -> Self {
        Self::with_settings(backend, HttpSettings::default()).await
    }

    pub async fn with_settings(backend: TestBackend, settings: HttpSettings) -> Self {
        Self::build(
            backend,
            settings,
            CatalogueSettings::default(),
            Arc::new(peps_store::notify::LogNotifier),
            PlanOptions::default(),
            WalletOptions::default(),
        )
        .await
    }

    /// With the wallet configured by `wallet`.
    pub async fn with_wallet(backend: TestBackend, wallet: WalletOptions) -> Self {
        Self::build(
            backend,
            HttpSettings::default(),
            CatalogueSettings::default(),
            Arc::new(peps_store::notify::LogNotifier),
            PlanOptions::default(),
            wallet,
        )
        .await
    }

    /// With plan notices sent through `notifier` and free text translated by `translator`.
    pub async fn with_plans(
        backend: TestBackend,
        notifier: Arc<dyn Notifier>,
        translator: Arc<dyn Translator>,
    ) -> Self {
        Self::build(
            backend,
            HttpSettings::default(),
            CatalogueSettings::default(),
            Arc::new(peps_store::notify::LogNotifier),
            PlanOptions {
                notifier,
                translator,
            },
            WalletOptions::default(),
        )
        .await
    }

    pub async fn with_catalogue(
        backend: TestBackend,
        catalogue: CatalogueSettings,
        notifier: Arc<dyn Notifier>,
    ) -> Self {
        Self::build(
            backend,
            HttpSettings::default(),
            catalogue,
            notifier,
            PlanOptions::default(),
            WalletOptions::default(),
        )
        .await
    }

    async fn build(
        backend: TestBackend,
        settings: HttpSettings,
        catalogue: CatalogueSettings,
        notifier: Arc<dyn Notifier>,
        plan_options: PlanOptions,
        wallet_options: WalletOptions,
    ) -> Self {
        let PlanOptions {
            notifier: plan_notifier,
            translator,
        } = plan_options;
        let store = fresh(backend).await;
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap(),
        ));
        let shared = Arc::new(store.store());
        // Alerts to persons (a password reset, consent recorded at the counter) go where the
        // wallet's notices go, so a test reads both in one outbox.
        let identity = Identity::new(
            IdentityPorts::from_store(shared.clone()),
            Arc::new(Argon2Hasher::default()),
            clock.clone(),
            IdentitySettings::default(),
        )
        .with_notices(Notices::new(shared.clone(), clock.clone()));
        // One sender for the whole app, as in `peps serve`; each test's recorder or SMTP
        // server receives the emails (the others are log adapters).
        let outbox = Arc::new(Outbox::new(
            OutboxPorts::from_store(shared.clone()),
            Arc::new(FanOut(vec![
                notifier.clone(),
                plan_notifier.clone(),
                wallet_options.notifier.clone(),
            ])),
            Arc::new(peps_store::notify::LogSms),
            clock.clone(),
            OutboxSettings::default(),
        ));
        let shared_store = shared.clone();
        let catalogue = Arc::new(Catalogue::new(
            CataloguePorts {
                offers: shared.clone(),
                organisations: shared.clone(),
                accounts: shared.clone(),
                outbox: shared.clone(),
            },
            clock.clone(),
            Arc::new(peps_core::catalogue::ReferenceData::builtin()),
            catalogue,
        ));
        let exchange = Arc::new(peps_core::services::exchange::Exchange::new(
            shared.clone(),
            shared.clone(),
            clock.clone(),
            Arc::new(peps_core::catalogue::ReferenceData::builtin()),
        ));
        let import_dir = tempfile::tempdir().unwrap();
        let data_inclusion = Arc::new(peps_http::DataInclusion::new(
            exchange,
            Some(catalogue.clone()),
            peps_http::DataInclusionSettings {
                source: "peps-89".into(),
                public_url: "https://peps.example.org".into(),
                import_dir: import_dir.path().to_owned(),
            },
        ));
        // As in `peps serve`: steps' offers from the catalogue's index.
        let plans = Plans::new(
            PlanPorts::from_store(shared.clone()).with_catalogue(catalogue.clone()),
            Arc::new(peps_core::plans::TemplateLibrary::builtin()),
            translator,
            Notices::new(shared.clone(), clock.clone()),
            clock.clone(),
            PlanSettings::default(),
        );
        let wallet_dir = tempfile::tempdir().unwrap();
        let blobs: Arc<dyn peps_core::wallet::ports::BlobStore> = match wallet_options.blobs {
            Some(b) => b,
            None => Arc::new(
                peps_store::blobs::FsBlobStore::open(wallet_dir.path().join("blobs"))
                    .await
                    .unwrap(),
            ),
        };
        let key_line =
            peps_core::wallet::keyring::KeyRing::generate_line(&"test-1".parse().unwrap());
        let keys = Arc::new(peps_core::wallet::keyring::KeyRing::parse(&key_line).unwrap());
        let wallet = peps_core::services::Wallet::new(
            peps_core::services::WalletPorts::from_store(
                shared.clone(),
                blobs.clone(),
                keys.clone(),
                wallet_options.scanner,
            ),
            Notices::new(shared.clone(), clock.clone()),
            clock.clone(),
            wallet_options.settings,
        );
        let state = AppState {
            plans: Arc::new(plans),
            wallet: Arc::new(wallet),
            outbox,
            data_inclusion,
            identity: Arc::new(identity),
            catalogue,
            health: shared,
            settings,
        };
        use poem::EndpointExt;
        let client = TestClient::new(peps_http::routes(state.clone()).boxed());
        Self {
            backend,
            _store: store,
            clock,
            shared: shared_store,
            state,
            client,
            _import_dir: import_dir,
            wallet_dir,
            key_line,
            blobs,
        }
    }

    /// Another server instance on the same database: its own catalogue service and index.
    pub fn second_instance(&self) -> TestClient<poem::endpoint::BoxEndpoint<'static>> {
        use poem::EndpointExt;
        let shared = self.shared.clone();
        let catalogue = Catalogue::new(
            CataloguePorts {
                offers: shared.clone(),
                organisations: shared.clone(),
                accounts: shared.clone(),
                outbox: shared,
            },
            self.clock.clone(),
            Arc::new(peps_core::catalogue::ReferenceData::builtin()),
            CatalogueSettings::default(),
        );
        let state = AppState {
            catalogue: Arc::new(catalogue),
            ..self.state.clone()
        };
        TestClient::new(peps_http::routes(state).boxed())
    }

    /// The plan service of this app with other step templates (a collectivity's own).
    pub fn plans_with(&self, templates: peps_core::plans::TemplateLibrary) -> Plans {
        Plans::new(
            PlanPorts::from_store(self.shared.clone()),
            Arc::new(templates),
            Arc::new(NoTranslator),
            Notices::new(self.shared.clone(), self.clock.clone()),
            self.clock.clone(),
            PlanSettings::default(),
        )
    }

    pub async fn provision(
        &self,
        role: Role,
        email: &str,
        orgs: &[peps_core::domain::OrganisationId],
    ) -> AccountId {
        self.state
            .identity
            .provision_account(ProvisionAccount {
                role,
                email: email.to_owned(),
                display_name: format!("Test {email}"),
                password: PASSWORD.to_owned(),
                organisations: orgs.to_vec(),
            })
            .await
            .unwrap()
            .id
    }

    /// A person with a phone number and the test password (persons are otherwise made with an
    /// email only); returns their id and a token.
    pub async fn person_with_phone(&self, email: &str, phone: &str) -> (AccountId, String) {
        use peps_core::auth::PasswordHasher;
        use peps_core::ports::{AccountRepository, NewAccount};
        let id = AccountId::new();
        let hash =
            Argon2Hasher::default().hash(&peps_core::auth::Password::new(PASSWORD, &[]).unwrap());
        self.shared
            .create_account(&NewAccount {
                account: peps_core::domain::Account {
                    id,
                    role: Role::Person,
                    login: peps_core::domain::Login::normalise(email),
                    email: Some(peps_core::domain::Email::parse(email).unwrap()),
                    phone: Some(peps_core::domain::Phone::parse(phone).unwrap()),
                    display_name: peps_core::domain::DisplayName::parse("Rania Haddad").unwrap(),
                    language: peps_core::domain::Language::parse("ar").unwrap(),
                    status: peps_core::domain::AccountStatus::Active,
                    created_at: peps_core::clock::Clock::now(self.clock.as_ref()),
                },
                password_hash: Some(hash),
                organisations: vec![],
                referent: None,
                activation: None,
            })
            .await
            .unwrap();
        (id, self.login(email).await)
    }

    pub async fn login(&self, email: &str) -> String {
        let resp = self
            .client
            .post("/api/v1/auth/login")
            .body_json(&serde_json::json!({"login": email, "password": PASSWORD}))
            .send()
            .await;
        resp.assert_status_is_ok();
        let body = json(resp).await;
        let token = body["token"].as_str().unwrap().to_owned();
        if body["assurance"] == "awaiting_second_factor" {
            let account = body["account"]["id"].as_str().unwrap().parse().unwrap();
            self.pass_second_factor(&token, AccountId(account)).await;
        }
        token
    }

    /// Passes (or first sets up) the second factor of a fresh session, over the API, with a
    /// code computed from the secret as an authenticator app would. Where every code of the
    /// current window was already used (the tests' clock stands still), the session is raised
    /// in the store instead: `second_factor.rs` tests the real refusals.
    pub async fn pass_second_factor(&self, token: &str, account: AccountId) {
        use peps_core::auth::totp::{code_for_step, step_at};
        use peps_core::ports::{SecondFactorRepository, SessionRepository};
        let bearer = format!("Bearer {token}");
        let now = step_at(peps_core::clock::Clock::now(self.clock.as_ref()));
        let status = json(
            self.client
                .get("/api/v1/auth/second-factor")
                .header("authorization", &bearer)
                .send()
                .await,
        )
        .await;
        if status["enrolled"] == false {
            let resp = self
                .client
                .post("/api/v1/auth/second-factor/enrolment")
                .header("authorization", &bearer)
                .send()
                .await;
            resp.assert_status_is_ok();
            let secret = self
                .shared
                .second_factor(account)
                .await
                .unwrap()
                .unwrap()
                .secret;
            let resp = self
                .client
                .post("/api/v1/auth/second-factor/enrolment/confirm")
                .header("authorization", &bearer)
                .body_json(&serde_json::json!({"code": code_for_step(&secret, now)}))
                .send()
                .await;
            resp.assert_status_is_ok();
            return;
        }
        let factor = self.shared.second_factor(account).await.unwrap().unwrap();
        if let Some(step) = (now - 1..=now + 1).find(|s| *s > factor.last_step) {
            let resp = self
                .client
                .post("/api/v1/auth/second-factor")
                .header("authorization", &bearer)
                .body_json(&serde_json::json!({"code": code_for_step(&factor.secret, step)}))
                .send()
                .await;
            resp.assert_status_is_ok();
            return;
        }
        let session = self
            .shared
            .session_by_token_hash(&peps_core::auth::token::hash_token(token))
            .await
            .unwrap()
            .unwrap();
        self.shared
            .set_session_assurance(
                session.id,
                peps_core::domain::Assurance::Strong,
                "password+test",
            )
            .await
            .unwrap();
    }
}

pub async fn json(resp: TestResponse) -> Value {
    let text = resp.0.into_body().into_string().await.unwrap();
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// Status and body of a response.
pub async fn status_json(resp: TestResponse) -> (u16, Value) {
    let status = resp.0.status().as_u16();
    (status, json(resp).await)
}

/// Everyone the access tests need, each with a token.
pub struct Cast {
    pub admin: (AccountId, String),
    pub worker_a: (AccountId, String),
    pub worker_b: (AccountId, String),
    pub ex_referent: (AccountId, String),
    pub member_x: (AccountId, String),
    /// A member of another offerer.
    pub member_y: (AccountId, String),
    pub person_p: (AccountId, String),
    pub person_q: (AccountId, String),
    pub helper: (AccountId, String),
    pub expired_helper: (AccountId, String),
    pub org_a: peps_core::domain::OrganisationId,
    pub org_x: peps_core::domain::OrganisationId,
    /// The other offerer, member Y's.
    #[allow(dead_code)]
    pub org_y: peps_core::domain::OrganisationId,
}

impl Cast {
    /// Person P: referent worker A (CCAS A); worker C was P's referent until last month;
    /// helper H holds a valid mandate, helper E one that expired. Worker B is in CCAS B,
    /// member X in an offerer.
    pub async fn new(app: &TestApp) -> Self {
        let identity = &app.state.identity;
        let org = |name: &str, kind| NewOrganisation {
            name: name.to_owned(),
            kind,
            siret: None,
        };
        let org_a = identity
            .provision_organisation(org("CCAS A", OrganisationKind::SocialService))
            .await
            .unwrap()
            .id;
        let org_b = identity
            .provision_organisation(org("CCAS B", OrganisationKind::SocialService))
            .await
            .unwrap()
            .id;
        let org_x = identity
            .provision_organisation(org("Offreur X", OrganisationKind::Offerer))
            .await
            .unwrap()
            .id;

        let org_y = identity
            .provision_organisation(org("Offreur Y", OrganisationKind::Offerer))
            .await
            .unwrap()
            .id;
        let admin = app.provision(Role::Admin, "admin@test.peps", &[]).await;
        let member_y = app
            .provision(Role::Member, "member.y@test.peps", &[org_y])
            .await;
        let worker_a = app
            .provision(Role::Worker, "worker.a@test.peps", &[org_a])
            .await;
        let worker_b = app
            .provision(Role::Worker, "worker.b@test.peps", &[org_b])
            .await;
        let ex_referent = app
            .provision(Role::Worker, "worker.c@test.peps", &[org_a])
            .await;
        let member_x = app
            .provision(Role::Member, "member.x@test.peps", &[org_x])
            .await;
        let person_p = app.provision(Role::Person, "person.p@test.peps", &[]).await;
        let person_q = app.provision(Role::Person, "person.q@test.peps", &[]).await;
        let helper = app.provision(Role::Helper, "helper.h@test.peps", &[]).await;
        let expired_helper = app.provision(Role::Helper, "helper.e@test.peps", &[]).await;

        let admin_actor = Actor {
            account: admin,
            role: Role::Admin,
            organisations: vec![],
        };
        identity
            .assign_referent(&admin_actor, person_p, ex_referent)
            .await
            .unwrap();
        identity
            .grant_mandate(
                &admin_actor,
                person_p,
                NewMandate {
                    helper: expired_helper,
                    scopes: vec![MandateScope::PlansRead],
                    starts_at: None,
                    ends_at: app.clock.now_plus(Duration::days(10)),
                    consent_given_on: None,
                },
            )
            .await
            .unwrap();
        app.clock.advance(Duration::days(20));
        identity
            .end_referent(&admin_actor, person_p, ex_referent)
            .await
            .unwrap();
        identity
            .assign_referent(&admin_actor, person_p, worker_a)
            .await
            .unwrap();
        // A wallet scope is the person's own to give.
        let person_actor = Actor {
            account: person_p,
            role: Role::Person,
            organisations: vec![],
        };
        identity
            .grant_mandate(
                &person_actor,
                person_p,
                NewMandate {
                    helper,
                    scopes: vec![MandateScope::PlansRead, MandateScope::WalletRead],
                    starts_at: None,
                    ends_at: app.clock.now_plus(Duration::days(365)),
                    consent_given_on: None,
                },
            )
            .await
            .unwrap();

        let with_token =
            |id: AccountId, email: &'static str| async move { (id, app.login(email).await) };
        Self {
            admin: with_token(admin, "admin@test.peps").await,
            worker_a: with_token(worker_a, "worker.a@test.peps").await,
            worker_b: with_token(worker_b, "worker.b@test.peps").await,
            ex_referent: with_token(ex_referent, "worker.c@test.peps").await,
            member_x: with_token(member_x, "member.x@test.peps").await,
            member_y: with_token(member_y, "member.y@test.peps").await,
            person_p: with_token(person_p, "person.p@test.peps").await,
            person_q: with_token(person_q, "person.q@test.peps").await,
            helper: with_token(helper, "helper.h@test.peps").await,
            expired_helper: with_token(expired_helper, "helper.e@test.peps").await,
            org_a,
            org_x,
            org_y,
        }
    }
}

pub trait ClockExt {
    fn now_plus(&self, d: Duration) -> chrono::DateTime<Utc>;
}

impl ClockExt for ManualClock {
    fn now_plus(&self, d: Duration) -> chrono::DateTime<Utc> {
        use peps_core::clock::Clock;
        self.now() + d
    }
}

/// A minimal SMTP server on 127.0.0.1:0 that keeps every message it receives.
pub async fn smtp_sink() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let messages = Arc::new(Mutex::new(Vec::new()));
    let kept = messages.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            kept.lock().unwrap().push(data.take().unwrap());
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 OK\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (url, messages)
}

/// Hands every email to each notifier (a test listens on one of them).
struct FanOut(Vec<Arc<dyn Notifier>>);

#[async_trait::async_trait]
impl Notifier for FanOut {
    async fn send(
        &self,
        n: &peps_core::ports::Notification,
    ) -> Result<(), peps_core::ports::NotifyError> {
        for notifier in &self.0 {
            notifier.send(n).await?;
        }
        Ok(())
    }
}

impl TestApp {
    /// Runs the outbox's sender once, as `peps serve` does every few seconds.
    pub async fn deliver(&self) -> peps_core::services::DeliveryReport {
        self.state.outbox.deliver_due(100).await.unwrap()
    }
}

/// Keeps every notification "sent", for tests that read what a person was told.
pub struct RecordingNotifier(Arc<Mutex<Vec<peps_core::ports::Notification>>>);

impl RecordingNotifier {
    #[allow(clippy::new_ret_no_self, clippy::type_complexity)]
    pub fn new() -> (
        Arc<dyn Notifier>,
        Arc<Mutex<Vec<peps_core::ports::Notification>>>,
    ) {
        let outbox = Arc::new(Mutex::new(Vec::new()));
        (Arc::new(Self(outbox.clone())), outbox)
    }
}

#[async_trait::async_trait]
impl Notifier for RecordingNotifier {
    async fn send(
        &self,
        n: &peps_core::ports::Notification,
    ) -> Result<(), peps_core::ports::NotifyError> {
        self.0.lock().unwrap().push(n.clone());
        Ok(())
    }
}

impl TestApp {
    /// Sets an account's language straight in the store.
    pub async fn shared_language(&self, account: AccountId, code: &str) {
        use peps_core::ports::AccountRepository;
        let language = peps_core::domain::Language::parse(code).unwrap();
        self.shared.set_language(account, &language).await.unwrap();
    }
}
