-- The first schema of oidc-onboard. Times are Unix nanoseconds (UTC);
-- sealed columns hold AES-256-GCM blobs (see seal.go), never plain text.

CREATE TABLE organizations (
    name       TEXT PRIMARY KEY NOT NULL,
    domain     TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

CREATE TABLE connections (
    id                   TEXT PRIMARY KEY NOT NULL,
    organization         TEXT NOT NULL REFERENCES organizations(name),
    name                 TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('draft', 'active', 'inactive')),
    discovery_url        TEXT NOT NULL DEFAULT '',
    issuer               TEXT NOT NULL DEFAULT '',
    client_id            TEXT NOT NULL DEFAULT '',
    client_secret_sealed BLOB,
    redirect_uri         TEXT NOT NULL DEFAULT '',
    claims               TEXT NOT NULL DEFAULT '{}',
    groups_claim         TEXT NOT NULL DEFAULT '',
    role_mappings        TEXT NOT NULL DEFAULT '[]',
    default_role         TEXT NOT NULL DEFAULT '',
    metadata             BLOB,
    jwks                 BLOB,
    report               TEXT,
    validated_at         INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    UNIQUE (organization, name)
);

CREATE TABLE drafts (
    id            TEXT PRIMARY KEY NOT NULL,
    organization  TEXT NOT NULL DEFAULT '',
    connection_id TEXT REFERENCES connections(id) ON DELETE SET NULL,
    step          INTEGER NOT NULL DEFAULT 0,
    form_sealed   BLOB NOT NULL,
    actor         TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX drafts_by_organization ON drafts (organization, updated_at);

CREATE TABLE test_logins (
    id              INTEGER PRIMARY KEY,
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    at              INTEGER NOT NULL,
    ok              INTEGER NOT NULL,
    profile         TEXT,
    claims          TEXT,
    userinfo_claims TEXT,
    error           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX test_logins_by_connection ON test_logins (connection_id, at);

-- Audit events outlive the connections they name: no foreign key.
CREATE TABLE audit_events (
    id            INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    connection_id TEXT NOT NULL DEFAULT '',
    organization  TEXT NOT NULL DEFAULT '',
    address       TEXT NOT NULL DEFAULT '',
    detail        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_organization ON audit_events (organization, at);

CREATE TABLE invites (
    id           TEXT PRIMARY KEY NOT NULL,
    code_hash    BLOB NOT NULL UNIQUE,
    organization TEXT NOT NULL REFERENCES organizations(name),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    revoked_at   INTEGER
);
