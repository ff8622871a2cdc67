package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// SQLiteOptions tune [OpenSQLite]. The zero value is the recommended setup.
type SQLiteOptions struct {
	// ReadConns is the size of the pool of read-only connections that serve
	// FindOrg and FindSession. Default: 4.
	ReadConns int
	// WriteWait bounds how long a write waits for its turn on the writer
	// connection. A write that waited that long fails with an error matching
	// [ErrWriteTimeout] and writes nothing; the handler answers 500. Writes
	// take their turns in the order they asked. Default: 5s.
	WriteWait time.Duration
	// BusyTimeout is SQLite's busy_timeout on every connection: how long a
	// statement waits for a lock that another process (another instance on
	// the same file, a sqlite3 shell) holds, before it fails with
	// SQLITE_BUSY. Within one Store no two writes contend: they take turns.
	// Default: 5s.
	BusyTimeout time.Duration
	// Cache tunes the read cache (see [CacheOptions]), whose change feed
	// polls on a read-only connection of its own. Default: on, with
	// CacheOptions' defaults.
	Cache CacheOptions
}

// OpenSQLite opens the SQLite database dsn for a server and creates its
// tables if needed (as [Migrate] does). driverName is the name the caller's
// driver import registered: "sqlite" for modernc.org/sqlite, "sqlite3" for
// mattn/go-sqlite3.
//
// The Store writes through one connection, which writes take in turn, first
// come first served, so that no write waits longer than o.WriteWait for it
// (plus o.BusyTimeout if another process holds the file's write lock), and
// reads through a pool of o.ReadConns connections that are read-only
// (PRAGMA query_only). The file is put in WAL mode, so readers and the
// writer never wait for each other, and every connection gets
// busy_timeout and foreign_keys (so deleting a user deletes its sessions).
// SQLite lets one writer in at a time anyway: one connection that never
// waits for a lock within the process is faster than many that sleep in
// SQLite's busy handler, and none of them starves.
//
// dsn keeps the driver's own options, which apply to every connection; set
// PRAGMA synchronous there, such as
// "file:app.db?_pragma=synchronous(NORMAL)" with modernc.org/sqlite. In WAL
// mode NORMAL skips the disk flush at each commit: an application crash
// loses nothing, a power cut or OS crash may lose the last commits (never
// the file's integrity). The pragmas OpenSQLite sets run after the dsn's and
// win over them.
//
// An in-memory database cannot be shared by a writer and readers, so it is
// refused. Close the Store to close its connections.
func OpenSQLite(ctx context.Context, driverName, dsn string, o SQLiteOptions) (*Store, error) {
	o = o.withDefaults()
	base, err := connector(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	common := []string{
		fmt.Sprintf("PRAGMA busy_timeout = %d", o.BusyTimeout.Milliseconds()),
		"PRAGMA foreign_keys = ON",
	}
	write := sql.OpenDB(pragmaConnector{base, common})
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	if err := prepareFile(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	read := sql.OpenDB(pragmaConnector{base, append(common, "PRAGMA query_only = ON")})
	read.SetMaxOpenConns(o.ReadConns)
	read.SetMaxIdleConns(o.ReadConns)
	feed := sql.OpenDB(pragmaConnector{base, append(common, "PRAGMA query_only = ON")})
	feed.SetMaxOpenConns(1)
	s := newStore(write, read, o.Cache)
	s.writer = &writer{wait: o.WriteWait}
	s.dialect = portable
	s.feedConn = feed.Conn
	s.close = func() error { return errors.Join(feed.Close(), read.Close(), write.Close()) }
	return s, nil
}

func (o SQLiteOptions) withDefaults() SQLiteOptions {
	if o.ReadConns <= 0 {
		o.ReadConns = 4
	}
	if o.WriteWait <= 0 {
		o.WriteWait = 5 * time.Second
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	return o
}

// prepareFile puts the file in WAL mode (which the file remembers) and
// creates the tables.
func prepareFile(ctx context.Context, write *sql.DB) error {
	var mode string
	if err := write.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("journal_mode is %q, not wal: an in-memory database cannot be shared by a writer and readers", mode)
	}
	return Migrate(ctx, write)
}

// connector returns driverName's connector for dsn, as sql.Open would use it.
func connector(driverName, dsn string) (driver.Connector, error) {
	db, err := sql.Open(driverName, dsn) // only to find the registered driver: opens no connection
	if err != nil {
		return nil, err
	}
	d := db.Driver()
	_ = db.Close()
	if dc, ok := d.(driver.DriverContext); ok {
		return dc.OpenConnector(dsn)
	}
	return dsnConnector{d, dsn}, nil
}

// dsnConnector is database/sql's own (unexported) fallback for drivers
// without a Connector, such as modernc.org/sqlite's registered driver.
type dsnConnector struct {
	d   driver.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.d }

// pragmaConnector runs pragmas on each new connection. database/sql has no
// hook for per-connection setup, and the drivers' own ways (DSN keys, hooks)
// differ, so wrapping the connector is what works with any driver (as
// modernc.org/sqlite's NewConnector doc suggests).
type pragmaConnector struct {
	driver.Connector
	pragmas []string
}

func (c pragmaConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range c.pragmas {
		if err := execConn(ctx, conn, p); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return conn, nil
}

func execConn(ctx context.Context, conn driver.Conn, query string) error {
	if e, ok := conn.(driver.ExecerContext); ok {
		if _, err := e.ExecContext(ctx, query, nil); !errors.Is(err, driver.ErrSkip) {
			return err
		}
	}
	stmt, err := conn.Prepare(query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	s, ok := stmt.(driver.StmtExecContext)
	if !ok {
		return errors.New("the driver's statements do not take a context")
	}
	_, err = s.ExecContext(ctx, nil)
	return err
}
