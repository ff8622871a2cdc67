// Package sqlstore implements embedsso's storage interfaces over
// database/sql, for PostgreSQL and SQLite, so that several app instances
// share users, sessions and used token ids.
//
// It works with any driver: pgx's stdlib ("pgx") or lib/pq for PostgreSQL,
// modernc.org/sqlite (pure Go) or mattn/go-sqlite3 for SQLite. Create the
// tables once with [Migrate], or run schema/schema.sql with your own tool.
//
// Upserts and single-use token ids are race-free through the database itself
// (a unique key and INSERT … ON CONFLICT), not through a lock in this
// process, so they hold across any number of instances.
package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/embedsso/embedsso"
)

//go:embed schema/schema.sql
var schema string

// Migrate creates embedsso's tables if they do not exist. It is safe to run
// at every start.
func Migrate(ctx context.Context, db *sql.DB) error {
	for _, stmt := range strings.Split(stripComments(schema), ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqlstore: migrate: %w", err)
		}
	}
	return nil
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// Store is an [embedsso.OrgStore], [embedsso.UserStore],
// [embedsso.SessionStore], [embedsso.ReplayStore] and [embedsso.Purger] over
// one database. It is safe for concurrent use; so are several Stores over the
// same database.
type Store struct {
	db  *sql.DB
	now func() time.Time
}

var (
	_ embedsso.OrgStore     = (*Store)(nil)
	_ embedsso.UserStore    = (*Store)(nil)
	_ embedsso.SessionStore = (*Store)(nil)
	_ embedsso.ReplayStore  = (*Store)(nil)
	_ embedsso.Purger       = (*Store)(nil)
)

// New returns a Store over db, whose tables [Migrate] created. The same SQL
// runs on PostgreSQL and SQLite; for SQLite, open the database with a busy
// timeout (modernc.org/sqlite: "?_pragma=busy_timeout(5000)") so concurrent
// writers wait for each other instead of failing with SQLITE_BUSY.
func New(db *sql.DB) *Store { return &Store{db: db, now: time.Now} }

func micros(t time.Time) int64      { return t.UnixMicro() }
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func newID(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
