-- A pack load in steps (docs/packs.md): a pack file's tasks are written in batches, each its own
-- short transaction, under a packs row of their own (id '~load-...', status 'closed') that
-- nothing serves or lists while this row names it. The load's last short transaction makes that
-- row the pack (a new pack); a replace applies it to the pack it replaces in more short steps,
-- while that pack hands out nothing new (phases 'retiring': the tasks the file lacks, then
-- 'applying': the file's tasks). A load a crash left behind (not touched for minutes) is
-- finished (retiring, applying) or thrown away (reading, discarding) by the next load, or by
-- the bot within a minute.
CREATE TABLE pack_loads (
    pack_pk    INTEGER PRIMARY KEY REFERENCES packs(pk),  -- the hidden packs row: the file's tasks
    pack_id    TEXT NOT NULL,                -- the pack id the file declares ('' if unreadable)
    replaces   INTEGER REFERENCES packs(pk), -- the pack a replace applies to (from 'retiring')
    phase      TEXT NOT NULL DEFAULT 'reading'
               CHECK (phase IN ('reading', 'retiring', 'applying', 'discarding')),
    started_at TEXT NOT NULL,
    touched_at TEXT NOT NULL                 -- the load's last sign of life
);
CREATE INDEX pack_loads_replaces ON pack_loads (replaces) WHERE replaces IS NOT NULL;
