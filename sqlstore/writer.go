package sqlstore

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sync/semaphore"
)

// ErrWriteTimeout is returned, wrapped, by a write of a Store from
// [OpenSQLite] that waited longer than [SQLiteOptions.WriteWait] for its turn
// on the writer connection. The write did not start: nothing was written.
var ErrWriteTimeout = errors.New("sqlstore: waited too long for the writer connection")

// writer hands the one writer connection of a Store from OpenSQLite to one
// write at a time, first come first served.
//
// The *sql.DB pool alone (SetMaxOpenConns(1)) would serialize the writes
// too, but it gives a freed connection to a random waiter, so under load an
// unlucky write can wait behind any number of later ones; and it has no
// bound but the caller's context. A FIFO semaphore (x/sync's Weighted queues
// its waiters in order) makes the wait the queue ahead, bounded by wait.
type writer struct {
	turn *semaphore.Weighted
	wait time.Duration
}

// writing waits for the writer connection and returns the function that
// hands it on. A Store from New has no writer: its database arbitrates.
func (s *Store) writing(ctx context.Context) (done func(), err error) {
	if s.writer == nil {
		return func() {}, nil
	}
	wctx, cancel := context.WithTimeout(ctx, s.writer.wait)
	defer cancel()
	if err := s.writer.turn.Acquire(wctx, 1); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // the caller gave up first
		}
		return nil, ErrWriteTimeout
	}
	return func() { s.writer.turn.Release(1) }, nil
}
