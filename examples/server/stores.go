package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/orgapi"
	"github.com/embedsso/embedsso/sqlstore"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" for -db postgres://…
	_ "modernc.org/sqlite"             // "sqlite", pure Go, for the default file
)

// defaultDB is where the example keeps its data when -db is not given.
const defaultDB = "embedsso-example.db"

// pgConns bounds the PostgreSQL pool, idle connections included: with
// database/sql's default of 2 idle connections, a burst of logins would
// open and close a server connection for nearly every request.
const pgConns = 20

// stores are the example's storage: one sqlstore.Store serves as all four.
// purger deletes a store's expired entries in bulk: PurgeExpired of the
// memory store and of sqlstore.
type purger interface {
	PurgeExpired(ctx context.Context, now time.Time) (int, error)
}

type stores struct {
	orgs     embedsso.OrgStore
	users    embedsso.UserStore
	sessions cookiesession.Store
	replay   embedsso.ReplayStore
	// signIns makes a sign-in's writes in one transaction; nil for the
	// memory stores, which write one step at a time.
	signIns cookiesession.SignInStore
	purger  purger
	// The organization API's side (app.go, adminkey.go).
	admin    orgapi.OrgAdmin
	keys     orgapi.APIKeyStore
	revoker  orgapi.SessionRevoker
	describe string       // for the banner
	removed  []removedOrg // organizations of earlier runs, deleted at start
	close    func() error
}

// openStores opens dsn (postgres://… or postgresql://… for PostgreSQL, "memory"
// for the in-memory stores, else a SQLite file: see sqliteDSN), creates the
// tables if needed and makes orgs its organizations (see replaceOrgs).
func openStores(ctx context.Context, dsn string, orgs []embedsso.Org) (stores, error) {
	if dsn == memoryDB {
		return memoryStores(orgs)
	}
	var s *sqlstore.Store
	var admin *sql.DB // for replaceOrgs, which deletes with its own SQL
	var describe string
	var closeDB func() error
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		describe = "PostgreSQL"
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return stores{}, err
		}
		db.SetMaxOpenConns(pgConns)
		db.SetMaxIdleConns(pgConns)
		if err := sqlstore.Migrate(ctx, db); err != nil {
			db.Close()
			return stores{}, fmt.Errorf("%s: %w", describe, err)
		}
		s, admin, closeDB = sqlstore.New(db), db, db.Close
	default:
		source, path, err := sqliteDSN(dsn)
		if err != nil {
			return stores{}, err
		}
		describe = "SQLite file " + path
		if err := createPrivate(path); err != nil {
			return stores{}, fmt.Errorf("%s: %w", describe, err)
		}
		// One writer connection, taken in turn, beside a read-only pool;
		// WAL, busy_timeout and foreign keys (see sqlstore.OpenSQLite).
		s, err = sqlstore.OpenSQLite(ctx, "sqlite", source, sqlstore.SQLiteOptions{})
		if err != nil {
			return stores{}, fmt.Errorf("%s: %w", describe, err)
		}
		closeDB = s.Close
		// The Store keeps its connections to itself: replaceOrgs gets a
		// handle of its own for the start, closed once it is done.
		if admin, err = sql.Open("sqlite", source+"&_pragma=busy_timeout(5000)"); err != nil {
			s.Close()
			return stores{}, err
		}
		defer admin.Close()
	}
	removed, err := replaceOrgs(ctx, admin, s, orgs)
	if err == nil {
		err = deleteBannerKeys(ctx, admin)
	}
	if err != nil {
		closeDB()
		return stores{}, fmt.Errorf("%s: %w", describe, err)
	}
	return stores{orgs: s, users: s, sessions: s, replay: s, signIns: s, purger: s, admin: s, keys: s, revoker: s,
		describe: describe, removed: removed, close: closeDB}, nil
}

// sqliteDSN turns -db's SQLite value (a path, optionally prefixed with
// sqlite: or file:, optionally followed by ?options) into modernc.org/sqlite's
// DSN. The options go to the driver as given (_pragma=name(value), _txlock,
// …); unless they set synchronous (_pragma=synchronous(…), _synchronous or
// _sync), synchronous(NORMAL) is added: in WAL mode it skips the disk flush
// at each commit, at the price of the last commits on a power cut or OS
// crash (examples/server/README.md).
func sqliteDSN(flag string) (dsn, path string, err error) {
	path, query, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(flag, "sqlite:"), "file:"), "?")
	if path == "" {
		path = defaultDB
	}
	opts, err := url.ParseQuery(query)
	if err != nil {
		return "", "", fmt.Errorf("-db %q: options: %w", flag, err)
	}
	if !setsSynchronous(opts) {
		if query != "" {
			query += "&"
		}
		query += "_pragma=synchronous(NORMAL)"
	}
	return "file:" + path + "?" + query, path, nil
}

func setsSynchronous(opts url.Values) bool {
	if opts.Has("_synchronous") || opts.Has("_sync") {
		return true
	}
	for _, p := range opts["_pragma"] {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(p)), "synchronous") {
			return true
		}
	}
	return false
}

// createPrivate creates the SQLite file path, empty and readable by its
// owner only, unless it exists: it will hold the organizations' secrets
// (SQLite would create it 0644, and gives its -wal and -shm files the
// database file's permissions). An existing file keeps its permissions.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}
