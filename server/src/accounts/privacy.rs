//! GDPR tooling: export everything about a visitor, erase a visitor, and each site's retention
//! (conversations older than N days deleted by a background sweep). Exports and erasures are
//! audited by visitor id and counts, never with the content.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::audit::{self, Actor, AuditAction};
use super::AccountsError;
use crate::store::{now_ms, Erased, Site, Store};

/// Longest retention an owner may set (ten years).
pub const MAX_RETENTION_DAYS: i64 = 3_650;

/// Everything stored about a visitor of the site (audited).
pub async fn export_visitor(
    store: &Store,
    site: &Site,
    visitor_id: &str,
    actor: &Actor,
) -> Result<Value, AccountsError> {
    let export = store
        .visitor_export(&site.id, visitor_id)
        .await?
        .ok_or(AccountsError::NotFound("visitor"))?;
    let conversations = export["conversations"].as_array().map_or(0, Vec::len);
    audit::record(
        store,
        &site.account_id,
        actor,
        AuditAction::VisitorExported,
        Some(visitor_id),
        json!({"site_key": site.site_key, "conversations": conversations}),
    )
    .await;
    Ok(export)
}

/// Erases a visitor of the site and everything about them (audited without the content).
pub async fn erase_visitor(
    store: &Store,
    site: &Site,
    visitor_id: &str,
    actor: &Actor,
) -> Result<Erased, AccountsError> {
    let erased = store
        .erase_visitor(&site.id, visitor_id)
        .await?
        .ok_or(AccountsError::NotFound("visitor"))?;
    audit::record(
        store,
        &site.account_id,
        actor,
        AuditAction::VisitorErased,
        Some(visitor_id),
        json!({"site_key": site.site_key, "erased": erased}),
    )
    .await;
    Ok(erased)
}

/// The visitor id behind a site's own user id (signed identities), for the CLI.
pub async fn visitor_of_user(
    store: &Store,
    site: &Site,
    user_id: &str,
) -> Result<String, AccountsError> {
    store
        .visitor_by_external_id(&site.id, user_id)
        .await?
        .map(|v| v.visitor.id)
        .ok_or(AccountsError::NotFound("visitor with that user id"))
}

/// Sets a site's retention (None: keep forever), audited.
pub async fn set_retention(
    store: &Store,
    site: &Site,
    days: Option<i64>,
    actor: &Actor,
) -> Result<(), AccountsError> {
    if days.is_some_and(|d| !(1..=MAX_RETENTION_DAYS).contains(&d)) {
        return Err(AccountsError::BadInput(format!(
            "retention_days is 1 to {MAX_RETENTION_DAYS}, or null to keep conversations"
        )));
    }
    store.set_retention_days(&site.id, days).await?;
    audit::record(
        store,
        &site.account_id,
        actor,
        AuditAction::SettingsChanged,
        Some(&site.site_key),
        json!({"setting": "retention_days", "value": days}),
    )
    .await;
    Ok(())
}

/// One retention sweep over every site that has one; returns what was deleted.
pub async fn sweep_retention(store: &Store) -> Result<Erased, AccountsError> {
    let mut total = Erased::default();
    for (site_id, days) in store.retention_sites().await? {
        let before = now_ms() - days * 86_400_000;
        loop {
            let e = store
                .delete_stale_conversations(&site_id, before, 200)
                .await?;
            total.conversations += e.conversations;
            total.messages += e.messages;
            total.tickets += e.tickets;
            total.visitors += e.visitors;
            if e.conversations == 0 {
                break;
            }
        }
    }
    Ok(total)
}

/// Sweeps every `every` until shutdown (the first sweep a minute after start).
pub fn spawn_retention(store: Arc<Store>, every: Duration, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(60), every);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => match sweep_retention(&store).await {
                    Ok(e) if e.conversations > 0 => tracing::info!(conversations = e.conversations, messages = e.messages, "retention: old conversations deleted"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
                },
            }
        }
    });
}
