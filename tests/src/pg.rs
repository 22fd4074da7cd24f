//! Services for the backend tests. The URLs come from the environment; when unset the tests
//! that need them print a loud SKIPPED line and return (CI always sets them).

use anyhow::Result;
use sqlx::any::AnyPoolOptions;
use sqlx::Executor;

/// `CONCIERGE_TEST_POSTGRES_URL`, e.g. `postgres://postgres@127.0.0.1:5432/test`.
pub fn postgres_url() -> Option<String> {
    std::env::var("CONCIERGE_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// `CONCIERGE_TEST_REDIS_URL`, e.g. `redis://127.0.0.1:6379`.
pub fn redis_url() -> Option<String> {
    std::env::var("CONCIERGE_TEST_REDIS_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

pub fn skip(test: &str, var: &str) {
    eprintln!("\n*** SKIPPED {test}: {var} is not set (CI sets it; see README) ***\n");
}

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
        let url = match admin_url.rfind('/') {
            Some(i)
                if admin_url[..i].contains("://") && i > admin_url.find("://").unwrap_or(0) + 2 =>
            {
                let (base, rest) = admin_url.split_at(i);
                let query = rest.find('?').map(|q| &rest[q..]).unwrap_or("");
                format!("{base}/{name}{query}")
            }
            _ => format!("{admin_url}/{name}"),
        };
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
