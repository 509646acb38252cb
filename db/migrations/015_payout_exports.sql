-- Payout exports (issue 17): each `payouts export` is recorded with the lines it wrote, and its
-- id is written in the file's `export` column. `payouts mark-paid` keys a payout on the line it
-- pays (`payout:<export>:<worker>:<currency>`), so a line is recorded once however the rest of
-- the file was edited, and a line that no export wrote (a typed or pasted id, a worker added by
-- hand, more than was listed) is refused. Only new tables: nothing existing changes.
CREATE TABLE payout_exports (
    id          TEXT PRIMARY KEY,           -- 'exp-20260112-153000-3f9a1c' (UTC, then random)
    created_at  TEXT NOT NULL,
    min_micros  INTEGER NOT NULL,           -- the --min it was made with
    currency    TEXT,                       -- its --currency, NULL: every currency
    lines       INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE payout_export_lines (
    export_id     TEXT NOT NULL REFERENCES payout_exports(id),
    worker_id     INTEGER NOT NULL,
    currency      TEXT NOT NULL,
    amount_micros INTEGER NOT NULL,         -- what the worker was owed when it was exported
    PRIMARY KEY (export_id, worker_id, currency)
) WITHOUT ROWID;
