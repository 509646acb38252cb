-- The durable inbox (issue 12): every update Telegram gives the bot is stored here, its id and
-- its JSON as received, before it is confirmed to Telegram (the next getUpdates offset, or the
-- webhook's 200). A handler's unit of work marks its update processed in the same transaction
-- as its effects; the update is done once its handler has finished (replied). At start-up the
-- updates not done are handled again first, in order, before new ones.
CREATE TABLE inbox (
    update_id    INTEGER PRIMARY KEY,
    body         TEXT NOT NULL,              -- the update as Telegram sent it (JSON)
    received_at  TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 1, -- times its handling started
    processed_at TEXT,                       -- its effects committed (in its handler's transaction)
    done_at      TEXT,                       -- nothing left to do: handled, dropped or set aside
    set_aside_at TEXT,                       -- a poison update, given up after a few attempts
    error        TEXT                        -- the last failure, for whoever looks into it
);
-- What start-up replays, and the prune.
CREATE INDEX inbox_open ON inbox (update_id) WHERE done_at IS NULL;
CREATE INDEX inbox_done ON inbox (done_at) WHERE done_at IS NOT NULL;

-- Replaced by the inbox: a redelivered update is recognised by its inbox row.
DROP TABLE processed_updates;
