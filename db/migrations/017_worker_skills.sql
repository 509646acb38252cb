-- Labels from every answer (issue 19): each worker's skill on a pack, learned by an EM over all
-- the pack's counted answers (tasks/quality/em.py), anchored by the gold. Written whole per pack
-- by a background refresh (or `packs reaggregate`, or an export) in one short transaction; an
-- answer press only reads a worker's row.

-- One row per pack: the latest fit, what it read and when.
CREATE TABLE skill_runs (
    pack_pk        INTEGER PRIMARY KEY REFERENCES packs(pk),
    method         TEXT NOT NULL,             -- 'one_coin_em' (docs/quality.md)
    computed_at    TEXT NOT NULL,
    answers        INTEGER NOT NULL,          -- counted answers read, gold included
    last_answer_id INTEGER NOT NULL,          -- the newest assignment id among them
    workers        INTEGER NOT NULL,
    tasks          INTEGER NOT NULL,          -- items with answers (gold included)
    gold_answers   INTEGER NOT NULL,          -- answers on gold items (the anchors)
    iterations     INTEGER NOT NULL,
    seconds        REAL NOT NULL,             -- the EM's own time
    prior_mean     REAL NOT NULL,             -- the crowd's pooled accuracy, the prior's centre
    priors         TEXT NOT NULL              -- JSON: the classes' estimated shares
);

-- Each worker's skill on the pack: the probability of a right answer (for a rating, within the
-- pack's tolerance; for multi_choice, per option), from the fit in skill_runs.
CREATE TABLE worker_skills (
    worker_id   INTEGER NOT NULL REFERENCES workers(id),
    pack_pk     INTEGER NOT NULL REFERENCES packs(pk),
    skill       REAL NOT NULL,
    answers     INTEGER NOT NULL,              -- answers behind it, gold included
    computed_at TEXT NOT NULL,
    PRIMARY KEY (worker_id, pack_pk)
) WITHOUT ROWID;
CREATE INDEX worker_skills_pack ON worker_skills (pack_pk);
