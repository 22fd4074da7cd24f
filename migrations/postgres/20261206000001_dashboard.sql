-- What the agents' dashboard needs from the server: an agent can set themselves away (an
-- away agent with an open socket does not count as someone who will reply to an escalation),
-- and the visitor's context (the page the widget was opened on, the browser's language).

alter table agents add column away bigint not null default 0;
alter table visitors add column page_url text;
alter table visitors add column language text;
