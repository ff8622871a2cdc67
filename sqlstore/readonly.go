package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// ErrNotMigrated is returned by [OpenReadOnly] when the database lacks
// embedsso's tables: [Migrate] never ran on it.
var ErrNotMigrated = errors.New("sqlstore: embedsso's tables are missing (run Migrate, or schema/schema.sql)")

// OpenReadOnly opens dsn for a tool that only reads, such as the embedsso
// command's inspect and org get. It never migrates, checks that
// embedsso's tables exist (else an error matching [ErrNotMigrated]), and
// makes every connection refuse writes: on PostgreSQL (driver pgx or
// lib/pq) with SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY, which
// a role granted only SELECT can run; on SQLite with PRAGMA query_only. A
// write through the Store then fails with the database's error. Nothing
// about the database changes: no table, no journal mode.
//
// For a SQLite file, open it read-only in dsn too, so that a missing file
// is an error instead of a new empty one (modernc.org/sqlite:
// "file:app.db?mode=ro"). Close the Store to close its connections.
func OpenReadOnly(ctx context.Context, driverName, dsn string) (*Store, error) {
	base, err := connector(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open read-only: %w", err)
	}
	pg := isPostgres(base.Driver())
	setup := "PRAGMA query_only = ON"
	if pg {
		setup = "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"
	}
	db := sql.OpenDB(pragmaConnector{base, []string{setup}})
	if err := checkTables(ctx, db, pg); err != nil {
		db.Close()
		return nil, err
	}
	// A command reads once: no cache, no change feed.
	s := newStore(db, db, CacheOptions{Off: true})
	s.dialect, s.close = dialectOf(db), db.Close
	return s, nil
}

// isPostgres reports whether d is a PostgreSQL driver sqlstore knows.
func isPostgres(d driver.Driver) bool {
	t := reflect.TypeOf(d)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return strings.HasPrefix(t.PkgPath(), "github.com/jackc/pgx/") || strings.HasPrefix(t.PkgPath(), "github.com/lib/pq")
}

// checkTables fails with ErrNotMigrated, naming them, if any of the
// schema's tables is missing. It reads the catalog only, so it needs no
// privilege on the tables themselves.
func checkTables(ctx context.Context, db *sql.DB, pg bool) error {
	query := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1`
	if pg {
		query = `SELECT count(*) FROM (SELECT to_regclass($1::text) AS t) AS c WHERE t IS NOT NULL`
	}
	var missing []string
	for _, table := range schemaTables() {
		var n int
		if err := db.QueryRowContext(ctx, query, table).Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: open read-only: %w", err)
		}
		if n == 0 {
			missing = append(missing, table)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrNotMigrated, strings.Join(missing, ", "))
	}
	return nil
}

// schemaTables are the tables schema/schema.sql creates.
func schemaTables() []string {
	const create = "CREATE TABLE IF NOT EXISTS "
	var out []string
	for _, stmt := range statements(schema) {
		if rest, ok := strings.CutPrefix(stmt, create); ok {
			out = append(out, strings.Fields(rest)[0])
		}
	}
	return out
}
