-- A ticket's revision, as a conversation's (20261208000001_conversation_rev): every update of
-- the row raises it, and a reader keeps the snapshot with the higher one.
alter table tickets add column rev bigint not null default 0;
