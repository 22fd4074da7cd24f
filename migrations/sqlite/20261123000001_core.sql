-- Core tenancy and conversations. Times are unix milliseconds (UTC).
create table accounts (
    id          text primary key,
    name        text not null,
    created_at  integer not null
);

create table sites (
    id               text primary key,
    account_id       text not null references accounts(id),
    name             text not null,
    site_key         text not null unique,
    -- JSON array of allowed origins: exact "https://a.example", port wildcard
    -- "http://localhost:*", or "*" when the owner explicitly allows any origin.
    allowed_origins  text not null,
    created_at       integer not null
);
create index sites_account on sites(account_id);

create table agents (
    id             text primary key,
    account_id     text not null references accounts(id),
    email          text not null unique,
    name           text not null,
    role           text not null check (role in ('owner', 'admin', 'agent')),
    password_hash  text not null,
    -- 1 until the one-time password printed at creation has been replaced.
    must_change_password integer not null default 1,
    created_at     integer not null
);
create index agents_account on agents(account_id);

create table agent_tokens (
    token_hash  text primary key,
    agent_id    text not null references agents(id),
    created_at  integer not null,
    revoked_at  integer
);

create table visitors (
    id          text primary key,
    site_id     text not null references sites(id),
    token_hash  text not null unique,
    created_at  integer not null,
    last_seen_at integer not null
);
create index visitors_site on visitors(site_id);

create table conversations (
    id          text primary key,
    site_id     text not null references sites(id),
    visitor_id  text not null references visitors(id),
    status      text not null check (status in ('bot', 'waiting', 'agent', 'resolved')),
    -- Highest seq handed out; incremented in the same transaction as the message insert,
    -- so seqs have no gaps.
    last_seq    integer not null default 0,
    agent_id    text references agents(id),
    created_at  integer not null,
    updated_at  integer not null
);
create index conversations_site_status on conversations(site_id, status, updated_at);
create index conversations_visitor on conversations(site_id, visitor_id, updated_at);

create table messages (
    site_id        text not null references sites(id),
    conversation_id text not null references conversations(id),
    seq            integer not null,
    author         text not null check (author in ('visitor', 'bot', 'agent', 'system')),
    agent_id       text references agents(id),
    text           text not null,
    state          text not null check (state in ('streaming', 'complete')),
    client_msg_id  text,
    created_at     integer not null,
    primary key (conversation_id, seq)
);
create unique index messages_client_msg_id on messages(conversation_id, client_msg_id)
    where client_msg_id is not null;
create index messages_site on messages(site_id, created_at);
