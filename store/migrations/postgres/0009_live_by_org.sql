-- A customer's new session counts the live sessions of its organization
-- on the other instances (the limits per invite and organization): by
-- organization, not by reading the whole registry for each.
CREATE INDEX live_sessions_by_organization ON live_sessions (organization);
