-- The invite each live customer session came in with, so that the limits
-- per invite count the sessions of every instance.
ALTER TABLE live_sessions ADD COLUMN invite TEXT NOT NULL DEFAULT '';
