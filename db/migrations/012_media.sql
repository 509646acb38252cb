-- Media on tasks (issue 10): what a task shows above its buttons, and what Telegram already
-- holds, so that a local file is uploaded once and then sent by file_id to every worker.
CREATE TABLE task_media (
    task_pk   INTEGER PRIMARY KEY REFERENCES tasks(pk),
    kind      TEXT NOT NULL CHECK (kind IN ('image', 'audio', 'voice')),
    source    TEXT NOT NULL CHECK (source IN ('file', 'url', 'file_id')),
    ref       TEXT NOT NULL,      -- the absolute path, the URL or the file_id
    media_key TEXT,               -- 'sha256:<hex>' of a file's bytes, 'url:<url>'; NULL: a file_id
    size      INTEGER             -- bytes of a local file, as loaded
);

-- Keyed by content, not by path: the same picture in two packs, or moved with its pack, is one
-- upload; a file changed in place is a new upload. Per kind: a photo's file_id cannot be sent
-- with sendVoice.
CREATE TABLE media_files (
    media_key   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    file_id     TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (media_key, kind)
) WITHOUT ROWID;
