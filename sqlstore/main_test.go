package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/embedsso/embedsso/internal/pgtest"
	"github.com/embedsso/embedsso/sqlstore"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"
)

// pg is the PostgreSQL server every test of this package shares; each test
// gets its own database on it.
var pg *pgtest.Server

func TestMain(m *testing.M) {
	var err error
	pg, err = pgtest.Start()
	switch {
	case errors.Is(err, pgtest.ErrNoBinaries) && os.Getenv("CI") == "":
		// A developer without PostgreSQL still runs the SQLite half;
		// CI never skips it.
		fmt.Fprintln(os.Stderr, "sqlstore: PostgreSQL tests will be skipped:", err)
	case err != nil:
		fmt.Fprintln(os.Stderr, "sqlstore: the tests need a PostgreSQL server:", err)
		os.Exit(1)
	}
	code := m.Run()
	if pg != nil {
		pg.Stop()
	}
	for _, d := range durable {
		if d.server != nil {
			d.server.Stop()
		}
	}
	removeScratch()
	os.Exit(code)
}

// durable are more PostgreSQL servers, with durable commits, each started
// by the first benchmark that needs it: postgres-durable with initdb's
// settings, postgres-durable-2gb with shared_buffers at 2 GB, a quarter of
// an 8 GB server (the PostgreSQL documentation's starting point for a
// dedicated server, and what managed services set by default), enough to
// hold BenchmarkScale's databases of a million rows.
var durable = map[string]*struct {
	once     sync.Once
	settings []string
	server   *pgtest.Server
	err      error
}{
	"postgres-durable":     {},
	"postgres-durable-2gb": {settings: []string{"shared_buffers=2GB"}},
}

// database is one empty database a test may open several handles on, as
// several app instances would.
type database struct {
	name        string
	driver, dsn string
	open        func(t testing.TB) *sql.DB
}

// newDatabase makes an empty, migrated database of the given kind.
func newDatabase(t testing.TB, kind string) database {
	t.Helper()
	db := newBareDatabase(t, kind)
	require.NoError(t, sqlstore.Migrate(context.Background(), db.open(t)))
	return db
}

// newBareDatabase makes an empty database of the given kind, without tables.
func newBareDatabase(t testing.TB, kind string) database {
	t.Helper()
	var driver, dsn string
	switch kind {
	case "postgres":
		if pg == nil {
			t.Skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine: apt-get install postgresql")
		}
		var err error
		dsn, err = pg.NewDatabase(context.Background(), func(dsn string) (*sql.DB, error) { return sql.Open("pgx", dsn) })
		require.NoError(t, err)
		driver = "pgx"
	case "postgres-durable", "postgres-durable-2gb":
		if pg == nil {
			t.Skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine: apt-get install postgresql")
		}
		d := durable[kind]
		d.once.Do(func() { d.server, d.err = pgtest.StartDurable(d.settings...) })
		require.NoError(t, d.err)
		var err error
		dsn, err = d.server.NewDatabase(context.Background(), func(dsn string) (*sql.DB, error) { return sql.Open("pgx", dsn) })
		require.NoError(t, err)
		driver = "pgx"
	case "sqlite":
		// WAL lets readers run beside the writer; the busy timeout makes
		// concurrent writers (and other handles) wait instead of failing.
		dsn = "file:" + filepath.Join(t.TempDir(), "embedsso.db") + "?_pragma=busy_timeout(20000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)"
		driver = "sqlite"
	default:
		t.Fatalf("unknown database kind %q", kind)
	}
	return database{name: kind, driver: driver, dsn: dsn, open: func(t testing.TB) *sql.DB { return openDB(t, driver, dsn) }}
}

func openDB(t testing.TB, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	// As in production: a bounded pool per instance, so that a test's
	// handles together stay well under the server's max_connections.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns) // database/sql keeps 2 by default: busy moments would reconnect
	t.Cleanup(func() { _ = db.Close() })
	return db
}

var kinds = []string{"postgres", "sqlite"}

// maxConns bounds each handle's pool: 25 is far above what the tests need
// to race (the database, not the pool, must serialize them) and keeps eight
// handles under pgtest's max_connections.
const maxConns = 25
