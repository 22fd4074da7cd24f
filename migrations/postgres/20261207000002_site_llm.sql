-- A site's own language model for the bot (the dashboard's "Bot and escalation" screen). No
-- row: the site follows the server's configured LLM (or extractive answers when there is
-- none). Times are unix milliseconds.

create table site_llm (
    site_id     text primary key references sites(id),
    -- 'extractive' (no model: answers quote the knowledge base) or 'llm'.
    mode        text not null check (mode in ('extractive', 'llm')),
    -- OpenAI-compatible base URL including the version prefix, e.g. https://api.openai.com/v1.
    base_url    text,
    model       text,
    -- Sent as the bearer token. Kept in clear (the server must send it), never returned by
    -- the API (only its last four characters).
    api_key     text,
    updated_at  bigint not null
);
