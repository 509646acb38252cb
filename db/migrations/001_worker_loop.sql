-- The worker loop: packs, tasks, workers, assignments (one per worker and task), the ledger.
-- Times are UTC ISO-8601 strings of fixed width ('2026-11-26T05:02:38.123456Z'): they sort as text.
-- Money is an INTEGER of micro-units (1/1,000,000 of the currency unit): exact, summable in SQL.

CREATE TABLE packs (
    pk            INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,          -- the operator's slug
    title         TEXT NOT NULL,
    instructions  TEXT NOT NULL,
    type          TEXT NOT NULL,                 -- 'single_choice' now; more types later
    options       TEXT NOT NULL,                 -- JSON array of {"id", "label"}
    reward_micros INTEGER NOT NULL CHECK (reward_micros > 0),
    currency      TEXT NOT NULL,
    overlap       INTEGER NOT NULL CHECK (overlap >= 1),
    lease_seconds INTEGER NOT NULL CHECK (lease_seconds >= 1),
    header        TEXT NOT NULL,                 -- the whole validated header as JSON (settings later issues read)
    status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'closed')),
    priority      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE tasks (
    pk          INTEGER PRIMARY KEY,
    pack_pk     INTEGER NOT NULL REFERENCES packs(pk),
    task_id     TEXT NOT NULL,
    content     TEXT NOT NULL,                   -- JSON: {"text": ...}; media fields later
    gold        TEXT,                            -- the correct option id, for gold tasks
    explanation TEXT,
    answers     INTEGER NOT NULL DEFAULT 0,      -- answers stored
    remaining   INTEGER NOT NULL,                -- overlap - answers - open leases; 0 = not handed out
    retired     INTEGER NOT NULL DEFAULT 0,      -- dropped by a --replace: kept for its answers, never served
    UNIQUE (pack_pk, task_id)
);
-- The next-task pick: per pack, fewest slots left first (nearest to completion), then load order.
CREATE INDEX tasks_pick ON tasks (pack_pk, remaining, pk) WHERE remaining > 0;

CREATE TABLE workers (
    id              INTEGER PRIMARY KEY,         -- the Telegram user id (private chat id is the same)
    first_name      TEXT NOT NULL DEFAULT '',
    username        TEXT,
    language_code   TEXT,                        -- as Telegram gave it
    language        TEXT NOT NULL,               -- 'fr' or 'en': what we speak to them
    language_chosen INTEGER NOT NULL DEFAULT 0,  -- 1 once they used /language
    consented_at    TEXT,
    paused          INTEGER NOT NULL DEFAULT 0,
    blocked_at      TEXT,                        -- set on 403 'bot was blocked by the user'
    waiting_since   TEXT,                        -- ran out of work and wants to hear of new work
    task_message_id INTEGER,                     -- the message we edit into the next task
    timezone        TEXT,
    created_at      TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL
);
CREATE INDEX workers_waiting ON workers (waiting_since) WHERE waiting_since IS NOT NULL;

CREATE TABLE assignments (
    id           INTEGER PRIMARY KEY,
    worker_id    INTEGER NOT NULL REFERENCES workers(id),
    task_pk      INTEGER NOT NULL REFERENCES tasks(pk),
    pack_pk      INTEGER NOT NULL REFERENCES packs(pk),
    status       TEXT NOT NULL CHECK (status IN ('open', 'answered', 'skipped', 'expired', 'released')),
    answer       TEXT,                           -- the option id chosen (JSON for richer types later)
    delivered_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    closed_at    TEXT,
    message_id   INTEGER,
    UNIQUE (worker_id, task_pk)                  -- a worker never sees a task twice
);
CREATE UNIQUE INDEX assignments_one_open ON assignments (worker_id) WHERE status = 'open';
CREATE INDEX assignments_expiry ON assignments (expires_at) WHERE status = 'open';
CREATE INDEX assignments_task ON assignments (task_pk, status);
CREATE INDEX assignments_worker_closed ON assignments (worker_id, closed_at);

-- tasks.answers and tasks.remaining follow the assignments, whatever code path changes them:
-- a lease takes a slot; an answer keeps it (the lease becomes an answer); a skip, an expiry or
-- a release gives it back (unless the task was retired by a --replace).
CREATE TRIGGER assignments_lease AFTER INSERT ON assignments
WHEN NEW.status = 'open'
BEGIN
    UPDATE tasks SET remaining = remaining - 1 WHERE pk = NEW.task_pk;
END;

CREATE TRIGGER assignments_close AFTER UPDATE OF status ON assignments
WHEN OLD.status = 'open' AND NEW.status != 'open'
BEGIN
    UPDATE tasks
    SET answers = answers + (NEW.status = 'answered'),
        remaining = remaining + (NEW.status != 'answered' AND retired = 0)
    WHERE pk = NEW.task_pk;
END;

CREATE TABLE ledger (
    id              INTEGER PRIMARY KEY,
    worker_id       INTEGER NOT NULL REFERENCES workers(id),
    kind            TEXT NOT NULL CHECK (kind IN ('reward', 'bonus', 'top_up', 'adjustment', 'payout')),
    amount_micros   INTEGER NOT NULL,            -- signed: a payout is negative
    currency        TEXT NOT NULL,
    reason          TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,        -- 'reward:<assignment id>' for answers
    assignment_id   INTEGER REFERENCES assignments(id),
    pack_pk         INTEGER REFERENCES packs(pk),
    created_at      TEXT NOT NULL
);
CREATE INDEX ledger_worker ON ledger (worker_id, created_at);

-- Updates already handled, so that a redelivery after a crash is processed once.
CREATE TABLE processed_updates (
    update_id INTEGER PRIMARY KEY,
    at        TEXT NOT NULL
);
