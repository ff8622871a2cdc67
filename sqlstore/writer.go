package sqlstore

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrWriteTimeout is returned, wrapped, by a write of a Store from
// [OpenSQLite] that waited longer than [SQLiteOptions.WriteWait] for its turn
// on the writer connection. The write did not start: nothing was written.
var ErrWriteTimeout = errors.New("sqlstore: waited too long for the writer connection")

// writer hands the one writer connection of a Store from OpenSQLite to one
// write at a time, in the order they asked.
//
// The *sql.DB pool alone (SetMaxOpenConns(1)) would serialize the writes
// too, but it hands a freed connection to a random waiter, so under load an
// unlucky write can wait behind any number of later ones, bounded only by
// the caller's context. A queue makes the wait the writes ahead, cut off at
// wait. It is written here rather than taken from x/sync's semaphore, whose
// order is not part of its contract, so that the order can be tested.
type writer struct {
	wait  time.Duration
	mu    sync.Mutex
	held  bool
	queue []chan struct{} // closed when its write gets the turn
}

// acquire waits for the turn until ctx is done.
func (w *writer) acquire(ctx context.Context) error {
	w.mu.Lock()
	if !w.held {
		w.held = true
		w.mu.Unlock()
		return nil
	}
	turn := make(chan struct{})
	w.queue = append(w.queue, turn)
	w.mu.Unlock()
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-turn: // handed the turn as ctx ended: pass it on
		w.handOnLocked()
	default:
		for i, t := range w.queue {
			if t == turn {
				w.queue = append(w.queue[:i], w.queue[i+1:]...)
				break
			}
		}
	}
	return ctx.Err()
}

// release hands the turn to the first waiting write, if any.
func (w *writer) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.handOnLocked()
}

func (w *writer) handOnLocked() {
	if len(w.queue) == 0 {
		w.held = false
		return
	}
	close(w.queue[0])
	w.queue = w.queue[1:]
}

// waiting reports how many writes wait for the turn (for tests).
func (w *writer) waiting() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

// writing waits for the writer connection and returns the function that
// hands it on. A Store from New has no writer: its database arbitrates.
func (s *Store) writing(ctx context.Context) (done func(), err error) {
	if s.writer == nil {
		return func() {}, nil
	}
	wctx, cancel := context.WithTimeout(ctx, s.writer.wait)
	defer cancel()
	if err := s.writer.acquire(wctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // the caller gave up first
		}
		return nil, ErrWriteTimeout
	}
	return s.writer.release, nil
}
