-- Several `serve` instances on one database (see cluster.go). Times are
-- Unix nanoseconds (UTC). Each instance writes only its own rows, and
-- removes them when it stops; a row whose instance stopped heartbeating
-- is a dead instance's, shown as lost and swept later.

-- The running instances: where the others reach them over SSH, and when
-- each last said it was alive.
CREATE TABLE instances (
    id           TEXT PRIMARY KEY NOT NULL,
    ssh_addr     TEXT NOT NULL DEFAULT '',
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);

-- The customer sessions of every instance, as the engineers' list shows
-- them; each instance upserts its own now and then.
CREATE TABLE live_sessions (
    id           TEXT PRIMARY KEY NOT NULL,
    instance     TEXT NOT NULL,
    organization TEXT NOT NULL DEFAULT '',
    who          TEXT NOT NULL DEFAULT '',
    step         INTEGER NOT NULL DEFAULT 0,
    step_title   TEXT NOT NULL DEFAULT '',
    step_since   INTEGER NOT NULL DEFAULT 0,
    last_key_at  INTEGER NOT NULL DEFAULT 0,
    validation   TEXT NOT NULL DEFAULT '',
    test_login   TEXT NOT NULL DEFAULT '',
    watchers     TEXT NOT NULL DEFAULT '[]',
    started_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX live_sessions_by_instance ON live_sessions (instance);

-- Which instance holds the test login waiting for a state (its SHA-256:
-- the state itself is never stored), so that a callback reaching another
-- instance is handed to it.
CREATE TABLE pending_logins (
    state_hash BLOB PRIMARY KEY NOT NULL,
    instance   TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX pending_logins_by_instance ON pending_logins (instance);

-- Wrong invite codes per source address, counted by every instance.
CREATE TABLE code_failures (
    id      INTEGER PRIMARY KEY,
    address TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX code_failures_by_address ON code_failures (address, at);
