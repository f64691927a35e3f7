-- Diagnosis: the snapshot a connection was activated with (drift watch
-- compares the IdP with it), the test login its current mappings were
-- checked against (replay), and labels for opaque group IDs.

CREATE TABLE activation_snapshots (
    connection_id TEXT PRIMARY KEY NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    at            INTEGER NOT NULL,
    report        TEXT NOT NULL,
    metadata      BLOB,
    jwks          BLOB
);

-- The test login (test_logins.id) the connection's mappings were last
-- replayed or checked against; NULL when never.
ALTER TABLE connections ADD COLUMN mappings_checked_login INTEGER;

CREATE TABLE group_labels (
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    group_id      TEXT NOT NULL,
    label         TEXT NOT NULL,
    PRIMARY KEY (connection_id, group_id)
);
