package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// beat is how often a feed proves it is up to date while lookups happen:
// well within staleAfter, so that a healthy feed never lets the cache lapse.
const beat = staleAfter / 4

// startFeed runs the cache's change feed until ctx ends or the Store's
// database is closed. It turns the cache off (s.cacheOff) when the database
// cannot feed it.
func (s *Store) startFeed(ctx context.Context) {
	defer close(s.feedDone)
	c := s.cache
	switch {
	case s.engine(ctx) == postgresEngine && hasSignals(ctx, s.read):
		cfg, err := pgxConfig(ctx, s.read)
		if err != nil {
			s.cacheOff.Store(true)
			return
		}
		s.retry(ctx, func() error { return s.listen(ctx, c, cfg) })
	case s.engine(ctx) == sqliteEngine && hasSignals(ctx, s.read) && s.feedConn != nil:
		last := int64(-1)
		s.retry(ctx, func() error { return s.poll(ctx, c, &last) })
	default:
		s.cacheOff.Store(true)
	}
}

// retry runs f again after each failure, waiting longer each time (up to a
// second), until ctx ends or the database is closed.
func (s *Store) retry(ctx context.Context, f func() error) {
	wait := 10 * time.Millisecond
	for ctx.Err() == nil && !closedDB(ctx, s.read) {
		start := time.Now()
		_ = f() // the cache lapses meanwhile: lookups read the database
		if time.Since(start) > time.Second {
			wait = 10 * time.Millisecond
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// pgxConfig is the configuration of db's connections, if pgx's driver
// made them.
func pgxConfig(ctx context.Context, db *sql.DB) (*pgx.ConnConfig, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var cfg *pgx.ConnConfig
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("not pgx's driver")
		}
		cfg = c.Conn().Config().Copy()
		// The copy's handler would buffer into the pool connection's
		// pgx.Conn; pgx.ConnectConfig sets the new one's when nil.
		cfg.OnNotification = nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = "embedsso-cache"
	return cfg, nil
}

// listen feeds c from PostgreSQL: it LISTENs for the triggers' changes and,
// while lookups happen, proves every beat that it is up to date by
// notifying itself on a channel of its own. Notifications come in commit
// order, so when its own comes back every change committed before it was
// sent has been applied.
func (s *Store) listen(ctx context.Context, c *cache, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var b [8]byte
	_, _ = rand.Read(b[:])
	self := "embedsso_cache_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "LISTEN "+changeChannel+"; LISTEN "+self); err != nil {
		return err
	}
	c.flush() // what changed while no one listened
	for i := 1; ; i++ {
		if i%40 == 0 && closedDB(ctx, s.read) {
			return errDBClosed
		}
		if c.wanted.Swap(false) && !c.deaf.Load() {
			sent := c.clock()
			if _, err := conn.Exec(ctx, "SELECT pg_notify($1, '')", self); err != nil {
				return err
			}
			if err := receive(ctx, conn, c, time.Now().Add(5*time.Second), self); err != nil {
				return err // no answer in 5 s: a new connection
			}
			c.heardAt(sent)
		}
		// pgconn reports a context canceled before the wait began as a
		// timeout too: only the beat's deadline is one.
		if err := receive(ctx, conn, c, time.Now().Add(beat), ""); err != nil && (!pgconn.Timeout(err) || ctx.Err() != nil) {
			return err
		}
	}
}

// receive applies notifications until deadline, or until one on channel
// until (when not empty) comes.
func receive(ctx context.Context, conn *pgx.Conn, c *cache, deadline time.Time, until string) error {
	for {
		wctx, cancel := context.WithDeadline(ctx, deadline)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			return err
		}
		if n == nil {
			continue
		}
		if until != "" && n.Channel == until {
			return nil
		}
		if n.Channel == changeChannel && !c.deaf.Load() {
			c.change(n.Payload)
		}
	}
}

// poll feeds c from SQLite: every beat it asks PRAGMA data_version whether
// another connection committed since, and if so reads the change log from
// *last on. A gap in the log (entries purged before they were read) forgets
// everything.
func (s *Store) poll(ctx context.Context, c *cache, last *int64) error {
	conn, err := s.feedConn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	version := int64(-1)
	tick := time.NewTicker(beat)
	defer tick.Stop()
	for i := 1; ; i++ {
		if i%40 == 0 && closedDB(ctx, s.read) {
			return errDBClosed
		}
		if !c.deaf.Load() {
			started := c.clock()
			var v int64
			if err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
				return err
			}
			if v != version {
				if err := readChanges(ctx, conn, c, last); err != nil {
					return err
				}
				version = v
			}
			c.heardAt(started)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func readChanges(ctx context.Context, conn *sql.Conn, c *cache, last *int64) error {
	if *last < 0 {
		if err := conn.QueryRowContext(ctx, "SELECT COALESCE(max(seq), 0) FROM embedsso_changes").Scan(last); err != nil {
			return err
		}
		c.flush()
		return nil
	}
	rows, err := conn.QueryContext(ctx, "SELECT seq, change FROM embedsso_changes WHERE seq > $1 ORDER BY seq", *last)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var ch string
		if err := rows.Scan(&seq, &ch); err != nil {
			return err
		}
		if seq != *last+1 {
			c.flush()
		} else {
			c.change(ch)
		}
		*last = seq
	}
	return rows.Err()
}

// closedDB reports whether db was closed.
func closedDB(ctx context.Context, db *sql.DB) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	conn, err := db.Conn(ctx)
	if err == nil {
		_ = conn.Close()
	}
	return errors.Is(err, errDBClosed)
}

// errDBClosed is what database/sql returns for a closed *sql.DB.
var errDBClosed = func() error {
	db := sql.OpenDB(noConnector{})
	_ = db.Close()
	_, err := db.Conn(context.Background())
	return err
}()

type noConnector struct{}

func (noConnector) Connect(context.Context) (driver.Conn, error) {
	return nil, errors.New("no connection")
}
func (noConnector) Driver() driver.Driver { return nil }
