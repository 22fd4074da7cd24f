-- Appending a message advances its conversation in the same statement: the insert picks
-- seq = last_seq + 1 (INSERT ... SELECT) and this trigger stores it back, so one statement
-- is atomic, gap-free, and a failed insert (duplicate client_msg_id) consumes nothing.
create trigger messages_advance_conversation after insert on messages
begin
    update conversations
       set last_seq = new.seq,
           updated_at = new.created_at,
           status = case when status = 'resolved' and new.author = 'visitor' then 'bot' else status end
     where id = new.conversation_id;
end;
