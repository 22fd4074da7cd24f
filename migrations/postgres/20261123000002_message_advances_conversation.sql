-- Appending a message advances its conversation in the same statement: the insert picks
-- seq = last_seq + 1 (INSERT ... SELECT ... FOR UPDATE, which also queues concurrent appends
-- to one conversation) and this trigger stores it back, so one statement is atomic,
-- gap-free, and a failed insert (duplicate client_msg_id) consumes nothing.
create function messages_advance_conversation() returns trigger language plpgsql as $$
begin
    update conversations
       set last_seq = new.seq,
           updated_at = new.created_at,
           status = case when status = 'resolved' and new.author = 'visitor' then 'bot' else status end
     where id = new.conversation_id;
    return new;
end
$$;

create trigger messages_advance_conversation after insert on messages
    for each row execute function messages_advance_conversation();
