-- Knowledge base: documents, their chunks (with full-text search), ingestion jobs,
-- knowledge gaps and LLM usage. Times are unix milliseconds (UTC).

-- Citations of a bot answer, a JSON array of protocol `Source`s.
alter table messages add column sources text;

create table documents (
    id            text primary key,
    site_id       text not null references sites(id),
    -- The owner-facing id: a path relative to the ingested directory, or the page URL.
    doc_key       text not null,
    title         text not null,
    url           text,
    kind          text not null check (kind in ('markdown', 'html', 'text', 'pdf')),
    -- sha256 of the raw bytes: identical content is not embedded twice.
    content_hash  text not null,
    bytes         bigint not null,
    chunk_count   bigint not null,
    -- 0 between the chunks' commit and their vector upsert; documents left at 0 by a crash are
    -- re-embedded from their stored chunks at start-up.
    indexed       bigint not null default 0,
    created_at    bigint not null,
    updated_at    bigint not null,
    unique (site_id, doc_key)
);

-- The id is the point id in the vector index.
create table chunks (
    id            bigserial primary key,
    site_id       text not null references sites(id),
    document_id   text not null references documents(id) on delete cascade,
    ordinal       bigint not null,
    -- "Title › Section › Sub": embedded with the text, shown as the citation's section.
    heading       text not null,
    text          text not null,
    -- Where in the source: "lines 3-20", "page 2", "#install".
    location      text not null,
    created_at    bigint not null,
    -- Full-text search: the heading weighs more than the body.
    tsv           tsvector generated always as (
        setweight(to_tsvector('english', heading), 'A') || setweight(to_tsvector('english', text), 'B')
    ) stored
);
create index chunks_document on chunks(site_id, document_id, ordinal);
create index chunks_tsv on chunks using gin(tsv);

create table ingest_jobs (
    id          text primary key,
    site_id     text not null references sites(id),
    status      text not null check (status in ('queued', 'processing', 'ready', 'failed')),
    total       bigint not null,
    done        bigint not null default 0,
    failed      bigint not null default 0,
    error       text,
    -- The node working on it and its last heartbeat: a job whose heartbeat is stale is
    -- taken over by another node (or by this one after a restart).
    claimed_by  text,
    heartbeat_at bigint,
    created_at  bigint not null,
    updated_at  bigint not null
);
create index ingest_jobs_queue on ingest_jobs(status, created_at);
create index ingest_jobs_site on ingest_jobs(site_id, created_at);

create table ingest_items (
    job_id      text not null references ingest_jobs(id) on delete cascade,
    ordinal     bigint not null,
    site_id     text not null references sites(id),
    doc_key     text not null,
    -- 'file' (bytes below), 'url' (one page) or 'sitemap' (expands into pages).
    source      text not null check (source in ('file', 'url', 'sitemap')),
    name        text not null,
    payload     bytea,
    status      text not null check (status in ('queued', 'ready', 'unchanged', 'failed')),
    error       text,
    chunk_count bigint,
    updated_at  bigint not null,
    primary key (job_id, ordinal)
);

create table knowledge_gaps (
    id              text primary key,
    site_id         text not null references sites(id),
    conversation_id text,
    question        text not null,
    -- Best retrieval similarity seen for the question (cosine, -1..1).
    best_score      double precision not null,
    created_at      bigint not null
);
create index knowledge_gaps_site on knowledge_gaps(site_id, created_at);

create table llm_usage (
    site_id            text not null references sites(id),
    -- UTC day, YYYY-MM-DD.
    day                text not null,
    requests           bigint not null default 0,
    prompt_tokens      bigint not null default 0,
    completion_tokens  bigint not null default 0,
    primary key (site_id, day)
);
