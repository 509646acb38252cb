-- Operator buttons kept in the database (issue 17): the action behind each `o:<token>` button
-- was kept in the bot's memory, lost at a restart and seen by one process only, and a question's
-- buttons were spent one by one (Replace then Cancel both ran). Here each button is a row, a
-- question's buttons share a group, and answering the question spends the whole group in one
-- UPDATE ... WHERE spent_at IS NULL: the first press wins, in any process, across restarts.
CREATE TABLE operator_buttons (
    token       TEXT PRIMARY KEY,                -- the 16 characters after 'o:' in callback_data
    operator_id INTEGER NOT NULL,                -- the one user whose press counts
    kind        TEXT NOT NULL,                   -- what it does: 'replace', 'broadcast_send', ...
    args        TEXT NOT NULL DEFAULT '[]',      -- its arguments, a JSON array
    group_token TEXT,                            -- one-shot: the question's buttons share it;
                                                 -- NULL: a button that may be pressed again
    created_at  TEXT NOT NULL,                   -- it does nothing 24 hours later
    spent_at    TEXT                             -- the question was answered (every button of it)
) WITHOUT ROWID;
CREATE INDEX operator_buttons_group ON operator_buttons (group_token)
    WHERE group_token IS NOT NULL;
CREATE INDEX operator_buttons_created ON operator_buttons (created_at);

-- Messages for a worker who blocked the bot are held, not given up (issue 17): a row that meets
-- the block (at its claim, or a 403 on its send) stays 'blocked' with held_at set. When the
-- worker comes back (any update from them), in the same transaction, what still matters is
-- queued again ('due', held_at cleared) and the rest is dropped (held_at cleared, stays
-- 'blocked', last_error says why): tasks/outbox.py `requeue_held` has the rule.
ALTER TABLE outbox ADD COLUMN held_at TEXT;
CREATE INDEX outbox_held ON outbox (recipient) WHERE held_at IS NOT NULL;
-- Rows given up before for workers still blocked are held now: decided when they come back.
UPDATE outbox SET held_at = created_at
WHERE status = 'blocked' AND recipient IN (SELECT id FROM workers WHERE blocked_at IS NOT NULL);
