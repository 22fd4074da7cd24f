//! Accounts and the sites they own.

use super::tokens::{new_id, new_token};
use super::{now_ms, Account, Result, Site, Store};

impl Store {
    /// Creates an account on a plan (`free` unless said otherwise).
    pub async fn create_account(&self, name: &str) -> Result<Account> {
        self.create_account_on(name, "free").await
    }

    pub async fn create_account_on(&self, name: &str, plan: &str) -> Result<Account> {
        if self.plan(plan).await?.is_none() {
            return Err(super::StoreError::NotFound("plan"));
        }
        let _w = self.writer().await;
        let id = new_id();
        sqlx::query("insert into accounts (id, name, plan, created_at) values ($1, $2, $3, $4)")
            .bind(&id)
            .bind(name)
            .bind(plan)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(Account {
            id,
            name: name.to_string(),
        })
    }

    pub async fn count_accounts(&self) -> Result<i64> {
        let row = sqlx::query("select count(*) as n from accounts")
            .fetch_one(&self.pool)
            .await?;
        super::col(&row, "n")
    }

    /// Creates a site with a fresh public key.
    pub async fn create_site(
        &self,
        account_id: &str,
        name: &str,
        allowed_origins: &[String],
    ) -> Result<Site> {
        let _w = self.writer().await;
        let site = Site {
            id: new_id(),
            account_id: account_id.to_string(),
            name: name.to_string(),
            site_key: new_token("site_"),
            allowed_origins: allowed_origins.to_vec(),
        };
        let origins = serde_json::to_string(&site.allowed_origins)
            .map_err(|e| super::StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "insert into sites (id, account_id, name, site_key, allowed_origins, created_at) \
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&site.id)
        .bind(&site.account_id)
        .bind(&site.name)
        .bind(&site.site_key)
        .bind(origins)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(site)
    }

    pub async fn site_by_key(&self, site_key: &str) -> Result<Option<Site>> {
        let row = sqlx::query(
            "select id, account_id, name, site_key, allowed_origins from sites where site_key = $1",
        )
        .bind(site_key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(Site::from_row).transpose()
    }

    pub async fn site_by_id(&self, site_id: &str) -> Result<Option<Site>> {
        let row = sqlx::query(
            "select id, account_id, name, site_key, allowed_origins from sites where id = $1",
        )
        .bind(site_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(Site::from_row).transpose()
    }

    pub async fn sites_for_account(&self, account_id: &str) -> Result<Vec<Site>> {
        let rows = sqlx::query(
            "select id, account_id, name, site_key, allowed_origins from sites \
             where account_id = $1 order by created_at, id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Site::from_row).collect()
    }
}

impl Store {
    /// Renames a site and/or replaces its allowed origins; false when it is not the account's.
    pub async fn update_site(
        &self,
        account_id: &str,
        site_id: &str,
        name: Option<&str>,
        allowed_origins: Option<&[String]>,
    ) -> Result<bool> {
        let origins = allowed_origins
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| super::StoreError::Corrupt(e.to_string()))?;
        let _w = self.writer().await;
        let done = sqlx::query(
            "update sites set name = coalesce($3, name), \
             allowed_origins = coalesce($4, allowed_origins) where id = $1 and account_id = $2",
        )
        .bind(site_id)
        .bind(account_id)
        .bind(name)
        .bind(origins)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Gives a site a new public key; the old one stops working at once. Returns the new key.
    pub async fn rotate_site_key(&self, account_id: &str, site_id: &str) -> Result<Option<String>> {
        let key = new_token("site_");
        let _w = self.writer().await;
        let done = sqlx::query("update sites set site_key = $3 where id = $1 and account_id = $2")
            .bind(site_id)
            .bind(account_id)
            .bind(&key)
            .execute(&self.pool)
            .await?;
        Ok((done.rows_affected() > 0).then_some(key))
    }

    /// Every account's id, oldest first.
    pub async fn account_ids(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("select id from accounts order by created_at, id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| super::col(r, "id")).collect()
    }

    /// The id of the single account (callers check there is exactly one).
    pub async fn only_account_id(&self) -> Result<String> {
        let row = sqlx::query("select id from accounts order by created_at limit 1")
            .fetch_one(&self.pool)
            .await?;
        super::col(&row, "id")
    }
}
