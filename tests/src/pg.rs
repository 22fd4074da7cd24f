//! A database of its own for each Postgres test (the server URL comes from
//! [`crate::needs::postgres`]).

use anyhow::Result;
use sqlx::any::AnyPoolOptions;
use sqlx::Executor;

/// A fresh Postgres database, dropped on [`PgDatabase::drop_now`].
pub struct PgDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl PgDatabase {
    pub async fn create(admin_url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let name = format!("concierge_test_{}", uuid::Uuid::new_v4().simple());
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(admin_url)
            .await?;
        pool.execute(format!("create database {name}").as_str())
            .await?;
        pool.close().await;
        // The same server and options, another database.
        let mut url = url::Url::parse(admin_url)?;
        url.set_path(&name);
        let url = url.to_string();
        Ok(PgDatabase {
            url,
            admin_url: admin_url.to_string(),
            name,
        })
    }

    pub async fn drop_now(self) -> Result<()> {
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&self.admin_url)
            .await?;
        pool.execute(format!("drop database if exists {} with (force)", self.name).as_str())
            .await?;
        pool.close().await;
        Ok(())
    }
}
