package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// addedColumns are the columns added to tables after they were first
// shipped. schema.sql creates new tables with them; for a table created by
// an earlier schema, Migrate adds each one that is missing, so an existing
// database keeps its users and sessions. Each is added with a default that
// means what the earlier schema meant (idle_expires_at 0: no idle limit).
//
// This is written by hand because the two databases disagree on the one
// statement that would do it: PostgreSQL has ALTER TABLE … ADD COLUMN IF NOT
// EXISTS, SQLite has not.
var addedColumns = []struct{ table, column, definition, index string }{
	{"embedsso_sessions", "idle_expires_at", "BIGINT NOT NULL DEFAULT 0",
		"CREATE INDEX IF NOT EXISTS embedsso_sessions_idle ON embedsso_sessions (idle_expires_at)"},
	{"embedsso_users", "attributes", "TEXT NOT NULL DEFAULT '{}'", ""},
	{"embedsso_users", "group_names", "TEXT NOT NULL DEFAULT '[]'", ""},
	// An organization that never ended its sessions at once, and the
	// sessions of such an organization, are at epoch 0.
	{"embedsso_orgs", "epoch", "BIGINT NOT NULL DEFAULT 0", ""},
	{"embedsso_sessions", "org_epoch", "BIGINT NOT NULL DEFAULT 0", ""},
}

// addColumns adds the missing addedColumns. It probes outside a transaction
// (a failed statement would abort a PostgreSQL transaction) and tolerates
// another instance adding the same column first.
func addColumns(ctx context.Context, db *sql.DB) error {
	for _, c := range addedColumns {
		if !hasColumn(ctx, db, c.table, c.column) {
			_, err := db.ExecContext(ctx, "ALTER TABLE "+c.table+" ADD COLUMN "+c.column+" "+c.definition)
			if err != nil && !hasColumn(ctx, db, c.table, c.column) {
				return fmt.Errorf("add %s.%s: %w", c.table, c.column, err)
			}
		}
		if c.index == "" {
			continue
		}
		if _, err := db.ExecContext(ctx, c.index); err != nil {
			return fmt.Errorf("index %s.%s: %w", c.table, c.column, err)
		}
	}
	return nil
}

// hasColumn reports whether table has column, by selecting it from no rows.
func hasColumn(ctx context.Context, db *sql.DB, table, column string) bool {
	rows, err := db.QueryContext(ctx, "SELECT "+column+" FROM "+table+" WHERE 1 = 0")
	if err != nil {
		return false
	}
	return rows.Close() == nil
}
