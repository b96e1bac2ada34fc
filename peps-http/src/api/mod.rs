//! The documented API, one module per area.

use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem_openapi::OpenApi;
use poem_openapi::registry::{MetaApi, MetaPath, MetaSchema, MetaSchemaRef, Registry};
use std::collections::HashMap;

mod accounts;
mod auth;
mod catalogue;
mod external_identities;
mod imports;
mod notices;
mod offer_views;
mod offers;
mod opendata;
mod organisations;
pub(crate) mod plan_views;
mod plans;
mod relations;
mod step_templates;
mod system;
mod text;
mod versions;
mod views;
mod wallet;
mod wallet_views;

pub type Apis = Documented<(
    system::SystemApi,
    auth::AuthApi,
    external_identities::ExternalIdentitiesApi,
    notices::NoticesApi,
    accounts::AccountsApi,
    organisations::OrganisationsApi,
    relations::RelationsApi,
    catalogue::CatalogueApi,
    offers::OffersApi,
    imports::ImportsApi,
    step_templates::StepTemplatesApi,
    plans::PlansApi,
    wallet::WalletApi,
    wallet::WalletExportApi,
    opendata::OpenDataApi,
)>;

pub fn apis() -> Apis {
    Documented((
        system::SystemApi,
        auth::AuthApi,
        external_identities::ExternalIdentitiesApi,
        notices::NoticesApi,
        accounts::AccountsApi,
        organisations::OrganisationsApi,
        relations::RelationsApi,
        catalogue::CatalogueApi,
        offers::OffersApi,
        imports::ImportsApi,
        step_templates::StepTemplatesApi,
        plans::PlansApi,
        wallet::WalletApi,
        wallet::WalletExportApi,
        opendata::OpenDataApi,
    ))
}

/// The APIs as one document that client generators read whole; routing is unchanged.
///
/// - poem-openapi writes one `paths` entry per path *per API struct*, so a path whose methods
///   live in two structs (`GET /api/v1/offers/{id}` in the catalogue, `PUT` in offers) came out
///   as a duplicate JSON key and readers kept only the last one: the operations of each path
///   are merged into one entry.
/// - A field that is not required is an `Option`, written `null` when empty: it is declared
///   `nullable` (a field with a default is never null and is left as it is).
/// - A documented field whose type is an enum is written `allOf: [enum, {description}]`, which
///   generators refuse ("cannot take allOf a non-object") and then drop the whole object
///   (`Me`, `NewStaff`…): such a field is written as the plain reference.
pub struct Documented<T>(pub T);

impl<T: OpenApi> OpenApi for Documented<T> {
    fn meta() -> Vec<MetaApi> {
        let mut paths: Vec<MetaPath> = Vec::new();
        for path in T::meta().into_iter().flat_map(|api| api.paths) {
            match paths.iter_mut().find(|p| p.path == path.path) {
                Some(known) => known.operations.extend(path.operations),
                None => paths.push(path),
            }
        }
        vec![MetaApi { paths }]
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
        let enums: Vec<String> = registry
            .schemas
            .iter()
            .filter(|(_, schema)| schema.ty != "object")
            .map(|(name, _)| name.clone())
            .collect();
        for schema in registry.schemas.values_mut() {
            let required = schema.required.clone();
            for (name, property) in &mut schema.properties {
                plain_enum_reference(property, &enums);
                if !required.contains(name) {
                    nullable(property);
                }
            }
        }
    }

    fn add_routes(self, route_table: &mut HashMap<String, HashMap<Method, BoxEndpoint<'static>>>) {
        self.0.add_routes(route_table);
    }
}

#[derive(poem_openapi::Tags)]
pub enum Tag {
    /// Liveness, readiness and reference lists.
    System,
    /// Logging in and out, activation codes, one's own account.
    Auth,
    /// Accounts of every role.
    Accounts,
    /// Social services, offerers and public agencies.
    Organisations,
    /// Referents and helpers' mandates.
    Relations,
    /// The public catalogue: search, offers, profiles, reference lists.
    Catalogue,
    /// Offerers managing their offers; moderation and freshness.
    Offers,
    /// Step plans and the step templates they start from.
    Plans,
    /// The document wallet: documents, shares, requests, the access log.
    Wallet,
    /// The published catalogue as data·inclusion files, for anyone.
    OpenData,
}

fn plain_enum_reference(property: &mut MetaSchemaRef, enums: &[String]) {
    let MetaSchemaRef::Inline(schema) = property else {
        return;
    };
    if let Some(items) = schema.items.as_mut() {
        plain_enum_reference(items, enums);
    }
    // Only a bare description around the enum: a default or a flag would be lost.
    let bare = MetaSchema {
        description: None,
        all_of: Vec::new(),
        ..(**schema).clone()
    };
    let described_enum = match schema.all_of.as_slice() {
        [MetaSchemaRef::Reference(name), MetaSchemaRef::Inline(_)]
            if enums.contains(name) && bare.is_empty() =>
        {
            Some(name.clone())
        }
        _ => None,
    };
    if let Some(name) = described_enum {
        *property = MetaSchemaRef::Reference(name);
    }
}

fn nullable(property: &mut MetaSchemaRef) {
    match property {
        MetaSchemaRef::Inline(schema) if schema.default.is_none() => schema.nullable = true,
        MetaSchemaRef::Inline(_) => {}
        // OpenAPI 3.0 ignores siblings of `$ref`: the reference goes inside `anyOf`.
        MetaSchemaRef::Reference(name) => {
            *property = MetaSchemaRef::Inline(Box::new(MetaSchema {
                any_of: vec![MetaSchemaRef::Reference(std::mem::take(name))],
                nullable: true,
                ..MetaSchema::ANY
            }));
        }
    }
}
