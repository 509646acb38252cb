-- One outbox: everything the bot says on its own (statements, payout and bonus notices, quality
-- decisions, operator alerts, later broadcasts) is one row here, whoever queued it (the CLI, a
-- handler, a job), and one sender delivers it. Replaces quality's `outbox` (no claim, no retry)
-- and earnings' `notices`; a statement keeps its figures in `statements` and its delivery here.
--
-- Delivery states:
--   due      waiting for due_at (now, the end of quiet hours, a retry's backoff)
--   sending  claimed by the sender until due_at; a row still 'sending' after that (the process
--            died between its send and its commit) is claimed again: at-least-once
--   sent     delivered (sent_at); blocked: the recipient blocked the bot (403), not retried;
--   failed   given up after too many attempts (last_error says why)
ALTER TABLE outbox RENAME TO quality_outbox_old;
DROP INDEX outbox_pending;

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    recipient   INTEGER,                         -- a Telegram user id; NULL: every operator
    kind        TEXT NOT NULL,                   -- what it says: 'statement', 'bonus', a text key
    params      TEXT NOT NULL DEFAULT '{}',      -- JSON for the text; strings escaped when rendered
    dedupe_key  TEXT NOT NULL UNIQUE,            -- one message per fact: queuing twice is a no-op
    lane        TEXT NOT NULL DEFAULT 'interactive' CHECK (lane IN ('interactive', 'bulk')),
    status      TEXT NOT NULL DEFAULT 'due'
                CHECK (status IN ('due', 'sending', 'sent', 'blocked', 'failed')),
    due_at      TEXT NOT NULL,                   -- when to (re)consider it; for 'sending', claim expiry
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    sent_at     TEXT
);
-- The sender's two reads: what is due in a lane (oldest first), and the earliest due time.
CREATE INDEX outbox_pending ON outbox (lane, due_at, id) WHERE status IN ('due', 'sending');

-- What was queued before: quality messages (text keys), then notices, then statements. Quality
-- keys take the prefix db/quality.add_message gives them now ('quality:'; a message without a
-- key gets its old id), so a fact met again after the upgrade is still told once. Payouts and
-- statements take the bulk lane.
INSERT INTO outbox (recipient, kind, params, dedupe_key, lane, status, due_at, created_at, sent_at)
SELECT worker_id, text_key, params, 'quality:' || COALESCE(dedupe_key, 'old:' || id), 'interactive',
       CASE WHEN sent_at IS NULL THEN 'due' ELSE 'sent' END, created_at, created_at, sent_at
FROM quality_outbox_old ORDER BY id;

INSERT INTO outbox (recipient, kind, params, dedupe_key, lane, status, due_at, attempts,
                    last_error, created_at, sent_at)
SELECT worker_id, kind, params, key, CASE kind WHEN 'payout' THEN 'bulk' ELSE 'interactive' END,
       status, due_at, attempts, last_error, created_at, sent_at
FROM notices ORDER BY id;

INSERT INTO outbox (recipient, kind, params, dedupe_key, lane, status, due_at, attempts,
                    last_error, created_at, sent_at)
SELECT worker_id, 'statement', json_object('statement_id', id),
       'statement:' || week || ':' || worker_id, 'bulk', status, due_at, attempts, last_error,
       created_at, sent_at
FROM statements ORDER BY id;

DROP TABLE quality_outbox_old;
DROP TABLE notices;

-- Statements keep their figures; their delivery state now lives in the outbox.
DROP INDEX statements_pending;
DROP INDEX statements_week;
CREATE TABLE statements_new (
    id          INTEGER PRIMARY KEY,
    worker_id   INTEGER NOT NULL REFERENCES workers(id),
    week        TEXT NOT NULL,                   -- ISO week in TIMEZONE, '2026-W48'
    tasks       INTEGER NOT NULL,                -- answers that week
    checks      INTEGER NOT NULL,                -- answers on gold tasks that week
    correct     INTEGER NOT NULL,                -- of which right
    figures     TEXT NOT NULL,                   -- JSON {currency: {earned, top_up, unpaid, active_ms}}
    created_at  TEXT NOT NULL,
    UNIQUE (worker_id, week)
);
INSERT INTO statements_new (id, worker_id, week, tasks, checks, correct, figures, created_at)
SELECT id, worker_id, week, tasks, checks, correct, figures, created_at FROM statements;
DROP TABLE statements;
ALTER TABLE statements_new RENAME TO statements;
