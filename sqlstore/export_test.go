package sqlstore

import (
	"context"
	"database/sql"
	"time"
)

// NewPortable is New with SignIn's portable transaction even on PostgreSQL,
// as a wrapped PostgreSQL driver gets it: the tests check that form on both
// databases.
func NewPortable(db *sql.DB) *Store {
	s := New(db)
	s.dialect = portable
	return s
}

// SignsInWithOneStatement reports whether s makes SignIn's writes in one
// PostgreSQL statement.
func SignsInWithOneStatement(s *Store) bool { return s.dialect == postgres }

// Handles returns the handles s writes and reads through.
func Handles(s *Store) (write, read *sql.DB) { return s.db, s.read }

// HoldWriter takes the writer turn of a Store from OpenSQLite, as a write
// would, until the returned function is called.
func HoldWriter(s *Store) (release func()) {
	done, err := s.writing(context.Background())
	if err != nil {
		panic(err)
	}
	return done
}

// WritesWaiting reports how many writes of s wait for the writer turn.
func WritesWaiting(s *Store) int { return s.writer.waiting() }

// WriteWait is how long a write of a Store from OpenSQLite waits for its turn.
func WriteWait(s *Store) time.Duration { return s.writer.wait }

// SetClock makes s read the time from now.
func SetClock(s *Store, now func() time.Time) { s.now = now }

// StaleAfter is the cache's bound: another Store's change is honoured
// within it.
const StaleAfter = staleAfter

// CutFeed makes s's change feed drop every signal, as a cut connection
// would, and RemoveFallback makes s serve its cache however long its feed
// has been silent: together they show what the fallback protects.
func CutFeed(s *Store)        { s.cache.deaf.Store(true) }
func RemoveFallback(s *Store) { s.cache.trustAlways.Store(true) }

// CacheServes reports whether s's cache is on and trusted now.
func CacheServes(s *Store) bool { c := s.lookupCache(); return c != nil && c.trusted() }

// CacheSize reports how many sessions, users and organizations s caches.
func CacheSize(s *Store) (sessions, users, orgs int) { return s.cache.size() }

// Cached reports whether s serves the session idHash from its cache now.
func Cached(s *Store, idHash string) bool {
	_, _, ok := s.cache.session(idHash)
	return ok
}
