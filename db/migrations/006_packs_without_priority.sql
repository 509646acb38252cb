-- packs.priority was never set to anything but 0 (no command ranks packs): packs are served in
-- load order. A ranking can come back with the feature that sets it.
ALTER TABLE packs DROP COLUMN priority;
