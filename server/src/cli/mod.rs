//! The `concierge` command line. Every command takes `--json` and then prints exactly one JSON
//! object on stdout (errors included: `{"error": {"code", "message"}}`), for scripts.
//!
//! Commands other than `serve` open the configured database directly: SQLite handles a CLI
//! writer next to a running server (WAL + busy timeout), Postgres is shared by design.

mod accounts;
mod kb;
mod triage;

use clap::{Parser, Subcommand};
use serde_json::{json, Value};

use crate::accounts::{self as accounts_service, AccountsError};
use crate::app::{shutdown_signal, Application};
use crate::config::Config;
use crate::rag::SearchMode;
use crate::store::{Role, Store};

#[derive(Debug, Parser)]
#[command(
    name = "concierge",
    version,
    about = "Self-hosted support chat: widget, agents, knowledge base"
)]
pub struct Cli {
    /// Print exactly one JSON object on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (HTTP API, websockets).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage accounts (tenants) and their plans.
    #[command(subcommand)]
    Account(accounts::AccountCommand),
    /// Manage plans (limits per month: bot answers; and seats, documents, sites).
    #[command(subcommand)]
    Plan(accounts::PlanCommand),
    /// A visitor's data: export it, or erase it (GDPR).
    #[command(subcommand)]
    Visitor(accounts::VisitorCommand),
    /// Manage sites.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Manage agents.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Add documents to a site's knowledge base: files, directories (every supported file,
    /// keyed by its relative path), page URLs or sitemap.xml URLs.
    Ingest {
        /// The site's key.
        #[arg(long)]
        site: String,
        /// Paths or URLs.
        #[arg(required = true)]
        sources: Vec<String>,
    },
    /// Search a site's knowledge base as the bot does. Without a question, reads one question
    /// per line from stdin and writes one JSON line per question.
    Search {
        #[arg(long)]
        site: String,
        /// Results per question.
        #[arg(long, default_value_t = 5)]
        k: usize,
        /// hybrid (what the bot uses), dense or lexical.
        #[arg(long, value_enum, default_value = "hybrid")]
        mode: SearchMode,
        question: Option<String>,
    },
    /// Replay visitor turns through a site's escalation policy, as live traffic would run
    /// it. Reads JSON lines `{"conversation_id": ..., "text": ...}` (visitor turns in order)
    /// from stdin; writes one line per input (JSON lines with --json: conversation_id,
    /// sentiment, intents, escalate, reasons, priority, vader, mood, negative,
    /// already_escalated, and answered when the site has documents).
    Triage {
        /// The site whose policy (and documents, for the bot's failures) to use; without it,
        /// the default policy and no knowledge base.
        #[arg(long)]
        site: Option<String>,
    },
    /// Manage the embedding model.
    #[command(subcommand)]
    Model(ModelCommand),
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Fetch (or verify) the pinned model and ONNX Runtime and load the model once.
    Fetch,
}

#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Create a site; prints its public key.
    Create {
        #[arg(long)]
        name: String,
        /// Allowed page origin (repeatable): https://example.com, http://localhost:*, or *.
        #[arg(long = "origin", required = true)]
        origins: Vec<String>,
        /// Account to own the site (default: a new account of its own, on the free plan).
        #[arg(long)]
        account: Option<String>,
    },
    /// List every site: key, name, allowed origins.
    List,
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Create an agent in the account of a site; prints a one-time password.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: Role,
        /// The site key of a site in the agent's account.
        #[arg(long)]
        site: String,
        /// Display name shown to visitors (default: the email's local part).
        #[arg(long)]
        name: Option<String>,
    },
    /// Print a new bearer token for the agent socket and API.
    Token {
        #[arg(long)]
        email: String,
    },
}

/// Runs a parsed command; returns the process exit code.
pub async fn run(cli: Cli, config: Config) -> i32 {
    let json = cli.json;
    let result = match cli.command {
        Command::Serve => {
            // `serve` prints its one object when it starts listening, not when it stops.
            return match serve(config, json).await {
                Ok(()) => 0,
                Err((code, message)) => {
                    report_error(json, &code, &message);
                    1
                }
            };
        }
        Command::Account(c) => accounts::account(&config, c).await,
        Command::Plan(c) => accounts::plan(&config, c).await,
        Command::Visitor(c) => accounts::visitor(&config, c).await,
        Command::Migrate => with_store(&config, |_| async { Ok(json!({"migrated": true})) }).await,
        Command::Site(SiteCommand::Create {
            name,
            origins,
            account,
        }) => with_store(&config, |store| async move {
            let site =
                accounts_service::create_site(&store, &name, &origins, account.as_deref()).await?;
            Ok(
                json!({"site_key": site.site_key, "site_id": site.id, "account_id": site.account_id,
                          "name": site.name, "allowed_origins": site.allowed_origins}),
            )
        })
        .await,
        Command::Site(SiteCommand::List) => {
            with_store(&config, |store| async move {
                let mut sites = Vec::new();
                for account in store.account_ids().await? {
                    for site in store.sites_for_account(&account).await? {
                        sites.push(json!({"site_key": site.site_key, "name": site.name,
                                      "account_id": site.account_id,
                                      "allowed_origins": site.allowed_origins}));
                    }
                }
                Ok(json!({ "sites": sites }))
            })
            .await
        }
        Command::Agent(AgentCommand::Create {
            email,
            role,
            site,
            name,
        }) => {
            with_store(&config, |store| async move {
                let (agent, password) = accounts_service::create_agent(
                    &store,
                    &email,
                    name.as_deref(),
                    role.as_str(),
                    &site,
                )
                .await?;
                Ok(
                    json!({"agent_id": agent.id, "email": agent.email, "role": agent.role.as_str(),
                          "password": password}),
                )
            })
            .await
        }
        Command::Ingest { site, sources } => kb::ingest(&config, json, &site, &sources).await,
        Command::Search {
            site,
            k,
            mode,
            question,
        } => {
            let bulk = question.is_none();
            let result = kb::search(&config, json, &site, k, mode, question).await;
            if bulk && result.is_ok() {
                return 0; // bulk mode already wrote its JSON lines
            }
            result
        }
        Command::Model(ModelCommand::Fetch) => kb::fetch_model(&config).await,
        Command::Triage { site } => match triage::run(&config, json, site.as_deref()).await {
            Ok(()) => return 0, // one line per input is already written
            Err(e) => Err(e),
        },
        Command::Agent(AgentCommand::Token { email }) => {
            with_store(&config, |store| async move {
                let (agent, token) = accounts_service::issue_token(&store, &email).await?;
                Ok(json!({"token": token, "agent_id": agent.id, "email": agent.email}))
            })
            .await
        }
    };
    match result {
        Ok(value) => {
            if json {
                println!("{value}");
            } else {
                print_human(&value);
            }
            0
        }
        Err((code, message)) => {
            report_error(json, &code, &message);
            1
        }
    }
}

fn report_error(json: bool, code: &str, message: &str) {
    if json {
        println!("{}", json!({"error": {"code": code, "message": message}}));
    } else {
        eprintln!("error: {message}");
    }
}

pub(crate) type CmdResult = Result<Value, (String, String)>;

fn fail(e: AccountsError) -> (String, String) {
    (e.code().to_string(), e.to_string())
}

pub(crate) async fn with_store<F, Fut>(config: &Config, f: F) -> CmdResult
where
    F: FnOnce(std::sync::Arc<Store>) -> Fut,
    Fut: std::future::Future<Output = Result<Value, AccountsError>>,
{
    let store = open_store(config).await?;
    let out = f(store.clone()).await.map_err(fail);
    store.close().await;
    out
}

pub(crate) async fn open_store(config: &Config) -> Result<std::sync::Arc<Store>, (String, String)> {
    let internal =
        |what: &str, e: &dyn std::fmt::Display| ("internal".to_string(), format!("{what}: {e}"));
    std::fs::create_dir_all(&config.data_dir).map_err(|e| internal("creating the data dir", &e))?;
    let store = Store::connect(&config.database_url())
        .await
        .map_err(|e| internal("connecting to the database", &e))?;
    store
        .migrate()
        .await
        .map_err(|e| internal("migrating the database", &e))?;
    Ok(std::sync::Arc::new(store))
}

async fn serve(config: Config, json: bool) -> Result<(), (String, String)> {
    let internal = |e: anyhow::Error| ("internal".to_string(), format!("{e:#}"));
    let application = Application::build(config).await.map_err(internal)?;
    let app = application.app();
    let addr = application.local_addr().map_err(|e| internal(e.into()))?;
    let demo = accounts_service::bootstrap_demo(&app.chat.store)
        .await
        .map_err(fail)?;
    let mut started = json!({"listening": addr.to_string(), "bus": app.chat.bus.name()});
    if let Some(metrics) = application.metrics_addr() {
        started["metrics_listening"] = json!(metrics.to_string());
    }
    if let Some(demo) = demo {
        started["demo"] = json!({
            "site_key": demo.site.site_key,
            "allowed_origins": demo.site.allowed_origins,
            "owner_email": demo.owner.email,
            "owner_password": demo.password,
            "owner_token": demo.token,
        });
    }
    tracing::info!(%addr, bus = app.chat.bus.name(), "concierge listening");
    if json {
        // The one JSON object of `serve --json`: printed once the server accepts connections.
        println!("{started}");
    } else {
        print_human(&started);
    }
    application
        .run_until(shutdown_signal())
        .await
        .map_err(internal)
}

pub(crate) fn print_human(value: &Value) {
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) => println!("{k}: {s}"),
                    Value::Object(_) => {
                        println!("{k}:");
                        if let Value::Object(inner) = v {
                            for (ik, iv) in inner {
                                println!(
                                    "  {ik}: {}",
                                    iv.as_str()
                                        .map(str::to_string)
                                        .unwrap_or_else(|| iv.to_string())
                                );
                            }
                        }
                    }
                    other => println!("{k}: {other}"),
                }
            }
        }
        other => println!("{other}"),
    }
}
