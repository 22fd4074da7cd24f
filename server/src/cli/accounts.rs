//! `concierge account ...` and `concierge plan ...`: tenants and their plans, for operators.
//! (Billing is out of scope: an operator moves an account to a plan by hand.)

use clap::Subcommand;
use serde_json::{json, Value};

use super::{with_store, CmdResult};
use crate::accounts::{self, plans, privacy, AccountsError, Actor};
use crate::config::Config;
use crate::store::PlanRecord;

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account (a tenant); prints its id. New accounts start on the free plan.
    Create {
        #[arg(long)]
        name: String,
        /// The plan (see `concierge plan list`).
        #[arg(long)]
        plan: Option<String>,
    },
    /// Move an account to a plan.
    Plan {
        #[arg(long)]
        account: String,
        #[arg(long)]
        plan: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum VisitorCommand {
    /// Print everything stored about a visitor as JSON (audited).
    Export(VisitorArgs),
    /// Erase a visitor: messages, identity, feedback, signals, tickets, gaps (audited).
    Erase(VisitorArgs),
}

#[derive(Debug, clap::Args)]
pub struct VisitorArgs {
    /// The site's key.
    #[arg(long)]
    site: String,
    /// The visitor's id (as in the API), or...
    #[arg(long, conflicts_with = "user_id", required_unless_present = "user_id")]
    visitor: Option<String>,
    /// ...the site's own user id of a signed-in visitor.
    #[arg(long)]
    user_id: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Every plan with its limits (null: unlimited).
    List,
    /// Create a plan or change its limits: a number, or `unlimited`.
    Set {
        name: String,
        #[arg(long, value_parser = parse_limit)]
        bot_answers: Option<Limit>,
        #[arg(long, value_parser = parse_limit)]
        seats: Option<Limit>,
        #[arg(long, value_parser = parse_limit)]
        documents: Option<Limit>,
        #[arg(long, value_parser = parse_limit)]
        sites: Option<Limit>,
    },
}

/// A limit given on the command line: a number, or `unlimited` (None).
#[derive(Debug, Clone, Copy)]
pub struct Limit(Option<i64>);

fn parse_limit(s: &str) -> Result<Limit, String> {
    if s.eq_ignore_ascii_case("unlimited") {
        return Ok(Limit(None));
    }
    s.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .map(|n| Limit(Some(n)))
        .ok_or_else(|| format!("{s:?} is not a number ≥ 0 or `unlimited`"))
}

pub fn plan_json(p: &PlanRecord) -> Value {
    json!({"name": p.name, "bot_answers": p.bot_answers, "seats": p.seats,
           "documents": p.documents, "sites": p.sites})
}

pub async fn account(config: &Config, command: AccountCommand) -> CmdResult {
    match command {
        AccountCommand::Create { name, plan } => {
            with_store(config, |store| async move {
                let account = accounts::create_account(&store, &name, plan.as_deref()).await?;
                let plan = store
                    .account(&account.id)
                    .await?
                    .map(|a| a.plan)
                    .unwrap_or_default();
                Ok(json!({"account_id": account.id, "name": account.name, "plan": plan}))
            })
            .await
        }
        AccountCommand::Plan { account, plan } => {
            with_store(config, |store| async move {
                plans::set_account_plan(&store, &account, &plan, &Actor::operator()).await?;
                Ok(json!({"account_id": account, "plan": plan}))
            })
            .await
        }
    }
}

pub async fn plan(config: &Config, command: PlanCommand) -> CmdResult {
    match command {
        PlanCommand::List => {
            with_store(config, |store| async move {
                let plans: Vec<Value> = store.plans().await?.iter().map(plan_json).collect();
                Ok(json!({ "plans": plans }))
            })
            .await
        }
        PlanCommand::Set {
            name,
            bot_answers,
            seats,
            documents,
            sites,
        } => {
            with_store(config, |store| async move {
                let changes = [bot_answers, seats, documents, sites].map(|l| l.map(|Limit(v)| v));
                let plan: Result<PlanRecord, AccountsError> =
                    plans::set_plan(&store, &name, changes).await;
                Ok(plan_json(&plan?))
            })
            .await
        }
    }
}

pub async fn visitor(config: &Config, command: VisitorCommand) -> CmdResult {
    let (args, erase) = match command {
        VisitorCommand::Export(a) => (a, false),
        VisitorCommand::Erase(a) => (a, true),
    };
    with_store(config, |store| async move {
        let site = store
            .site_by_key(&args.site)
            .await?
            .ok_or_else(|| AccountsError::UnknownSite(args.site.clone()))?;
        let visitor_id = match (&args.visitor, &args.user_id) {
            (Some(v), _) => v.clone(),
            (None, Some(u)) => privacy::visitor_of_user(&store, &site, u).await?,
            (None, None) => return Err(AccountsError::BadInput("--visitor or --user-id".into())),
        };
        let actor = Actor::operator();
        if erase {
            let erased = privacy::erase_visitor(&store, &site, &visitor_id, &actor).await?;
            Ok(json!({"visitor_id": visitor_id, "erased": erased}))
        } else {
            privacy::export_visitor(&store, &site, &visitor_id, &actor).await
        }
    })
    .await
}
