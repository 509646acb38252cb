-- The pack's latest answer times (db/answers.py recent_seconds, for the median behind the
-- derived min_seconds): read newest first from this index, LIMIT rows and no more, instead of
-- going through every answer of the pack. `status` and `seconds` are in the index so that it
-- covers the query: the table itself is not read.
CREATE INDEX assignments_answer_times ON assignments (pack_pk, status, id, seconds)
    WHERE status = 'answered' AND seconds IS NOT NULL;
