//! The widget's per-site settings (look, identity secret) and identified visitors: the ones a
//! host page vouched for with a signed user id. Every query filters by site.

use super::{col, now_ms, Result, Store, Visitor};

/// A site's `widget_settings` row; all `None` when the owner never changed anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WidgetSettingsRecord {
    /// The owner's settings as JSON; `None` means the defaults.
    pub config: Option<String>,
    /// Hex HMAC key for visitor identities; `None` until first asked for.
    pub identity_secret: Option<String>,
}

/// An identified visitor as stored, with the token hash it currently answers to.
#[derive(Debug, Clone)]
pub struct IdentifiedVisitor {
    pub visitor: Visitor,
    pub token_hash: String,
}

/// An identified visitor and what the host page told us about them.
#[derive(Debug, Clone)]
pub struct VisitorProfile {
    pub visitor: Visitor,
    pub external_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// Contact details a host page passed with a signed identity.
#[derive(Debug, Clone, Copy)]
pub struct VisitorContact<'a> {
    pub external_id: &'a str,
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
}

impl Store {
    pub async fn widget_settings(&self, site_id: &str) -> Result<WidgetSettingsRecord> {
        let row =
            sqlx::query("select config, identity_secret from widget_settings where site_id = $1")
                .bind(site_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some(r) => WidgetSettingsRecord {
                config: col(&r, "config")?,
                identity_secret: col(&r, "identity_secret")?,
            },
            None => WidgetSettingsRecord::default(),
        })
    }

    /// Replaces the site's widget settings JSON (`None`: back to the defaults).
    pub async fn set_widget_config(&self, site_id: &str, config: Option<&str>) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "insert into widget_settings (site_id, config, updated_at) values ($1, $2, $3) \
             on conflict (site_id) do update set config = excluded.config, \
             updated_at = excluded.updated_at",
        )
        .bind(site_id)
        .bind(config)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The site's identity secret, storing `candidate` if it has none yet. Two concurrent
    /// first calls agree on one secret: the second keeps the first's.
    pub async fn ensure_identity_secret(&self, site_id: &str, candidate: &str) -> Result<String> {
        let _w = self.writer().await;
        let row = sqlx::query(
            "insert into widget_settings (site_id, identity_secret, updated_at) \
             values ($1, $2, $3) on conflict (site_id) do update set identity_secret = \
             coalesce(widget_settings.identity_secret, excluded.identity_secret) \
             returning identity_secret",
        )
        .bind(site_id)
        .bind(candidate)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        col(&row, "identity_secret")
    }

    /// Replaces the site's identity secret (rotation).
    pub async fn set_identity_secret(&self, site_id: &str, secret: &str) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "insert into widget_settings (site_id, identity_secret, updated_at) \
             values ($1, $2, $3) on conflict (site_id) do update set \
             identity_secret = excluded.identity_secret, updated_at = excluded.updated_at",
        )
        .bind(site_id)
        .bind(secret)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The visitor with this external id on the site, created (as `new_id`, answering to
    /// `new_token_hash`) if there is none. Email and name are updated when given; an
    /// existing visitor keeps its id and token hash.
    pub async fn upsert_identified_visitor(
        &self,
        site_id: &str,
        contact: VisitorContact<'_>,
        new_id: &str,
        new_token_hash: &str,
    ) -> Result<IdentifiedVisitor> {
        let _w = self.writer().await;
        let row = sqlx::query(
            "insert into visitors (id, site_id, token_hash, external_id, email, name, \
             created_at, last_seen_at) values ($1, $2, $3, $4, $5, $6, $7, $7) \
             on conflict (site_id, external_id) do update set \
             email = coalesce(excluded.email, visitors.email), \
             name = coalesce(excluded.name, visitors.name), \
             last_seen_at = excluded.last_seen_at \
             returning id, token_hash",
        )
        .bind(new_id)
        .bind(site_id)
        .bind(new_token_hash)
        .bind(contact.external_id)
        .bind(contact.email)
        .bind(contact.name)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok(IdentifiedVisitor {
            visitor: Visitor {
                id: col(&row, "id")?,
                site_id: site_id.to_string(),
            },
            token_hash: col(&row, "token_hash")?,
        })
    }

    /// Points a visitor's token at a new hash (the old token stops working).
    pub async fn set_visitor_token_hash(
        &self,
        site_id: &str,
        visitor_id: &str,
        token_hash: &str,
    ) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query("update visitors set token_hash = $1 where site_id = $2 and id = $3")
            .bind(token_hash)
            .bind(site_id)
            .bind(visitor_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The visitor with this external id on the site, with the contact details stored.
    pub async fn visitor_by_external_id(
        &self,
        site_id: &str,
        external_id: &str,
    ) -> Result<Option<VisitorProfile>> {
        let row = sqlx::query(
            "select id, email, name from visitors where site_id = $1 and external_id = $2",
        )
        .bind(site_id)
        .bind(external_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(VisitorProfile {
                visitor: Visitor {
                    id: col(&r, "id")?,
                    site_id: site_id.to_string(),
                },
                external_id: external_id.to_string(),
                email: col(&r, "email")?,
                name: col(&r, "name")?,
            })
        })
        .transpose()
    }
}

/// How long a widget preview's draft stays readable (the dashboard writes a new one after
/// every change, so this only bounds how long a left-open frame keeps working).
pub const PREVIEW_TTL_MS: i64 = 2 * 60 * 60 * 1000;

/// Drafts kept per site (every change of the form makes one).
pub const PREVIEWS_KEPT: i64 = 20;

impl Store {
    /// Stores a draft widget config under `token` for the preview frame, dropping the site's
    /// expired drafts and all but its [`PREVIEWS_KEPT`] newest.
    pub async fn put_widget_preview(&self, site_id: &str, token: &str, config: &str) -> Result<()> {
        let _w = self.writer().await;
        let now = now_ms();
        // Drafts are ordered by expiry: make it strictly increasing per site, so two drafts
        // written in the same millisecond still have an order and the newest is kept.
        let latest: Option<i64> =
            sqlx::query_scalar("select max(expires_at) from widget_previews where site_id = $1")
                .bind(site_id)
                .fetch_one(&self.pool)
                .await?;
        let expires_at = latest.map_or(now + PREVIEW_TTL_MS, |l| (l + 1).max(now + PREVIEW_TTL_MS));
        // Expired drafts go, and a site keeps its newest few: a frame shows the latest one.
        sqlx::query(
            "delete from widget_previews where site_id = $1 and (expires_at < $2 or token not in \
             (select token from widget_previews where site_id = $1 \
             order by expires_at desc limit $3))",
        )
        .bind(site_id)
        .bind(now)
        .bind(PREVIEWS_KEPT - 1)
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "insert into widget_previews (token, site_id, config, expires_at) \
             values ($1, $2, $3, $4)",
        )
        .bind(token)
        .bind(site_id)
        .bind(config)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The site id and draft config of an unexpired preview.
    pub async fn widget_preview(&self, token: &str) -> Result<Option<(String, String)>> {
        let row = sqlx::query(
            "select site_id, config from widget_previews where token = $1 and expires_at >= $2",
        )
        .bind(token)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((col(&r, "site_id")?, col(&r, "config")?)))
            .transpose()
    }
}
