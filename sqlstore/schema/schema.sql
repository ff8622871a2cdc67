-- embedsso's tables, for PostgreSQL (9.5+) and SQLite (3.35+) alike.
-- sqlstore.Migrate runs this file; run it yourself if you manage migrations.
-- Times are microseconds since the Unix epoch, so both databases agree.

CREATE TABLE IF NOT EXISTS embedsso_orgs (
    id                TEXT PRIMARY KEY,
    embedding_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    secrets           TEXT NOT NULL,              -- JSON: [{"kid": "...", "secret": "..."}]
    allowed_origins   TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    allowed_roles     TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    dashboard_url     TEXT NOT NULL DEFAULT ''
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
    idle_expires_at BIGINT NOT NULL DEFAULT 0 -- 0: no idle limit; see columns.go for older tables
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
