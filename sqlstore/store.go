// Package sqlstore implements embedsso's storage interfaces over
// database/sql, for PostgreSQL and SQLite, so that several app instances
// share users, sessions and used token ids.
//
// It works with any driver: pgx's stdlib ("pgx") or lib/pq for PostgreSQL,
// modernc.org/sqlite (pure Go) or mattn/go-sqlite3 for SQLite. Create the
// tables once with [Migrate], or run schema/schema.sql with your own tool.
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
package sqlstore

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"

	"github.com/embedsso/embedsso"
)

// Store is an [embedsso.OrgStore], [embedsso.UserStore],
// [embedsso.SessionStore], [embedsso.ReplayStore] and [embedsso.SignInStore]
// over one database, which [Store.PurgeExpired] keeps clear of expired rows. It is safe for concurrent use; so are
// several Stores over the same database.
type Store struct {
	db      *sql.DB // every write, and the reads of a Store from New
	read    *sql.DB // FindOrg and FindSession
	writer  *writer // nil unless the Store came from OpenSQLite
	dialect dialect
	now     func() time.Time
	close   func() error
}

var (
	_ embedsso.OrgStore     = (*Store)(nil)
	_ embedsso.UserStore    = (*Store)(nil)
	_ embedsso.SessionStore = (*Store)(nil)
	_ embedsso.ReplayStore  = (*Store)(nil)
	_ embedsso.SignInStore  = (*Store)(nil)
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
// The caller owns db: [Store.Close] leaves it open.
func New(db *sql.DB) *Store {
	return &Store{db: db, read: db, dialect: dialectOf(db), now: time.Now, close: func() error { return nil }}
}

// Close closes the database handles a Store from [OpenSQLite] opened. For a
// Store from [New] it does nothing: the caller opened the *sql.DB and closes it.
func (s *Store) Close() error { return s.close() }

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
