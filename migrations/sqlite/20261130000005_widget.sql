-- The embeddable widget: each site's look and settings, the secret that signs visitor
-- identities, and identified visitors. Times are unix milliseconds.

create table widget_settings (
    site_id          text primary key references sites(id),
    -- JSON of the owner's widget settings (protocol WidgetConfig without site_name);
    -- null means the defaults.
    config           text,
    -- Hex of 32 random bytes: the HMAC-SHA256 key a site's backend signs user ids with.
    -- Kept in clear (verifying needs the key itself); null until the owner first asks for it.
    identity_secret  text,
    updated_at       integer not null
);

-- A visitor the host page vouched for (signed identity): the site's own user id, and the
-- contact details the page passed along. Null for anonymous visitors.
alter table visitors add column external_id text;
alter table visitors add column email text;
alter table visitors add column name text;
-- One visitor per user id and site, on every device (nulls never collide).
create unique index visitors_external on visitors(site_id, external_id);
