//! Application: builds every component from the config, binds its own listener (port 0 works)
//! and the private metrics listener when configured, serves until told to stop, then shuts
//! down gracefully.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::accounts::mail::{LogMailer, Mailer, SmtpMailer};
use crate::bot::Bot;
use crate::bus::{Bus, Hub, LocalBus, RedisBus};
use crate::chat::Chat;
use crate::config::Config;
use crate::escalation::{Escalations, Presence};
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::rag::index::{EdgeIndex, QdrantIndex, VectorIndex};
use crate::rag::llm::{Llm, LlmConfig, OpenAiLlm};
use crate::rag::{Knowledge, ModelSource};
use crate::store::Store;
use crate::turn::Turns;
use crate::widget::installs::Installs;

/// State shared by every handler and socket.
pub struct App {
    pub config: Config,
    /// The conversation service, with the store, bus, limits and metrics it uses.
    pub chat: Arc<Chat>,
    /// The knowledge base: documents, retrieval, ingestion jobs.
    pub knowledge: Arc<Knowledge>,
    /// Answers visitors from the knowledge base ("Ask your docs" too).
    pub bot: Arc<Bot>,
    /// Each visitor message's turn: assess, decide (answer or hand over), act.
    pub turns: Arc<Turns>,
    /// Sentiment, escalation policy, tickets, agent presence.
    pub escalations: Arc<Escalations>,
    /// This node's local subscribers; sockets subscribe here, the bus delivers here.
    pub hub: Arc<Hub>,
    /// Cancelled on SIGTERM: the listener stops accepting and every socket closes with 1012.
    pub shutdown: CancellationToken,
    /// Open sockets, so shutdown can wait for their final writes.
    pub sessions: TaskTracker,
    /// Identifies this node on the cross-node bus.
    pub node_id: String,
    /// Mails invitation and reset links (SMTP, or the log when none is configured).
    pub mailer: Arc<dyn Mailer>,
    /// The origins visitor sockets came from lately, so each is written once a minute at most.
    pub installs: Installs,
}

pub struct Application {
    listener: TcpListener,
    /// Serves only `/metrics`, without a token (`metrics_listen`), so the scraper can reach
    /// the numbers on an address the public cannot.
    metrics_listener: Option<TcpListener>,
    app: Arc<App>,
}

impl Application {
    /// Connects and migrates the database, connects the bus, binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
        let store = Arc::new(
            Store::connect(&config.database_url())
                .await
                .context("connecting to the database (CONCIERGE_DATABASE_URL)")?,
        );
        store
            .migrate()
            .await
            .context("applying database migrations")?;
        let hub = Hub::new();
        let shutdown = CancellationToken::new();
        let node_id = uuid::Uuid::new_v4().to_string();
        let (bus, limits_redis): (Arc<dyn Bus>, _) = match config.redis_url() {
            Some(url) => {
                let bus = RedisBus::connect(&url, hub.clone(), node_id.clone(), shutdown.clone())
                    .await
                    .context("connecting to Redis (CONCIERGE_REDIS_URL)")?;
                let client = redis::Client::open(url.as_str())?;
                let conn = redis::aio::ConnectionManager::new_with_config(
                    client,
                    redis::aio::ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(Duration::from_secs(1)))
                        .set_response_timeout(Some(Duration::from_millis(500)))
                        .set_number_of_retries(1),
                )
                .await
                .context("connecting to Redis for shared limits")?;
                (bus, Some(conn))
            }
            None => (Arc::new(LocalBus::new(hub.clone())), None),
        };
        let limits = Limits::new(config.limits.clone(), limits_redis);
        spawn_limits_janitor(limits.clone(), shutdown.clone());
        let listener = TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("binding {} (CONCIERGE_LISTEN)", config.listen))?;
        let metrics_listener = match config.metrics_listen.as_deref().filter(|a| !a.is_empty()) {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding {addr} (CONCIERGE_METRICS_LISTEN)"))?,
            ),
            None => None,
        };
        let knowledge = Arc::new(build_knowledge(&config, store.clone(), bus.clone()).await?);
        let chat = Arc::new(Chat {
            store,
            bus,
            limits,
            metrics: Arc::new(Metrics::default()),
        });
        let presence = Arc::new(Presence::new(node_id.clone()));
        let mut escalations = Escalations::new(chat.clone(), knowledge.clone(), presence);
        escalations.live = true;
        let escalations = Arc::new(escalations);
        let bot = Arc::new(Bot::new(chat.clone(), knowledge.clone()));
        let turns = Arc::new(Turns::new(bot.clone(), escalations.clone()));
        let mailer: Arc<dyn Mailer> = match &config.smtp_url {
            Some(url) => Arc::new(
                SmtpMailer::new(url.expose_secret(), &config.smtp_from)
                    .context("setting up mail (CONCIERGE_SMTP_URL, CONCIERGE_SMTP_FROM)")?,
            ),
            None => Arc::new(LogMailer),
        };
        let app = Arc::new(App {
            config,
            chat,
            knowledge,
            bot,
            turns,
            escalations,
            hub,
            shutdown,
            sessions: TaskTracker::new(),
            node_id,
            mailer,
            installs: Installs::new(),
        });
        Ok(Application {
            listener,
            metrics_listener,
            app,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The private metrics listener's address, when `metrics_listen` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// The private metrics listener's port, when `metrics_listen` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_addr().map(|a| a.port())
    }

    pub fn app(&self) -> Arc<App> {
        self.app.clone()
    }

    /// Serves until `stop` resolves (or `App::shutdown` is cancelled), then closes every socket
    /// with 1012 and waits up to the grace period for their last writes.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let app = self.app;
        let token = app.shutdown.clone();
        tokio::spawn(async move {
            stop.await;
            token.cancel();
        });
        let worker = tokio::spawn(app.knowledge.clone().run_worker(app.shutdown.clone()));
        crate::accounts::privacy::spawn_retention(
            app.chat.store.clone(),
            Duration::from_secs(3_600),
            app.shutdown.clone(),
        );
        app.escalations
            .presence
            .clone()
            .spawn_refresher(app.chat.store.clone(), app.shutdown.clone());
        let mut preload = None;
        if app.config.rag.preload_model {
            // Load the model (and check the escalation classifier against it) now rather
            // than on the first question.
            let knowledge = app.knowledge.clone();
            let escalations = app.escalations.clone();
            preload = Some(tokio::spawn(async move {
                if let Err(e) = knowledge.embedder().await {
                    tracing::error!(error = %e, "embedding model unavailable; answers and ingestion will fail until it loads");
                    return;
                }
                escalations.model().await;
            }));
        }
        let metrics_server = self.metrics_listener.map(|listener| {
            let router = crate::http::metrics::router(app.clone());
            let stop = app.shutdown.clone().cancelled_owned();
            tokio::spawn(
                axum::serve(listener, router)
                    .with_graceful_shutdown(stop)
                    .into_future(),
            )
        });
        let router = crate::http::router(app.clone());
        // Chat frames are small and latency-bound: without TCP_NODELAY an ack followed by the
        // echo of the same message waits for the client's delayed ACK (Nagle).
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "TCP_NODELAY not set");
            }
        });
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(app.shutdown.clone().cancelled_owned())
        .await
        .context("serving")?;
        if let Some(server) = metrics_server {
            if let Ok(Err(e)) = server.await {
                tracing::warn!(error = %e, "metrics listener");
            }
        }
        app.sessions.close();
        app.bot.tasks.close();
        let grace = Duration::from_secs(app.config.shutdown_grace_secs);
        let drained = async {
            app.sessions.wait().await;
            app.bot.tasks.wait().await;
            let _ = worker.await;
            // A process must not exit while ONNX Runtime runs on another thread: its static
            // teardown under a running session crashes the process (SIGSEGV seen when SIGTERM
            // came during a long start-up embedding).
            if let Some(preload) = preload {
                let _ = preload.await;
            }
        };
        if tokio::time::timeout(grace, drained).await.is_err() {
            tracing::warn!(
                open = app.sessions.len(),
                "sockets still open after the grace period"
            );
        }
        app.chat.store.close().await;
        Ok(())
    }
}

/// The vector index (embedded unless a Qdrant server is configured), the LLM (if configured)
/// and the knowledge service on top.
pub async fn build_knowledge(
    config: &Config,
    store: Arc<Store>,
    bus: Arc<dyn Bus>,
) -> anyhow::Result<Knowledge> {
    let dim = crate::rag::embed::DIM;
    let index: Arc<dyn VectorIndex> = match &config.qdrant_url {
        Some(url) => Arc::new(
            QdrantIndex::connect(
                url,
                config
                    .qdrant_api_key
                    .as_ref()
                    .map(|k| k.expose_secret().to_string()),
                "concierge_chunks",
                dim,
            )
            .await
            .context("connecting to Qdrant (CONCIERGE_QDRANT_URL)")?,
        ),
        None => {
            let dir = config.data_dir.join("index");
            Arc::new(
                EdgeIndex::open(&dir, dim)
                    .with_context(|| format!("opening the vector index in {}", dir.display()))?,
            )
        }
    };
    let llm: Option<Arc<dyn Llm>> = config.llm_base_url.as_ref().map(|url| {
        Arc::new(OpenAiLlm::new(LlmConfig {
            base_url: url.clone(),
            model: config.llm_model.clone(),
            api_key: config
                .llm_api_key
                .as_ref()
                .map(|k| k.expose_secret().to_string()),
            first_token_timeout: Duration::from_millis(config.rag.llm_first_token_timeout_ms),
            idle_timeout: Duration::from_millis(config.rag.llm_idle_timeout_ms),
            max_tokens: config.rag.llm_max_tokens,
        })) as Arc<dyn Llm>
    });
    Ok(Knowledge::new(
        store,
        bus,
        index,
        llm,
        config.rag.clone(),
        model_source(config),
    ))
}

/// Where the embedding model comes from, per the configuration.
pub fn model_source(config: &Config) -> ModelSource {
    ModelSource {
        cache_dir: config.model_cache(),
        model_dir: config.model_dir.clone(),
        ort_dylib: config.ort_dylib.clone(),
        threads: config.rag.embed_threads,
    }
}

fn spawn_limits_janitor(limits: Arc<Limits>, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => limits.forget_idle(),
            }
        }
    });
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received");
}
