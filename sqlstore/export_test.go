package sqlstore

import "database/sql"

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
