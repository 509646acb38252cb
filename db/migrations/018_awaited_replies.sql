-- One store of "this person's next text message answers X" (issue 18). A dispute's comment and an
-- operator's reason for a rejection were kept in pending_input; an operator's reason for barring
-- or letting back a worker was kept in the bot's memory, lost at a restart and seen by one
-- process only. Every awaited reply is a row here now, beside operator_buttons (migration 014):
-- the two stores of what the bot waits for from a person (db/conversation.py).
CREATE TABLE awaited_replies (
    user_id    INTEGER PRIMARY KEY,  -- one question at a time per person: a new one replaces it
    kind       TEXT NOT NULL,        -- 'dispute_comment', 'reject_reason' (ref: the dispute),
                                     -- 'bar_reason', 'unbar_reason' (ref: the worker);
                                     -- checked by the domain (tasks/conversation.py ReplyKind),
                                     -- so a new kind needs no rebuilt table
    ref        INTEGER NOT NULL,     -- what the reply is about
    expires_at TEXT NOT NULL         -- after this the message is not taken as the reply
);
CREATE INDEX awaited_replies_expiry ON awaited_replies (expires_at);

-- The questions pending when the bot stopped are still asked.
INSERT INTO awaited_replies (user_id, kind, ref, expires_at)
SELECT user_id, kind, ref_id, expires_at FROM pending_input;
DROP TABLE pending_input;
