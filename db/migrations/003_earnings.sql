-- Earnings: weekly statements (one row per worker and week: the truth of what was sent), the
-- weeks already computed, and the notices (payouts, bonuses) that the bot sends.
-- Only new tables and indexes: this applies after 002 whatever 002 holds.

-- Delivery states, shared by statements and the notices:
--   due      waiting for due_at (a statement time, the end of quiet hours, a retry's backoff)
--   sending  claimed by a sender until due_at; a row still 'sending' after that (the sender
--            crashed between its send and its commit) is claimed again: at-least-once
--   sent     delivered (sent_at); blocked: the worker blocked the bot (403), not retried;
--   failed   given up after too many attempts (last_error says why)
CREATE TABLE statements (
    id          INTEGER PRIMARY KEY,
    worker_id   INTEGER NOT NULL REFERENCES workers(id),
    week        TEXT NOT NULL,                   -- ISO week in TIMEZONE, '2026-W48'
    tasks       INTEGER NOT NULL,                -- answers that week
    checks      INTEGER NOT NULL,                -- answers on gold tasks that week
    correct     INTEGER NOT NULL,                -- of which right
    figures     TEXT NOT NULL,                   -- JSON {currency: {earned, top_up, unpaid, active_ms}}
    status      TEXT NOT NULL DEFAULT 'due'
                CHECK (status IN ('due', 'sending', 'sent', 'blocked', 'failed')),
    due_at      TEXT NOT NULL,                   -- when to (re)consider it; for 'sending', claim expiry
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    sent_at     TEXT,
    UNIQUE (worker_id, week)
);
CREATE INDEX statements_pending ON statements (due_at) WHERE status IN ('due', 'sending');
CREATE INDEX statements_week ON statements (week, status);

-- A week is computed once (its statements and top-ups inserted); later runs look for the next.
CREATE TABLE statement_weeks (
    week        TEXT PRIMARY KEY,
    workers     INTEGER NOT NULL,
    computed_at TEXT NOT NULL
);

CREATE TABLE notices (
    id          INTEGER PRIMARY KEY,
    worker_id   INTEGER NOT NULL REFERENCES workers(id),
    key         TEXT NOT NULL UNIQUE,            -- the ledger key it tells of: one notice per entry
    kind        TEXT NOT NULL CHECK (kind IN ('payout', 'bonus')),
    params      TEXT NOT NULL,                   -- JSON for the text: amount, currency, reason
    status      TEXT NOT NULL DEFAULT 'due'
                CHECK (status IN ('due', 'sending', 'sent', 'blocked', 'failed')),
    due_at      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    sent_at     TEXT
);
CREATE INDEX notices_pending ON notices (due_at) WHERE status IN ('due', 'sending');

-- Week sums and statements read the ledger by time, top-ups and fair pay by pack.
CREATE INDEX ledger_created ON ledger (created_at);
CREATE INDEX ledger_pack ON ledger (pack_pk, created_at) WHERE pack_pk IS NOT NULL;
-- Fair pay: seconds per answered task, per pack (median in `python -m bot packs`, top-ups).
CREATE INDEX earnings_assignments_pack ON assignments (pack_pk, worker_id, closed_at)
    WHERE status = 'answered';
