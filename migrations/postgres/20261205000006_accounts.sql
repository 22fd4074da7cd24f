-- Accounts as tenants with plans and monthly usage; browser sessions; named API tokens;
-- invitations and password resets; the audit log. Times are unix milliseconds (UTC).

-- Plans are data. A null limit means unlimited.
create table plans (
    name         text primary key,
    bot_answers  bigint,
    seats        bigint,
    documents    bigint,
    sites        bigint,
    updated_at   bigint not null
);
insert into plans (name, bot_answers, seats, documents, sites, updated_at) values
    ('free', 100, 1, 20, 1, 0),
    ('pro', 5000, 5, 1000, 5, 0),
    ('enterprise', null, null, null, null, 0);

alter table accounts add column plan text not null default 'free' references plans(name);
-- Accounts from before plans existed keep working as they did: no limits. New ones start on
-- free (the application names the plan on every insert).
update accounts set plan = 'enterprise';

-- Usage per account and calendar month (UTC, 'YYYY-MM'). Bot answers are reserved here,
-- atomically against the plan's limit, before the bot answers.
create table usage_counters (
    account_id   text not null references accounts(id),
    period       text not null,
    bot_answers  bigint not null default 0,
    primary key (account_id, period)
);

-- One row per visitor message the bot was allowed to answer: a resend or a resumed socket
-- replaying the same message never reserves (counts) twice.
create table bot_answer_reservations (
    conversation_id  text not null references conversations(id),
    seq              bigint not null,
    account_id       text not null references accounts(id),
    period           text not null,
    created_at       bigint not null,
    primary key (conversation_id, seq)
);

-- Browser sessions: only the hash of the cookie's value is stored.
create table agent_sessions (
    id_hash       text primary key,
    agent_id      text not null references agents(id),
    -- Sent back by the dashboard in X-CSRF-Token on every state-changing request.
    csrf_token    text not null,
    ip            text,
    user_agent    text,
    created_at    bigint not null,
    last_seen_at  bigint not null,
    -- Absolute expiry; the idle expiry is last_seen_at + the configured idle time.
    expires_at    bigint not null,
    revoked_at    bigint
);
create index agent_sessions_agent on agent_sessions(agent_id);

-- Bearer tokens get a listable id and a name.
alter table agent_tokens add column id text;
alter table agent_tokens add column name text not null default 'token';
alter table agent_tokens add column last_used_at bigint;
update agent_tokens set id = substr(token_hash, 1, 16) where id is null;
create unique index agent_tokens_id on agent_tokens(id);
create index agent_tokens_agent on agent_tokens(agent_id);

-- A removed agent keeps its rows (their messages stay attributed) but cannot sign in.
alter table agents add column removed_at bigint;
alter table agents add column password_changed_at bigint;

-- Single-use links: invitations ('invite', with a role) and password resets ('reset').
create table account_links (
    token_hash   text primary key,
    kind         text not null check (kind in ('invite', 'reset')),
    account_id   text not null references accounts(id),
    email        text not null,
    role         text check (role in ('owner', 'admin', 'agent')),
    created_by   text references agents(id),
    created_at   bigint not null,
    expires_at   bigint not null,
    used_at      bigint
);
create index account_links_account on account_links(account_id, kind, created_at);

-- Who did what, when, from where. Never holds erased content.
create table audit_log (
    id           text primary key,
    account_id   text references accounts(id),
    actor_id     text,
    actor_email  text,
    action       text not null,
    target       text,
    ip           text,
    -- JSON object with the action's details.
    detail       text,
    created_at   bigint not null
);
create index audit_log_account on audit_log(account_id, created_at);

-- Conversation lists: newest activity first within a site, and by assignee.
create index conversations_site_updated on conversations(site_id, updated_at);
create index conversations_site_agent on conversations(site_id, agent_id, updated_at);

-- Retention per site in days (null: keep forever).
alter table sites add column retention_days bigint;
