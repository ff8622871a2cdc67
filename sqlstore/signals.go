package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// The read cache (cache.go) learns of every change that could make a cached
// session or organization stale from the database itself: triggers on the
// tables it caches, so that every write is seen, whoever makes it (another
// instance, the embedsso command, a hand-written DELETE). A change is one
// text:
//
//	s:<id_hash>          a session was deleted or changed
//	t:<id_hash>:<idle>   a session's idle expiry was renewed to <idle> (µs)
//	u:<user id>          a user was changed or deleted
//	o:<org id>           an organization (or its record) was changed or deleted
//
// PostgreSQL sends it with NOTIFY on changeChannel, at commit; SQLite
// appends it to embedsso_changes, which instances poll when PRAGMA
// data_version says the file changed.
const changeChannel = "embedsso_cache"

// pgSignals are PostgreSQL's triggers. CREATE OR REPLACE FUNCTION and a
// trigger created only when missing keep Migrate safe to run at every start.
var pgSignals = []string{`
CREATE OR REPLACE FUNCTION embedsso_cache_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_TABLE_NAME = 'embedsso_sessions' THEN
		IF TG_OP = 'UPDATE' AND NEW.id_hash = OLD.id_hash AND NEW.user_id = OLD.user_id
			AND NEW.created_at = OLD.created_at AND NEW.expires_at = OLD.expires_at THEN
			PERFORM pg_notify('` + changeChannel + `', 't:' || NEW.id_hash || ':' || NEW.idle_expires_at);
		ELSE
			PERFORM pg_notify('` + changeChannel + `', 's:' || OLD.id_hash);
		END IF;
	ELSIF TG_TABLE_NAME = 'embedsso_users' THEN
		PERFORM pg_notify('` + changeChannel + `', 'u:' || OLD.id);
	ELSIF TG_TABLE_NAME = 'embedsso_orgs' THEN
		PERFORM pg_notify('` + changeChannel + `', 'o:' || OLD.id);
	ELSE
		PERFORM pg_notify('` + changeChannel + `', 'o:' || OLD.org_id);
	END IF;
	RETURN NULL;
END $$`}

// signalTables are the tables whose changes the cache must hear of.
var signalTables = []string{"embedsso_sessions", "embedsso_users", "embedsso_orgs", "embedsso_org_records"}

// sqliteSignals are SQLite's change log and its triggers.
var sqliteSignals = []string{
	`CREATE TABLE IF NOT EXISTS embedsso_changes (
		seq    INTEGER PRIMARY KEY AUTOINCREMENT,
		change TEXT NOT NULL,
		at     BIGINT NOT NULL -- seconds since the Unix epoch, for PurgeExpired
	)`,
	`CREATE TRIGGER IF NOT EXISTS embedsso_cache_sessions_touch AFTER UPDATE ON embedsso_sessions
	WHEN NEW.id_hash = OLD.id_hash AND NEW.user_id = OLD.user_id AND NEW.created_at = OLD.created_at AND NEW.expires_at = OLD.expires_at
	BEGIN INSERT INTO embedsso_changes (change, at) VALUES ('t:' || NEW.id_hash || ':' || NEW.idle_expires_at, CAST(strftime('%s', 'now') AS INTEGER)); END`,
	`CREATE TRIGGER IF NOT EXISTS embedsso_cache_sessions_change AFTER UPDATE ON embedsso_sessions
	WHEN NOT (NEW.id_hash = OLD.id_hash AND NEW.user_id = OLD.user_id AND NEW.created_at = OLD.created_at AND NEW.expires_at = OLD.expires_at)
	BEGIN INSERT INTO embedsso_changes (change, at) VALUES ('s:' || OLD.id_hash, CAST(strftime('%s', 'now') AS INTEGER)); END`,
	`CREATE TRIGGER IF NOT EXISTS embedsso_cache_sessions_delete AFTER DELETE ON embedsso_sessions
	BEGIN INSERT INTO embedsso_changes (change, at) VALUES ('s:' || OLD.id_hash, CAST(strftime('%s', 'now') AS INTEGER)); END`,
	`CREATE TRIGGER IF NOT EXISTS embedsso_cache_users_update AFTER UPDATE ON embedsso_users
	BEGIN INSERT INTO embedsso_changes (change, at) VALUES ('u:' || OLD.id, CAST(strftime('%s', 'now') AS INTEGER)); END`,
	`CREATE TRIGGER IF NOT EXISTS embedsso_cache_users_delete AFTER DELETE ON embedsso_users
	BEGIN INSERT INTO embedsso_changes (change, at) VALUES ('u:' || OLD.id, CAST(strftime('%s', 'now') AS INTEGER)); END`,
	`CREATE TRIGGER IF NOT EXISTS embedsso_cache_orgs_update AFTER UPDATE ON embedsso_orgs
	BEGIN INSERT INTO embedsso_changes (change, at) VALUES ('o:' || OLD.id, CAST(strftime('%s', 'now') AS INTEGER)); END`,
	`CREATE TRIGGER IF NOT EXISTS embedsso_cache_orgs_delete AFTER DELETE ON embedsso_orgs
	BEGIN INSERT INTO embedsso_changes (change, at) VALUES ('o:' || OLD.id, CAST(strftime('%s', 'now') AS INTEGER)); END`,
	`CREATE TRIGGER IF NOT EXISTS embedsso_cache_records_update AFTER UPDATE ON embedsso_org_records
	BEGIN INSERT INTO embedsso_changes (change, at) VALUES ('o:' || OLD.org_id, CAST(strftime('%s', 'now') AS INTEGER)); END`,
	`CREATE TRIGGER IF NOT EXISTS embedsso_cache_records_delete AFTER DELETE ON embedsso_org_records
	BEGIN INSERT INTO embedsso_changes (change, at) VALUES ('o:' || OLD.org_id, CAST(strftime('%s', 'now') AS INTEGER)); END`,
}

// sqliteSignalTriggers is how many triggers sqliteSignals creates.
const sqliteSignalTriggers = 9

// engine is the database a handle talks to, as far as the cache cares.
type engine int

const (
	otherEngine engine = iota
	sqliteEngine
	postgresEngine
)

// engineOf asks the database which it is: only SQLite has sqlite_version(),
// only PostgreSQL the setting server_version_num.
func engineOf(ctx context.Context, db *sql.DB) engine {
	var v string
	if db.QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&v) == nil {
		return sqliteEngine
	}
	if db.QueryRowContext(ctx, `SELECT current_setting('server_version_num')`).Scan(&v) == nil {
		return postgresEngine
	}
	return otherEngine
}

// addChangeSignals creates the triggers the cache listens to.
func addChangeSignals(ctx context.Context, db *sql.DB) error {
	var stmts []string
	switch engineOf(ctx, db) {
	case sqliteEngine:
		stmts = sqliteSignals
	case postgresEngine:
		stmts = pgSignals
		for _, t := range signalTables {
			var n int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_trigger WHERE tgname = $1 AND tgrelid = $2::regclass`,
				t+"_cache", t).Scan(&n); err != nil {
				return fmt.Errorf("find trigger %s_cache: %w", t, err)
			}
			if n == 0 {
				stmts = append(stmts, `CREATE TRIGGER `+t+`_cache AFTER UPDATE OR DELETE ON `+t+
					` FOR EACH ROW EXECUTE PROCEDURE embedsso_cache_notify()`)
			}
		}
	default:
		return nil
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			// Another instance creating the same trigger first is fine.
			if hasSignals(ctx, db) {
				continue
			}
			return fmt.Errorf("change signals: %w", err)
		}
	}
	return nil
}

// hasSignals reports whether every trigger the cache needs exists: without
// them a cache would never hear of a change, so it stays off.
func hasSignals(ctx context.Context, db *sql.DB) bool {
	var n int
	switch engineOf(ctx, db) {
	case sqliteEngine:
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'embedsso_cache_%'`).Scan(&n)
		return err == nil && n == sqliteSignalTriggers
	case postgresEngine:
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_trigger WHERE tgname IN ($1, $2, $3, $4)`,
			signalTables[0]+"_cache", signalTables[1]+"_cache", signalTables[2]+"_cache", signalTables[3]+"_cache").Scan(&n)
		return err == nil && n == len(signalTables)
	}
	return false
}
