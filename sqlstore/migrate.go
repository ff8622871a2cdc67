package sqlstore

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"strings"
)

// schema is schema/schema.sql, shipped beside the code for people who run
// their own migrations.
//
//go:embed schema/schema.sql
var schema string

// migrateAttempts bounds Migrate's retries; see there.
const migrateAttempts = 3

// Migrate creates embedsso's tables if they do not exist. It is safe to run
// at every start, and from several instances starting at once.
//
// The statements run in one transaction, so a failure leaves nothing
// half-created. When instances race on an empty PostgreSQL database, the
// losers' CREATE … IF NOT EXISTS fails once the winner commits (PostgreSQL
// checks "if not exists" before it waits on the catalog): a retry then finds
// every table and succeeds, so Migrate tries a few times before it gives up.
func Migrate(ctx context.Context, db *sql.DB) error {
	var err error
	for range migrateAttempts {
		if err = migrateOnce(ctx, db); err == nil {
			err = addColumns(ctx, db)
		}
		if err == nil {
			err = addChangeSignals(ctx, db)
		}
		if err == nil || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return nil
}

func migrateOnce(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	for _, stmt := range statements(schema) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// statements splits a schema file into its statements. The file has no
// semicolon or "--" inside a literal, so comments and ';' split it plainly.
func statements(file string) []string {
	var b strings.Builder
	for _, line := range strings.Split(file, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	var out []string
	for _, stmt := range strings.Split(b.String(), ";") {
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			out = append(out, stmt)
		}
	}
	return out
}
