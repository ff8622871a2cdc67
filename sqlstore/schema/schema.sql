-- embedsso's tables, for PostgreSQL (9.5+) and SQLite (3.35+) alike.
-- sqlstore.Migrate runs this file; run it yourself if you manage migrations.
-- Times are microseconds since the Unix epoch, so both databases agree.

CREATE TABLE IF NOT EXISTS embedsso_orgs (
    id                TEXT PRIMARY KEY,
    embedding_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    secrets           TEXT NOT NULL,              -- JSON: [{"kid": "...", "secret": "..."}]
    allowed_origins   TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    allowed_roles     TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    dashboard_url     TEXT NOT NULL DEFAULT '',
    epoch             BIGINT NOT NULL DEFAULT 0 -- embedsso.Org.Epoch; see columns.go for older tables
);

-- Users are identified by (org_id, email), compared byte for byte; email is
-- stored as embedsso.NormalizeEmail returns it.
CREATE TABLE IF NOT EXISTS embedsso_users (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    email      TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name  TEXT NOT NULL DEFAULT '',
    role       TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    attributes  TEXT NOT NULL DEFAULT '{}', -- JSON object: the token's other claims
    group_names TEXT NOT NULL DEFAULT '[]', -- JSON array: the token's groups claim
    UNIQUE (org_id, email)
);

-- Only the SHA-256 of a session id is stored.
CREATE TABLE IF NOT EXISTS embedsso_sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES embedsso_users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    idle_expires_at BIGINT NOT NULL DEFAULT 0, -- 0: no idle limit; see columns.go for older tables
    org_epoch  BIGINT NOT NULL DEFAULT 0 -- embedsso.Session.OrgEpoch; see columns.go for older tables
);
CREATE INDEX IF NOT EXISTS embedsso_sessions_user ON embedsso_sessions (user_id);
CREATE INDEX IF NOT EXISTS embedsso_sessions_expiry ON embedsso_sessions (expires_at);

-- Used token ids (jti). The primary key makes first-use-wins atomic.
CREATE TABLE IF NOT EXISTS embedsso_used_tokens (
    org_id     TEXT NOT NULL,
    token_id   TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, token_id)
);
CREATE INDEX IF NOT EXISTS embedsso_used_tokens_expiry ON embedsso_used_tokens (expires_at);

-- What an organization holds beyond the first schema's columns (its login
-- URL and allowed groups), and what the organization API keeps beside it
-- (name, times). version counts
-- the updates: UpdateOrg writes only if it is still the version it read, so
-- concurrent updates, on any instance, are applied one after the other.
CREATE TABLE IF NOT EXISTS embedsso_org_records (
    org_id     TEXT PRIMARY KEY REFERENCES embedsso_orgs (id) ON DELETE CASCADE,
    name       TEXT NOT NULL DEFAULT '',
    login_url  TEXT NOT NULL DEFAULT '',
    allowed_groups TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    version    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL DEFAULT 0
);

-- API keys of the organization API: only the SHA-256 of a key is stored.
-- Revoking deletes the row.
CREATE TABLE IF NOT EXISTS embedsso_api_keys (
    id         TEXT PRIMARY KEY,
    hash       TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    admin      BOOLEAN NOT NULL DEFAULT FALSE,
    org_ids    TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    created_at BIGINT NOT NULL
);
