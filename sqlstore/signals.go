package sqlstore

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"strings"
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

// pgSignals and sqliteSignals are the triggers (and on SQLite the change
// log) of each database, shipped beside schema.sql for people who run their
// own migrations. Their statements are separated by a blank line after the
// semicolon, so that the semicolons inside trigger bodies stay.
//
//go:embed schema/cache_postgres.sql
var pgSignals string

//go:embed schema/cache_sqlite.sql
var sqliteSignals string

// signalTables are the tables whose changes the cache must hear of.
var signalTables = []string{"embedsso_sessions", "embedsso_users", "embedsso_orgs", "embedsso_org_records"}

// blankSeparated splits a file into the statements that end with a
// semicolon at the end of a line followed by a blank line.
func blankSeparated(file string) []string {
	var out []string
	for _, stmt := range strings.Split(file, ";\n\n") {
		stmt = strings.TrimSpace(stmt)
		var code bool
		for _, line := range strings.Split(stmt, "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "--") {
				code = true
			}
		}
		if code {
			out = append(out, strings.TrimSuffix(stmt, ";"))
		}
	}
	return out
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
	var file string
	switch engineOf(ctx, db) {
	case sqliteEngine:
		file = sqliteSignals
	case postgresEngine:
		file = pgSignals
	default:
		return nil
	}
	for _, q := range blankSeparated(file) {
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
