-- Secret hand-off: a one-time code an engineer makes at the credentials
-- step, with which the customer pastes the client secret (or all three
-- credentials) over SSH straight into the sealed store. Only a hash of the
-- code is kept; what the customer pasted is sealed, and goes with the
-- draft it is bound to.
CREATE TABLE handoffs (
    id              TEXT PRIMARY KEY NOT NULL,
    code_hash       BYTEA NOT NULL UNIQUE,
    organization    TEXT NOT NULL REFERENCES organizations(name),
    draft_id        TEXT NOT NULL REFERENCES drafts(id) ON DELETE CASCADE,
    connection_name TEXT NOT NULL,
    fields          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT,
    values_sealed   BYTEA
);
CREATE INDEX handoffs_draft ON handoffs (draft_id);

-- An invite's label: who it is for ("Jane at Acme IT"), shown to engineers.
ALTER TABLE invites ADD COLUMN label TEXT NOT NULL DEFAULT '';
