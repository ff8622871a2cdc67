package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/sqlstore"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" for -db postgres://…
	_ "modernc.org/sqlite"             // "sqlite", pure Go, for the default file
)

// defaultDB is where the example keeps its data when -db is not given.
const defaultDB = "embedsso-example.db"

// stores are the example's storage: one sqlstore.Store serves as all four.
type stores struct {
	orgs     embedsso.OrgStore
	users    embedsso.UserStore
	sessions embedsso.SessionStore
	replay   embedsso.ReplayStore
	purger   embedsso.Purger
	describe string       // for the banner
	removed  []removedOrg // organizations of earlier runs, deleted at start
	close    func() error
}

// openStores opens dsn (postgres://… or postgresql://… for PostgreSQL, "memory"
// for the in-memory stores, else a SQLite file path, optionally prefixed with
// sqlite: or file:), creates the tables if needed and makes orgs its
// organizations (see replaceOrgs).
func openStores(ctx context.Context, dsn string, orgs []embedsso.Org) (stores, error) {
	if dsn == memoryDB {
		return memoryStores(orgs), nil
	}
	driver, source, describe := "sqlite", "", ""
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		driver, source, describe = "pgx", dsn, "PostgreSQL"
	default:
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
		if path == "" {
			path = defaultDB
		}
		path, _, _ = strings.Cut(path, "?")
		// WAL and a busy timeout let concurrent requests write without SQLITE_BUSY.
		source = "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)"
		describe = "SQLite file " + path
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return stores{}, err
	}
	if err := sqlstore.Migrate(ctx, db); err != nil {
		db.Close()
		return stores{}, fmt.Errorf("%s: %w", describe, err)
	}
	s := sqlstore.New(db)
	removed, err := replaceOrgs(ctx, db, s, orgs)
	if err != nil {
		db.Close()
		return stores{}, fmt.Errorf("%s: %w", describe, err)
	}
	return stores{orgs: s, users: s, sessions: s, replay: s, purger: s, describe: describe, removed: removed, close: db.Close}, nil
}
