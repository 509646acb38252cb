-- Operators in Telegram (issue 11): a worker suspended by an operator, with the reason they were
-- told; every suspension and reinstatement kept; broadcasts to workers and who sent them.
ALTER TABLE workers ADD COLUMN suspended_at TEXT;          -- set by an operator: no task is handed out
ALTER TABLE workers ADD COLUMN suspension_reason TEXT;     -- what the worker was told

CREATE TABLE operator_actions (
    id          INTEGER PRIMARY KEY,
    operator_id INTEGER NOT NULL,
    worker_id   INTEGER NOT NULL REFERENCES workers(id),
    action      TEXT NOT NULL CHECK (action IN ('suspend', 'reinstate')),
    reason      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX operator_actions_worker ON operator_actions (worker_id, id);

CREATE TABLE broadcasts (
    id          INTEGER PRIMARY KEY,
    operator_id INTEGER NOT NULL,
    text        TEXT NOT NULL,
    recipients  INTEGER NOT NULL,                -- rows queued in the outbox (bulk lane)
    created_at  TEXT NOT NULL
);
