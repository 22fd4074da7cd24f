-- A conversation's revision: every change of the row (status, assignee, mood, a new message,
-- a hand-back) increases it. Snapshots of a conversation are published by concurrent tasks and
-- nodes and can arrive out of order; a reader keeps the one with the higher revision, so a
-- stale snapshot ("agent" read before a hand-back, published after it) never undoes a newer one.
alter table conversations add column rev integer not null default 0;

drop trigger messages_advance_conversation;
create trigger messages_advance_conversation after insert on messages
begin
    update conversations
       set last_seq = new.seq,
           updated_at = new.created_at,
           rev = rev + 1,
           status = case when status = 'resolved' and new.author = 'visitor' then 'bot' else status end
     where id = new.conversation_id;
end;
