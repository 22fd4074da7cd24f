-- What the dashboard's console needs from the knowledge base and the install screen: gaps an
-- owner dismissed, the originals of uploaded documents (to re-index them), live progress of
-- the items being embedded, and the origins the widget connected from. Times are unix
-- milliseconds (UTC).

-- A group of knowledge gaps (one question, however worded) an owner dismissed: hidden until
-- the question is asked again after `dismissed_at`. `gap_key` is the sha256 (hex) of the
-- normalized question.
create table knowledge_gap_dismissals (
    site_id       text not null references sites(id),
    gap_key       text not null,
    dismissed_by  text,
    dismissed_at  integer not null,
    primary key (site_id, gap_key)
);

-- The original bytes of each uploaded document (URL documents are fetched again instead),
-- kept from this version on so a document can be re-indexed.
create table document_sources (
    site_id     text not null references sites(id),
    doc_key     text not null,
    -- The file name, which decides how the bytes are read (.md, .html, .pdf ...).
    name        text not null,
    payload     blob not null,
    updated_at  integer not null,
    primary key (site_id, doc_key)
);

-- 1: process the item even when its content is unchanged (a re-index).
alter table ingest_items add column forced integer not null default 0;
-- Chunks to embed and embedded so far, while the item is being processed.
alter table ingest_items add column chunks_total integer;
alter table ingest_items add column chunks_done integer;

-- Each origin the widget's visitor sockets came from, accepted or refused ("Check
-- installation"). Written at most once a minute per origin and server.
create table site_origins (
    site_id        text not null references sites(id),
    origin         text not null,
    first_seen_at  integer not null,
    last_seen_at   integer not null,
    connections    integer not null default 0,
    primary key (site_id, origin)
);
