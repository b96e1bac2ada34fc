//! [`AccountRepository`] on sea-orm.

use async_trait::async_trait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};

use crate::SeaOrmStore;
use crate::entities::{account, activation_code, credential, membership, referent};
use crate::error::{corrupt, db_err};
use peps_core::StoreError;
use peps_core::domain::*;
use peps_core::ports::{AccountRepository, NewAccount, StoreResult};

pub(crate) fn to_domain(m: account::Model) -> StoreResult<Account> {
    Ok(Account {
        id: AccountId(m.id),
        role: m.role.parse().map_err(|_| corrupt("role", &m.role))?,
        login: Login::normalise(&m.login),
        email: m
            .email
            .as_deref()
            .map(|e| Email::parse(e).map_err(|_| corrupt("email", e)))
            .transpose()?,
        phone: m
            .phone
            .as_deref()
            .map(|p| Phone::parse(p).map_err(|_| corrupt("phone", p)))
            .transpose()?,
        display_name: DisplayName::parse(&m.display_name)
            .map_err(|_| corrupt("display name", &m.display_name))?,
        language: Language::parse(&m.language).map_err(|_| corrupt("language", &m.language))?,
        status: m.status.parse().map_err(|_| corrupt("status", &m.status))?,
        created_at: m.created_at,
    })
}

fn from_domain(a: &Account) -> account::ActiveModel {
    account::Model {
        id: a.id.0,
        role: a.role.as_str().to_owned(),
        login: a.login.as_str().to_owned(),
        email: a.email.as_ref().map(|e| e.as_str().to_owned()),
        phone: a.phone.as_ref().map(|p| p.as_str().to_owned()),
        display_name: a.display_name.as_str().to_owned(),
        language: a.language.code().to_owned(),
        status: a.status.as_str().to_owned(),
        created_at: a.created_at,
    }
    .into_active_model()
}

pub(crate) fn activation_model(c: &ActivationCode) -> activation_code::ActiveModel {
    activation_code::Model {
        id: c.id.0,
        account_id: c.account.0,
        code_hash: c.code_hash.clone(),
        issued_by: c.issued_by.0,
        created_at: c.created_at,
        expires_at: c.expires_at,
        used_at: c.used_at,
        voided_at: None,
        failed_attempts: i32::try_from(c.failed_attempts).unwrap_or(i32::MAX),
    }
    .into_active_model()
}

pub(crate) fn referent_model(r: &Referent) -> referent::ActiveModel {
    referent::Model {
        id: r.id.0,
        worker_id: r.worker.0,
        person_id: r.person.0,
        started_at: r.started_at,
        ended_at: r.ended_at,
    }
    .into_active_model()
}

#[async_trait]
impl AccountRepository for SeaOrmStore {
    async fn create_account(&self, new: &NewAccount) -> StoreResult<()> {
        let txn = self.db.begin().await.map_err(db_err)?;
        from_domain(&new.account)
            .insert(&txn)
            .await
            .map_err(db_err)?;
        if let Some(hash) = &new.password_hash {
            credential::ActiveModel {
                account_id: Set(new.account.id.0),
                password_hash: Set(hash.clone()),
                reset_by: Set(None),
            }
            .insert(&txn)
            .await
            .map_err(db_err)?;
        }
        for organisation in &new.organisations {
            membership::ActiveModel {
                account_id: Set(new.account.id.0),
                organisation_id: Set(organisation.0),
                created_at: Set(new.account.created_at),
            }
            .insert(&txn)
            .await
            .map_err(db_err)?;
        }
        if let Some(r) = &new.referent {
            referent_model(r).insert(&txn).await.map_err(db_err)?;
        }
        if let Some(code) = &new.activation {
            activation_model(code).insert(&txn).await.map_err(db_err)?;
        }
        txn.commit().await.map_err(db_err)
    }

    async fn account(&self, id: AccountId) -> StoreResult<Account> {
        account::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)
            .and_then(to_domain)
    }

    async fn account_by_login(&self, login: &Login) -> StoreResult<Option<Account>> {
        account::Entity::find()
            .filter(account::Column::Login.eq(login.as_str()))
            .one(&self.db)
            .await
            .map_err(db_err)?
            .map(to_domain)
            .transpose()
    }

    async fn list_accounts(
        &self,
        role: Option<Role>,
        after: Option<AccountId>,
        limit: u32,
    ) -> StoreResult<Vec<Account>> {
        let mut query = account::Entity::find().order_by_asc(account::Column::Id);
        if let Some(role) = role {
            query = query.filter(account::Column::Role.eq(role.as_str()));
        }
        if let Some(after) = after {
            query = query.filter(account::Column::Id.gt(after.0));
        }
        query
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    async fn set_status(&self, id: AccountId, status: AccountStatus) -> StoreResult<()> {
        let updated = account::Entity::update_many()
            .col_expr(account::Column::Status, status.as_str().into())
            .filter(account::Column::Id.eq(id.0))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        found(updated.rows_affected)
    }

    async fn set_language(&self, id: AccountId, language: &Language) -> StoreResult<()> {
        let updated = account::Entity::update_many()
            .col_expr(account::Column::Language, language.code().into())
            .filter(account::Column::Id.eq(id.0))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        found(updated.rows_affected)
    }

    async fn password_hash(&self, id: AccountId) -> StoreResult<Option<String>> {
        let credential = credential::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?;
        if credential.is_none() {
            // Tell "no password yet" from "no such account".
            self.account(id).await?;
        }
        Ok(credential.map(|c| c.password_hash))
    }

    async fn password_reset_by(&self, id: AccountId) -> StoreResult<Option<AccountId>> {
        let credential = credential::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?;
        if credential.is_none() {
            self.account(id).await?;
        }
        Ok(credential.and_then(|c| c.reset_by).map(AccountId))
    }

    async fn set_password_hash(&self, id: AccountId, hash: &str) -> StoreResult<()> {
        let txn = self.db.begin().await.map_err(db_err)?;
        if account::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .map_err(db_err)?
            .is_none()
        {
            return Err(StoreError::NotFound);
        }
        credential::Entity::delete_by_id(id.0)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        credential::ActiveModel {
            account_id: Set(id.0),
            password_hash: Set(hash.to_owned()),
            reset_by: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        txn.commit().await.map_err(db_err)
    }
}

pub(crate) fn found(rows: u64) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}
