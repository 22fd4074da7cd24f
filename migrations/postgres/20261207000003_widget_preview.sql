-- Unsaved widget settings an owner is previewing in the dashboard: the preview frame loads the
-- real widget with the key `preview~TOKEN`, which reads this draft instead of the saved
-- settings. Short-lived (see expires_at, unix milliseconds); any node can serve the preview.
create table widget_previews (
    token       text primary key,
    site_id     text not null references sites(id),
    config      text not null,
    expires_at  bigint not null
);
create index widget_previews_site on widget_previews (site_id);
