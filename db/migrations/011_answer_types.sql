-- Answer types (issue 10): a multi_choice task's toggles are kept on its open assignment (a bit
-- per option index), so a Done press answers what the worker last saw, whatever the order in
-- which their taps arrived; a text answer is stored in assignments.answer as the text itself.
ALTER TABLE assignments ADD COLUMN selection INTEGER NOT NULL DEFAULT 0;
