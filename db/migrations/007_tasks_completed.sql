-- `packs` counts a regular task as complete once it has had all its answers (its overlap, or
-- fewer when dynamic overlap closed it early: `done`) and never takes that back: `done` can
-- return to 0 when a suspended worker's answers stop counting and the task gets its slots
-- back, which made the complete count go backwards. Gold tasks are checks, never "complete".
-- A replace recomputes it (db/packs.py recompute_completed), as the overlap may have changed.
ALTER TABLE tasks ADD COLUMN completed INTEGER NOT NULL DEFAULT 0;

UPDATE tasks SET completed = 1
WHERE gold IS NULL
  AND (done = 1 OR answers >= (SELECT overlap FROM packs WHERE packs.pk = tasks.pack_pk));

CREATE TRIGGER tasks_completed AFTER UPDATE OF answers, done ON tasks
WHEN NEW.completed = 0 AND NEW.gold IS NULL
     AND (NEW.done = 1 OR NEW.answers >= (SELECT overlap FROM packs WHERE pk = NEW.pack_pk))
BEGIN
    UPDATE tasks SET completed = 1 WHERE pk = NEW.pk;
END;
