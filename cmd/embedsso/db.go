package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/embedsso/embedsso/sqlstore"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx", for postgres://…
	_ "modernc.org/sqlite"             // "sqlite", pure Go, for a file
)

// database is an open -db.
type database struct {
	store *sqlstore.Store
	db    *sql.DB
}

func (d database) Close() error { return d.db.Close() }

// openDB opens dsn as the example server does: postgres://… or
// postgresql://… is PostgreSQL, anything else a SQLite file path
// (optionally prefixed with sqlite: or file:). The tables are created if
// missing. A SQLite file that does not exist is an error unless create is
// set: a typo in -db must not look like an empty database.
func openDB(ctx context.Context, dsn string, create bool) (database, error) {
	driver, source := "pgx", dsn
	if dsn == "" {
		return database{}, usagef("-db is required (postgres://… or a SQLite file)")
	}
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
		path, _, _ = strings.Cut(path, "?")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && !create {
			return database{}, fmt.Errorf("database file %s does not exist", path)
		}
		// WAL and a busy timeout let the command write beside a running
		// server; foreign keys make deletions cascade as they should.
		driver, source = "sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)"
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return database{}, err
	}
	if err := sqlstore.Migrate(ctx, db); err != nil {
		db.Close()
		return database{}, err
	}
	return database{store: sqlstore.New(db), db: db}, nil
}
