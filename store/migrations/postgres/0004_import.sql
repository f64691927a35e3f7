-- When an import last changed a connection's client ID, client secret,
-- discovery URL or issuer; NULL once a test login passed after it (or
-- when it never changed). `connections show`, `list` and the transcript
-- say "changed since its last test login" while it is set.
ALTER TABLE connections ADD COLUMN credentials_changed_at BIGINT;
