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
