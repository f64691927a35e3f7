-- Settings a command records for the others, one value a name: `serve`
-- records the SSH address customers reach it at ("serve.ssh_host"), so
-- that `invite` and the wizard print a command that works.
CREATE TABLE settings (
    name       TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
