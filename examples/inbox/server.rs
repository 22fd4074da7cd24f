//! The server under test, in this process: `Application::build` on port 0 with a temp data dir
//! and either the default SQLite file or a fresh Postgres database, one site on the unlimited
//! plan, and an agent with a bearer token.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use concierge::app::Application;
use concierge::config::Config;
use secrecy::SecretString;
use sqlx::any::AnyPoolOptions;
use sqlx::Executor;
use tokio::sync::oneshot;

/// A fresh Postgres database next to the one `admin_url` names; dropped by [`PgDatabase::drop`].
pub struct PgDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl PgDatabase {
    pub async fn create(admin_url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let name = format!("concierge_inbox_{}", uuid::Uuid::new_v4().simple());
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(admin_url)
            .await
            .context("connecting to --postgres")?;
        pool.execute(format!("create database {name}").as_str())
            .await?;
        pool.close().await;
        let mut url = url::Url::parse(admin_url).context("--postgres is not a URL")?;
        url.set_path(&name);
        Ok(PgDatabase {
            url: url.to_string(),
            admin_url: admin_url.to_string(),
            name,
        })
    }

    pub async fn drop(self) -> Result<()> {
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

/// A running server and what the benchmark needs to talk to it and to its database.
pub struct Server {
    pub addr: SocketAddr,
    pub database_url: String,
    pub site_id: String,
    pub agent_id: String,
    pub token: String,
    data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<Result<()>>,
}

impl Server {
    /// `database_url`: `None` for the SQLite default in the temp data dir.
    pub async fn start(database_url: Option<&str>) -> Result<Server> {
        let data_dir =
            std::env::temp_dir().join(format!("concierge-inbox-{}", uuid::Uuid::new_v4()));
        let mut config = Config {
            listen: "127.0.0.1:0".into(),
            data_dir: data_dir.clone(),
            database_url: database_url.map(|u| SecretString::from(u.to_string())),
            log: "warn".into(),
            ..Config::default()
        };
        // Only the REST API is measured: no embedding model loading in the background.
        config.rag.preload_model = false;
        // One client sends every request of the run; the REST limits are meant for people.
        config.limits.api_requests_per_token_per_minute = 1_000_000;
        config.limits.api_requests_per_ip_per_minute = 1_000_000;
        let database_url = config.database_url();
        let application = Application::build(config).await?;
        let addr = application.local_addr()?;
        let app = application.app();
        let store = &app.chat.store;
        let site = concierge::accounts::create_site(store, "Inbox bench", &["*".to_string()], None)
            .await?;
        store
            .set_account_plan(&site.account_id, "enterprise")
            .await?;
        let email = "inbox-bench@shop.example";
        let (agent, _) =
            concierge::accounts::create_agent(store, email, Some("Sam"), "agent", &site.site_key)
                .await?;
        let (_, token) = concierge::accounts::issue_token(store, email).await?;
        let (stop, stopped) = oneshot::channel();
        let handle = tokio::spawn(application.run_until(async {
            let _ = stopped.await;
        }));
        Ok(Server {
            addr,
            database_url,
            site_id: site.id,
            agent_id: agent.id,
            token,
            data_dir,
            stop: Some(stop),
            handle,
        })
    }

    /// Leaves the server running (a timed-out query would make a graceful stop wait for it)
    /// and removes its data dir; the process exits soon after.
    pub fn abandon(self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        std::mem::forget(self.stop);
    }

    /// Stops the server and removes its data dir.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = self.handle.await;
        let _ = std::fs::remove_dir_all(&self.data_dir);
        served??;
        Ok(())
    }
}
