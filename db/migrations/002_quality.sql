-- Quality: gold questions, qualification, trust, disputes, aggregated results, dynamic overlap.
--
-- Gold tasks are served by their own pick (index tasks_gold), once per worker, with no overlap
-- limit: their `remaining` stays 0 so the normal pick (tasks_pick) never sees them. A task that
-- dynamic overlap has closed (`done`) also stays at 0: expiries and skips no longer give it a slot.

ALTER TABLE tasks ADD COLUMN done INTEGER NOT NULL DEFAULT 0;       -- enough answers: closed
ALTER TABLE tasks ADD COLUMN review INTEGER NOT NULL DEFAULT 0;     -- gold flagged for review
ALTER TABLE tasks ADD COLUMN label TEXT;                            -- trust-weighted result
ALTER TABLE tasks ADD COLUMN confidence REAL;

ALTER TABLE assignments ADD COLUMN is_gold INTEGER NOT NULL DEFAULT 0;  -- served as a gold task
ALTER TABLE assignments ADD COLUMN seconds REAL;                        -- from hand-out to answer
ALTER TABLE assignments ADD COLUMN excluded INTEGER NOT NULL DEFAULT 0; -- no longer counts in results

-- The gold pick: a pack's gold tasks in service, from a random starting point.
CREATE INDEX tasks_gold ON tasks (pack_pk, pk)
    WHERE gold IS NOT NULL AND retired = 0 AND review = 0;
-- A worker's gold answers on a pack, latest first (the trust window).
CREATE INDEX assignments_gold ON assignments (worker_id, pack_pk, id) WHERE is_gold = 1;

UPDATE tasks SET remaining = 0 WHERE gold IS NOT NULL;

DROP TRIGGER assignments_lease;
CREATE TRIGGER assignments_lease AFTER INSERT ON assignments
WHEN NEW.status = 'open' AND NEW.is_gold = 0
BEGIN
    UPDATE tasks SET remaining = remaining - 1 WHERE pk = NEW.task_pk;
END;

DROP TRIGGER assignments_close;
CREATE TRIGGER assignments_close AFTER UPDATE OF status ON assignments
WHEN OLD.status = 'open' AND NEW.status != 'open'
BEGIN
    UPDATE tasks
    SET answers = answers + (NEW.status = 'answered'),
        remaining = remaining
            + (NEW.status != 'answered' AND retired = 0 AND done = 0 AND NEW.is_gold = 0)
    WHERE pk = NEW.task_pk;
END;

-- Whatever sets `remaining` (a load, a replace, the triggers above), a gold or closed task keeps 0.
CREATE TRIGGER tasks_gold_insert AFTER INSERT ON tasks
WHEN NEW.gold IS NOT NULL AND NEW.remaining > 0
BEGIN
    UPDATE tasks SET remaining = 0 WHERE pk = NEW.pk;
END;

CREATE TRIGGER tasks_closed_stay_closed AFTER UPDATE OF remaining, gold, done ON tasks
WHEN NEW.remaining > 0 AND (NEW.gold IS NOT NULL OR NEW.done = 1)
BEGIN
    UPDATE tasks SET remaining = 0 WHERE pk = NEW.pk;
END;

-- Each worker's standing on each pack that has quality control.
CREATE TABLE worker_quality (
    worker_id     INTEGER NOT NULL REFERENCES workers(id),
    pack_pk       INTEGER NOT NULL REFERENCES packs(pk),
    state         TEXT NOT NULL
                  CHECK (state IN ('training', 'qualified', 'failed', 'suspended', 'stopped')),
    reason        TEXT,                      -- why failed/suspended/stopped
    attempts      INTEGER NOT NULL DEFAULT 1,
    since_id      INTEGER NOT NULL DEFAULT 0, -- gold answers after this assignment id count
    good_until_id INTEGER NOT NULL DEFAULT 0, -- the last assignment id of a good window
    accuracy      REAL NOT NULL DEFAULT 0.5,  -- smoothed, over the window
    window_total  INTEGER NOT NULL DEFAULT 0,
    window_correct INTEGER NOT NULL DEFAULT 0,
    gold_total    INTEGER NOT NULL DEFAULT 0, -- counted gold answers of this attempt
    train_total   INTEGER NOT NULL DEFAULT 0,
    train_correct INTEGER NOT NULL DEFAULT 0,
    fast_streak   INTEGER NOT NULL DEFAULT 0,
    same_option   TEXT,
    same_streak   INTEGER NOT NULL DEFAULT 0,
    draws         INTEGER NOT NULL DEFAULT 0, -- tasks handed out: numbers the random draws
    retry_at      TEXT,                      -- when retraining opens
    decided_at    TEXT,
    decided_gold  INTEGER,                   -- gold answers seen when the last decision fell
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (worker_id, pack_pk)
) WITHOUT ROWID;
CREATE INDEX worker_quality_pack ON worker_quality (pack_pk, state);

CREATE TABLE disputes (
    id            INTEGER PRIMARY KEY,
    assignment_id INTEGER NOT NULL UNIQUE REFERENCES assignments(id),
    worker_id     INTEGER NOT NULL REFERENCES workers(id),
    task_pk       INTEGER NOT NULL REFERENCES tasks(pk),
    pack_pk       INTEGER NOT NULL REFERENCES packs(pk),
    answer        TEXT NOT NULL,             -- what the worker answered
    expected      TEXT NOT NULL,             -- the gold answer at the time
    comment       TEXT,
    status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'rejected')),
    resolution    TEXT,                      -- 'corrected', 'retired', 'kept' or the reason
    created_at    TEXT NOT NULL,
    resolved_at   TEXT
);
CREATE INDEX disputes_open ON disputes (status, id);
CREATE INDEX disputes_task ON disputes (task_pk);

-- Messages to send from the bot (the CLI runs in another process): a job sends them.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    worker_id  INTEGER,                       -- NULL: every operator
    text_key   TEXT NOT NULL,                 -- a key of the text catalogue
    params     TEXT NOT NULL DEFAULT '{}',    -- JSON; strings are escaped when rendered
    dedupe_key TEXT UNIQUE,
    created_at TEXT NOT NULL,
    sent_at    TEXT
);
CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL;

-- The next text message of this user answers a question (a dispute comment, a reject reason).
CREATE TABLE pending_input (
    user_id    INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('dispute_comment', 'reject_reason')),
    ref_id     INTEGER NOT NULL,
    expires_at TEXT NOT NULL
);
