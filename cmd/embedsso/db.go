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
	close func() error
}

func (d database) Close() error { return d.close() }

// openMode is what a command does with -db.
type openMode int

const (
	// readOnly: the database is opened read-only (sqlstore.OpenReadOnly)
	// and nothing in it changes, not even SQLite's journal mode; works as
	// a PostgreSQL role granted only SELECT.
	readOnly openMode = iota
	// readWrite: the command changes rows of existing tables; it never
	// creates tables.
	readWrite
	// migrate: the command may create the SQLite file (0600: it holds
	// secrets) and embedsso's tables; it says so on stderr when it does.
	migrate
)

// openDB opens dsn as the example server does: postgres://… or
// postgresql://… is PostgreSQL, anything else a SQLite file path
// (optionally prefixed with sqlite: or file:). Only mode migrate creates a
// missing SQLite file or missing tables: a typo in -db must not look like
// an empty database, and a tool that reads must not write.
func openDB(ctx context.Context, e env, dsn string, mode openMode) (database, error) {
	if dsn == "" {
		return database{}, usagef("-db is required (postgres://… or a SQLite file)")
	}
	driver, source, readSource := "pgx", dsn, dsn
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
		path, _, _ = strings.Cut(path, "?")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			if mode != migrate {
				return database{}, fmt.Errorf("database file %s does not exist", path)
			}
			if err := createPrivate(path); err != nil {
				return database{}, err
			}
		}
		// A busy timeout lets the command run beside a server; foreign
		// keys make deletions cascade. Only a command that migrates puts
		// the file in WAL mode (which the file keeps), as the server does.
		driver = "sqlite"
		source = "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
		readSource = "file:" + path + "?mode=ro&_pragma=busy_timeout(10000)"
		if mode == migrate {
			source += "&_pragma=journal_mode(WAL)"
		}
	}
	ro, err := sqlstore.OpenReadOnly(ctx, driver, readSource)
	missing := errors.Is(err, sqlstore.ErrNotMigrated)
	switch {
	case err != nil && !missing:
		return database{}, err
	case mode == readOnly && missing:
		return database{}, fmt.Errorf("the database has no embedsso tables, so nothing to read (%w); embedsso org create or apikey create creates them", err)
	case mode == readOnly:
		return database{store: ro, close: ro.Close}, nil
	case missing && mode != migrate:
		return database{}, fmt.Errorf("the database has no embedsso tables (%w); embedsso org create or apikey create creates them", err)
	}
	if err == nil {
		_ = ro.Close()
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return database{}, err
	}
	if mode == migrate {
		// Also on a migrated database: it adds what a newer version's
		// tables have (sqlstore.Migrate is idempotent).
		if err := sqlstore.Migrate(ctx, db); err != nil {
			db.Close()
			return database{}, err
		}
		if missing {
			fmt.Fprintln(e.stderr, "embedsso: the database had no embedsso tables: created them (sqlstore.Migrate)")
		}
	}
	return database{store: sqlstore.New(db), close: db.Close}, nil
}

// createPrivate creates the empty file path, readable by its owner only:
// the database will hold organizations' secrets. SQLite gives its -wal and
// -shm files the database file's permissions.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}
