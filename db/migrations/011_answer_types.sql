-- Answer types (issue 10): a multi_choice task's toggles are kept on its open assignment (a bit
-- per option index), so a Done press answers what the worker last saw, whatever the order in
-- which their taps arrived; a text answer is stored in assignments.answer as the text itself.
ALTER TABLE assignments ADD COLUMN selection INTEGER NOT NULL DEFAULT 0;
-- Whether a gold answer is right, as the answer type judged it when it was stored (a rating
-- within its tolerance, a text after normalisation...), and again when the gold is corrected;
-- NULL on other answers. Counts of right answers read it (older rows: answer = gold).
ALTER TABLE assignments ADD COLUMN correct INTEGER;
