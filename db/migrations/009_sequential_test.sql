-- Fair checks: the window rule (a trust score over the last `window` gold answers) gives way to
-- a sequential test counted in points (tasks/quality/rules.py, docs/quality.md).
--
-- `points` is the test's running total for this attempt, `score_sum` the sum of the gold scores
-- (the trust estimate reads it). The window's two counts go.
--
-- Every standing is marked `rejudge`: the domain replays each gold record through the new test
-- when the bot starts (QualityService.rejudge_marked, called from bot/app.py's start-up), in one
-- transaction per pack; suspensions and training failures the new test would not have decided
-- are lifted and the worker is told through the outbox. Re-judging never suspends anyone.
ALTER TABLE worker_quality ADD COLUMN points INTEGER NOT NULL DEFAULT 0;
ALTER TABLE worker_quality ADD COLUMN score_sum REAL NOT NULL DEFAULT 0;
ALTER TABLE worker_quality ADD COLUMN rejudge INTEGER NOT NULL DEFAULT 0;
ALTER TABLE worker_quality DROP COLUMN window_total;
ALTER TABLE worker_quality DROP COLUMN window_correct;
UPDATE worker_quality SET rejudge = 1;
CREATE INDEX worker_quality_rejudge ON worker_quality (pack_pk) WHERE rejudge = 1;

-- Gold keys an operator decided (a dispute accepted, a review): a later `load-pack --replace`
-- of a file that still has the old key keeps the decision (and tells the operator).
CREATE TABLE gold_decisions (
    task_pk    INTEGER PRIMARY KEY REFERENCES tasks(pk),
    action     TEXT NOT NULL CHECK (action IN ('correct', 'retire')),
    gold       TEXT,                       -- the corrected key ('correct')
    decided_at TEXT NOT NULL
);

-- Decisions taken before this migration, as far as the disputes tell them: a correction that
-- still stands (the key differs from the one disputed) and a retirement that still holds.
INSERT OR REPLACE INTO gold_decisions (task_pk, action, gold, decided_at)
SELECT d.task_pk, 'correct', t.gold, MAX(d.resolved_at)
FROM disputes AS d JOIN tasks AS t ON t.pk = d.task_pk
WHERE d.status = 'accepted' AND d.resolution = 'corrected' AND t.gold IS NOT NULL
  AND t.gold != d.expected AND t.retired = 0
GROUP BY d.task_pk;
INSERT OR REPLACE INTO gold_decisions (task_pk, action, gold, decided_at)
SELECT d.task_pk, 'retire', NULL, MAX(d.resolved_at)
FROM disputes AS d JOIN tasks AS t ON t.pk = d.task_pk
WHERE d.status = 'accepted' AND d.resolution = 'retired' AND t.retired = 1
GROUP BY d.task_pk;
