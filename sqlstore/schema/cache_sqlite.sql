-- The triggers through which sqlstore's read cache hears of every change on
-- SQLite (3.35+), and the change log they fill. sqlstore.Migrate runs this
-- file after schema.sql; run it yourself if you manage migrations, or the
-- cache stays off. A Store reads the log when PRAGMA data_version says the
-- file changed; PurgeExpired deletes entries older than an hour.

CREATE TABLE IF NOT EXISTS embedsso_changes (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    change TEXT NOT NULL,
    at     BIGINT NOT NULL -- seconds since the Unix epoch, for PurgeExpired
);

CREATE TRIGGER IF NOT EXISTS embedsso_cache_sessions_touch AFTER UPDATE ON embedsso_sessions
	WHEN NEW.id_hash = OLD.id_hash AND NEW.user_id = OLD.user_id AND NEW.created_at = OLD.created_at AND NEW.expires_at = OLD.expires_at
	BEGIN INSERT INTO embedsso_changes (change, at) VALUES ('t:' || NEW.id_hash || ':' || NEW.idle_expires_at, CAST(strftime('%s', 'now') AS INTEGER)); END;

CREATE TRIGGER IF NOT EXISTS embedsso_cache_sessions_change AFTER UPDATE ON embedsso_sessions
	WHEN NOT (NEW.id_hash = OLD.id_hash AND NEW.user_id = OLD.user_id AND NEW.created_at = OLD.created_at AND NEW.expires_at = OLD.expires_at)
	BEGIN INSERT INTO embedsso_changes (change, at) VALUES ('s:' || OLD.id_hash, CAST(strftime('%s', 'now') AS INTEGER)); END;

CREATE TRIGGER IF NOT EXISTS embedsso_cache_sessions_delete AFTER DELETE ON embedsso_sessions
	BEGIN INSERT INTO embedsso_changes (change, at) VALUES ('s:' || OLD.id_hash, CAST(strftime('%s', 'now') AS INTEGER)); END;

CREATE TRIGGER IF NOT EXISTS embedsso_cache_users_update AFTER UPDATE ON embedsso_users
	BEGIN INSERT INTO embedsso_changes (change, at) VALUES ('u:' || OLD.id, CAST(strftime('%s', 'now') AS INTEGER)); END;

CREATE TRIGGER IF NOT EXISTS embedsso_cache_users_delete AFTER DELETE ON embedsso_users
	BEGIN INSERT INTO embedsso_changes (change, at) VALUES ('u:' || OLD.id, CAST(strftime('%s', 'now') AS INTEGER)); END;

CREATE TRIGGER IF NOT EXISTS embedsso_cache_orgs_update AFTER UPDATE ON embedsso_orgs
	BEGIN INSERT INTO embedsso_changes (change, at) VALUES ('o:' || OLD.id, CAST(strftime('%s', 'now') AS INTEGER)); END;

CREATE TRIGGER IF NOT EXISTS embedsso_cache_orgs_delete AFTER DELETE ON embedsso_orgs
	BEGIN INSERT INTO embedsso_changes (change, at) VALUES ('o:' || OLD.id, CAST(strftime('%s', 'now') AS INTEGER)); END;

CREATE TRIGGER IF NOT EXISTS embedsso_cache_records_update AFTER UPDATE ON embedsso_org_records
	BEGIN INSERT INTO embedsso_changes (change, at) VALUES ('o:' || OLD.org_id, CAST(strftime('%s', 'now') AS INTEGER)); END;

CREATE TRIGGER IF NOT EXISTS embedsso_cache_records_delete AFTER DELETE ON embedsso_org_records
	BEGIN INSERT INTO embedsso_changes (change, at) VALUES ('o:' || OLD.org_id, CAST(strftime('%s', 'now') AS INTEGER)); END;
