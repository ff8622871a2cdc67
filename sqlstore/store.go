// Package sqlstore implements embedsso's storage interfaces over
// database/sql, for PostgreSQL and SQLite, so that several app instances
// share users, sessions and used token ids.
//
// It works with any driver: pgx's stdlib ("pgx") or lib/pq for PostgreSQL,
// modernc.org/sqlite (pure Go) or mattn/go-sqlite3 for SQLite. Create the
// tables once with [Migrate], or run schema/schema.sql with your own tool,
// then schema/cache_postgres.sql or schema/cache_sqlite.sql for the read
// cache's triggers (without them the cache stays off).
//
// There is no dialect to choose: every statement is written once in the SQL
// both databases share (INSERT … ON CONFLICT … DO UPDATE … WHERE, RETURNING,
// so SQLite 3.35 or later), times are stored as integer microseconds, and
// placeholders are $1…$n in order of first use, so they bind alike whether
// a driver reads $N as a number (PostgreSQL, modernc.org/sqlite) or as a
// name numbered by first appearance (SQLite's own rule, mattn/go-sqlite3).
// The one exception is [Store.SignIn]'s single statement, which only
// PostgreSQL can run: sqlstore uses it when the driver is pgx's, and the
// portable transaction otherwise.
//
// Upserts and single-use token ids are race-free through the database itself
// (a unique key and INSERT … ON CONFLICT), not through a lock in this
// process, so they hold across any number of instances.
//
// A login's writes (spend the token id, upsert the user, store the session)
// can be one [Store.SignIn]: one commit instead of three, as one statement on
// PostgreSQL and one transaction elsewhere, so that a login that fails
// half-way writes nothing.
//
// A tool that only reads opens the database with [OpenReadOnly]: it never
// migrates, and every connection refuses writes.
//
// For a server on SQLite, open the file with [OpenSQLite]: one writer
// connection that writes take in turn, first come first served, and a pool
// of read-only connections beside it.
//
// A signed-in request costs at most one statement: FindSession reads the
// session, its user and its organization in one indexed read, through
// statements prepared once per connection. In front of that, a read cache,
// on by default, serves a steady stream of page views without any
// statement, and hears of every change (from any instance) through
// triggers that Migrate creates: another instance's sign-out or revocation
// is honoured within 100 ms, the instance's own at once; see [CacheOptions].
package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
)

// Store is an [embedsso.OrgStore], [embedsso.UserStore],
// [cookiesession.Store], [embedsso.ReplayStore] and [cookiesession.SignInStore]
// over one database, which [Store.PurgeExpired] keeps clear of expired rows. It is safe for concurrent use; so are
// several Stores over the same database.
type Store struct {
	db      *sql.DB // every write, and the reads of a Store from New
	read    *sql.DB // FindOrg and FindSession
	writer  *writer // nil unless the Store came from OpenSQLite
	dialect dialect
	now     func() time.Time
	close   func() error

	// The hot path's statements, prepared once (prepared.go).
	findSessionStmt, findOrgStmt, touchStmt *prepared

	// cache is the read cache (cache.go), nil when off; its feed starts
	// with the first lookup and stops with Close.
	cache    *cache
	cacheOff atomic.Bool // the database cannot feed the cache
	feedOnce sync.Once
	feedDone chan struct{}
	stopFeed context.CancelFunc
	// feedConn opens the connection a SQLite feed polls on; nil: none.
	feedConn func(context.Context) (*sql.Conn, error)

	engineOnce sync.Once
	eng        engine
}

var (
	_ embedsso.OrgStore         = (*Store)(nil)
	_ embedsso.UserStore        = (*Store)(nil)
	_ cookiesession.Store       = (*Store)(nil)
	_ embedsso.ReplayStore      = (*Store)(nil)
	_ cookiesession.SignInStore = (*Store)(nil)
)

// New returns a Store over db, whose tables [Migrate] created.
//
// For SQLite, open the database in WAL mode with a busy timeout, so
// concurrent writers (goroutines, or processes on one host) wait for each
// other instead of failing with SQLITE_BUSY, and with foreign keys on, so
// deleting a user deletes its sessions; with modernc.org/sqlite:
//
//	file:app.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)
//
// A server on SQLite is better served by [OpenSQLite], which also keeps its
// writers from starving each other.
//
// For PostgreSQL, bound the pool (db.SetMaxOpenConns) so that all instances
// together stay under the server's max_connections.
//
// The Store caches what FindSession and FindOrg read (see [CacheOptions]);
// give it a CacheOptions to tune or turn off the cache. On SQLite its change
// feed holds one of db's connections, so the cache stays off when db is
// limited to one (db.SetMaxOpenConns(1)).
//
// The caller owns db: [Store.Close] leaves it open.
func New(db *sql.DB, cache ...CacheOptions) *Store {
	var co CacheOptions
	if len(cache) > 0 {
		co = cache[0]
	}
	s := newStore(db, db, co)
	s.dialect = dialectOf(db)
	if db.Stats().MaxOpenConnections != 1 {
		s.feedConn = db.Conn
	}
	return s
}

// newStore is a Store writing through db and reading through read.
func newStore(db, read *sql.DB, co CacheOptions) *Store {
	s := &Store{db: db, read: read, now: time.Now, close: func() error { return nil }}
	s.findSessionStmt = newPrepared(read, findSessionSQL)
	s.findOrgStmt = newPrepared(read, orgSelect)
	s.touchStmt = newPrepared(db, touchSessionSQL)
	if !co.Off {
		s.cache = newCache(co.withDefaults())
	}
	return s
}

// Close stops the cache's change feed, closes the Store's prepared
// statements and the database handles a Store from [OpenSQLite] opened. For
// a Store from [New] it leaves the *sql.DB open: the caller opened it and
// closes it.
func (s *Store) Close() error {
	s.feedOnce.Do(func() {}) // no feed starts after Close
	if s.stopFeed != nil {
		s.stopFeed()
		<-s.feedDone
	}
	return errors.Join(s.findSessionStmt.close(), s.findOrgStmt.close(), s.touchStmt.close(), s.close())
}

// lookupCache returns the cache, starting its feed on first use, or nil
// when it is off.
func (s *Store) lookupCache() *cache {
	if s.cache == nil {
		return nil
	}
	s.feedOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		s.stopFeed, s.feedDone = cancel, make(chan struct{})
		go s.startFeed(ctx)
	})
	if s.cacheOff.Load() {
		return nil
	}
	return s.cache
}

// engine is the database s reads, asked once.
func (s *Store) engine(ctx context.Context) engine {
	s.engineOnce.Do(func() { s.eng = engineOf(ctx, s.read) })
	return s.eng
}

func micros(t time.Time) int64      { return t.UnixMicro() }
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// newUserID returns a new user id: "usr_", then 12 hex digits of the
// milliseconds since the Unix epoch at now, then 12 random hex digits (48
// bits), the length of the ids of earlier versions (24 random hex digits).
//
// Ids made later sort after those made earlier (as UUIDv7s do), so a new
// user's entries go to the right edge of the users' primary key and of the
// sessions' user_id index, pages that every login touches, instead of a
// random page of each. At a million users a random page is seldom in the
// database's cache, and after each checkpoint its first change writes the
// whole page to the write-ahead log: with ordered ids a new user's sign-in
// at a million users wrote 39% less of it (BenchmarkScale's wal-B/op@N,
// 2026-11-26). Ids of one millisecond are in random
// order, and 48 random bits keep them apart.
func newUserID(now time.Time) string {
	var b [12]byte
	ms := uint64(max(now.UnixMilli(), 0))
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	_, _ = rand.Read(b[6:])
	return "usr_" + hex.EncodeToString(b[:])
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
