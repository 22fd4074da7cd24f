-- Sentiment, feedback, escalation tickets and agent presence. Times are unix milliseconds.

-- The conversation's mood (weighted trend of recent visitor turns, -1..1), shown in the inbox.
alter table conversations add column mood double precision;
-- When an agent last handed the conversation back to the bot (escalation cool-down).
alter table conversations add column handed_back_at bigint;

-- The site's escalation policy as JSON; null means the defaults.
alter table sites add column escalation_policy text;

-- Signals of each visitor message, for the mood timeline, triage and analytics.
create table message_signals (
    site_id          text not null references sites(id),
    conversation_id  text not null references conversations(id),
    seq              bigint not null,
    vader            double precision not null,
    sentiment        double precision not null,
    mood             double precision not null,
    -- JSON object intent -> score.
    intents          text not null,
    -- What the bot did with the message: 'pending', 'answered', 'dont_know', 'silent'
    -- (a human handles it, or the site has no documents) or 'escalated'.
    outcome          text not null default 'pending',
    created_at       bigint not null,
    primary key (conversation_id, seq)
);
create index message_signals_site on message_signals(site_id, created_at);

-- A visitor's thumbs up/down on a bot answer; the latest value wins.
create table message_feedback (
    site_id          text not null references sites(id),
    conversation_id  text not null references conversations(id),
    seq              bigint not null,
    value            text not null check (value in ('up', 'down')),
    created_at       bigint not null,
    primary key (conversation_id, seq)
);
create index message_feedback_site on message_feedback(site_id, created_at);

create table tickets (
    id                 text primary key,
    site_id            text not null references sites(id),
    conversation_id    text not null references conversations(id),
    status             text not null check (status in ('open', 'pending', 'solved')),
    priority           text not null check (priority in ('urgent', 'high', 'normal')),
    -- JSON array of reasons, first escalation first.
    reasons            text not null,
    assigned_agent_id  text references agents(id),
    -- Set when no agent was online: the visitor was asked for an email address.
    awaiting_email     bigint not null default 0,
    contact_email      text,
    -- JSON handoff packet: summary, sources, mood timeline, reasons.
    handoff            text not null,
    escalations        bigint not null default 1,
    created_at         bigint not null,
    first_response_at  bigint,
    resolved_at        bigint,
    updated_at         bigint not null
);
-- At most one ticket in progress per conversation: no double escalation.
create unique index tickets_active on tickets(conversation_id) where status <> 'solved';
create index tickets_site_status on tickets(site_id, status, updated_at);
create index tickets_site_created on tickets(site_id, created_at);

-- Agents with an open socket, per node; rows older than the presence TTL are stale (a node
-- that crashed), fresh ones mean someone can answer now.
create table agent_presence (
    agent_id    text not null references agents(id),
    node_id     text not null,
    account_id  text not null references accounts(id),
    sockets     bigint not null,
    seen_at     bigint not null,
    primary key (agent_id, node_id)
);
create index agent_presence_account on agent_presence(account_id, seen_at);
