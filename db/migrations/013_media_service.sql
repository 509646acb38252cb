-- A task's media taken out of service (issue 17). 'held': its local file changed, went, or is no
-- longer a regular file since the pack was loaded (the bytes are hashed again before every upload:
-- a changed file is never sent, and its file_id is never stored under the old hash). 'out':
-- Telegram refused it MEDIA_FAILURES times in a row (tasks/media.py). Either way the task is no
-- longer handed out, until the pack is loaded again (--replace writes every task_media row anew).
ALTER TABLE task_media ADD COLUMN status TEXT NOT NULL DEFAULT 'ok'
    CHECK (status IN ('ok', 'held', 'out'));
ALTER TABLE task_media ADD COLUMN reason TEXT;                          -- why, when not 'ok'
ALTER TABLE task_media ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;  -- refusals in a row

-- The serving side of the same state, on the task itself: the picks read tasks only. The regular
-- pick needs no change (its partial index holds remaining > 0, and the trigger below keeps a
-- task whose media is off at 0 whoever writes `remaining`); the gold pick filters on it.
ALTER TABLE tasks ADD COLUMN media_off INTEGER NOT NULL DEFAULT 0;  -- 1: media held or out

CREATE TRIGGER tasks_media_off_stay_out AFTER UPDATE OF remaining, media_off ON tasks
WHEN NEW.remaining > 0 AND NEW.media_off = 1
BEGIN
    UPDATE tasks SET remaining = 0 WHERE pk = NEW.pk;
END;

-- The packs table counts them per pack without reading every task.
CREATE INDEX tasks_media_off ON tasks (pack_pk) WHERE media_off = 1;
