package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// prepared is one statement of the hot path, prepared once for its handle
// and reused: database/sql then prepares it once on each connection that
// runs it and keeps it there, so SQLite parses it once per connection
// instead of on every request (issue 18 measured half of a signed-in
// request's CPU in SQLite's parser), and PostgreSQL gets a named statement.
type prepared struct {
	db    *sql.DB
	query string
	mu    sync.Mutex
	stmt  atomic.Pointer[sql.Stmt]
}

func newPrepared(db *sql.DB, query string) *prepared { return &prepared{db: db, query: query} }

// get returns the prepared statement, preparing it on first use. A failed
// preparation is tried again by the next call.
func (p *prepared) get(ctx context.Context) (*sql.Stmt, error) {
	if s := p.stmt.Load(); s != nil {
		return s, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.stmt.Load(); s != nil {
		return s, nil
	}
	s, err := p.db.PrepareContext(ctx, p.query)
	if err != nil {
		return nil, err
	}
	p.stmt.Store(s)
	return s, nil
}

// queryRow runs the statement for one row.
func (p *prepared) queryRow(ctx context.Context, args ...any) (*sql.Row, error) {
	s, err := p.get(ctx)
	if err != nil {
		return nil, err
	}
	return s.QueryRowContext(ctx, args...), nil
}

// exec runs the statement.
func (p *prepared) exec(ctx context.Context, args ...any) (sql.Result, error) {
	s, err := p.get(ctx)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// close closes the statement on every connection.
func (p *prepared) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.stmt.Swap(nil); s != nil {
		return s.Close()
	}
	return nil
}
