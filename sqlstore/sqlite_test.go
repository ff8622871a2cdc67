package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/sqlstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func openSQLiteWith(t *testing.T, o sqlstore.SQLiteOptions) (*sqlstore.Store, database) {
	t.Helper()
	db := newBareDatabase(t, "sqlite")
	s, err := sqlstore.OpenSQLite(context.Background(), db.driver, db.dsn, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s, db
}

func emails(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT email FROM embedsso_users ORDER BY rowid`) // rowid: insertion order
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e string
		require.NoError(t, rows.Scan(&e))
		out = append(out, e)
	}
	require.NoError(t, rows.Err())
	return out
}

func profile(email string) embedsso.Profile {
	return embedsso.Profile{OrgID: "org_a", Email: email, Role: "MEMBER"}
}

// waitFor polls until cond holds: it orders the test's steps, it times nothing.
func waitFor(cond func() bool) {
	for !cond() {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

func TestOpenSQLite(t *testing.T) {
	ctx := context.Background()

	t.Run("writes take the writer connection in the order they asked", func(t *testing.T) {
		s, db := openSQLiteWith(t, sqlstore.SQLiteOptions{WriteWait: time.Minute})
		release := sqlstore.HoldWriter(s)
		const n = 10
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.UpsertUser(ctx, profile(fmt.Sprintf("w%d@example.com", i)))
			}()
			waitFor(func() bool { return sqlstore.WritesWaiting(s) == i+1 }) // queued before the next asks
		}
		release()
		wg.Wait()
		var want []string
		for i := range n {
			require.NoError(t, errs[i])
			want = append(want, fmt.Sprintf("w%d@example.com", i))
		}
		assert.Equal(t, want, emails(t, db.open(t)))
	})

	t.Run("a write that waits longer than WriteWait fails with ErrWriteTimeout and writes nothing", func(t *testing.T) {
		s, db := openSQLiteWith(t, sqlstore.SQLiteOptions{WriteWait: 50 * time.Millisecond})
		release := sqlstore.HoldWriter(s)
		_, err := s.UpsertUser(ctx, profile("late@example.com"))
		assert.ErrorIs(t, err, sqlstore.ErrWriteTimeout)
		_, err = s.SignIn(ctx, cookiesession.SignInWrite{Profile: profile("late@example.com"), TokenID: "jti", Session: embedsso.Session{IDHash: "h"}})
		assert.ErrorIs(t, err, sqlstore.ErrWriteTimeout)
		assert.Zero(t, sqlstore.WritesWaiting(s), "the late writes left the queue")
		release()
		assert.Empty(t, emails(t, db.open(t)))
		_, err = s.UpsertUser(ctx, profile("next@example.com"))
		assert.NoError(t, err, "the writer is free again")
	})

	t.Run("a write whose context ends while it waits returns the context's error", func(t *testing.T) {
		s, _ := openSQLiteWith(t, sqlstore.SQLiteOptions{WriteWait: time.Minute})
		release := sqlstore.HoldWriter(s)
		defer release()
		cctx, cancel := context.WithCancel(ctx)
		errc := make(chan error)
		go func() { errc <- s.RevokeSession(cctx, "h") }()
		waitFor(func() bool { return sqlstore.WritesWaiting(s) == 1 })
		cancel()
		err := <-errc
		assert.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, sqlstore.ErrWriteTimeout)
	})

	t.Run("reads do not wait for the writer", func(t *testing.T) {
		s, _ := openSQLiteWith(t, sqlstore.SQLiteOptions{})
		require.NoError(t, s.PutOrg(ctx, embedsso.Org{ID: "org_a", Secrets: []embedsso.Secret{{Value: "a-secret-of-at-least-32-bytes-0123456789"}}}))
		release := sqlstore.HoldWriter(s)
		defer release()
		// A write holds the writer's turn and its one connection.
		write, _ := sqlstore.Handles(s)
		conn, err := write.Conn(ctx)
		require.NoError(t, err)
		defer conn.Close()
		// If reads went through the held writer connection, these would
		// wait for it until the deadline.
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err = s.FindOrg(rctx, "org_a")
		assert.NoError(t, err)
		_, err = s.FindSession(rctx, "unknown", time.Now())
		assert.ErrorIs(t, err, embedsso.ErrSessionNotFound)
	})

	t.Run("a write waits at most BusyTimeout for another process's lock, then fails and writes nothing", func(t *testing.T) {
		s, db := openSQLiteWith(t, sqlstore.SQLiteOptions{BusyTimeout: 50 * time.Millisecond})
		other := db.open(t) // another process on the same file
		conn, err := other.Conn(ctx)
		require.NoError(t, err)
		defer conn.Close()
		_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE") // holds the file's write lock
		require.NoError(t, err)
		_, err = s.UpsertUser(ctx, profile("blocked@example.com"))
		assert.ErrorContains(t, err, "locked")
		_, err = conn.ExecContext(ctx, "ROLLBACK")
		require.NoError(t, err)
		assert.Empty(t, emails(t, other))
		_, err = s.UpsertUser(ctx, profile("after@example.com"))
		assert.NoError(t, err)
	})

	t.Run("every connection gets WAL, busy_timeout and foreign keys, the readers query_only, and the dsn's own pragmas", func(t *testing.T) {
		dsn := "file:" + filepath.Join(t.TempDir(), "p.db") + "?_pragma=synchronous(NORMAL)&_pragma=busy_timeout(1)"
		s, err := sqlstore.OpenSQLite(ctx, "sqlite", dsn, sqlstore.SQLiteOptions{BusyTimeout: 7 * time.Second, ReadConns: 3})
		require.NoError(t, err)
		defer s.Close()
		write, read := sqlstore.Handles(s)
		check := func(t *testing.T, db *sql.DB, n int, queryOnly int) {
			// Hold n connections at once, so that each is a different one.
			conns := make([]*sql.Conn, n)
			for i := range conns {
				c, err := db.Conn(ctx)
				require.NoError(t, err)
				defer c.Close()
				conns[i] = c
			}
			for _, c := range conns {
				for pragma, want := range map[string]any{
					"journal_mode": "wal", "busy_timeout": "7000", "foreign_keys": "1",
					"synchronous": "1", // NORMAL, from the dsn
					"query_only":  fmt.Sprint(queryOnly),
				} {
					var got string
					require.NoError(t, c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got))
					assert.Equal(t, want, got, pragma)
				}
			}
		}
		check(t, write, 1, 0)
		check(t, read, 3, 1)
		assert.Equal(t, 1, write.Stats().MaxOpenConnections)
		assert.Equal(t, 3, read.Stats().MaxOpenConnections)
		_, err = read.Exec(`DELETE FROM embedsso_users`)
		assert.Error(t, err, "the read pool cannot write")
	})

	t.Run("the zero options are 4 readers, a 5 s WriteWait and a 5 s busy_timeout", func(t *testing.T) {
		s, _ := openSQLiteWith(t, sqlstore.SQLiteOptions{})
		write, read := sqlstore.Handles(s)
		assert.Equal(t, 4, read.Stats().MaxOpenConnections)
		assert.Equal(t, 5*time.Second, sqlstore.WriteWait(s))
		for _, db := range []*sql.DB{write, read} {
			var ms int
			require.NoError(t, db.QueryRow("PRAGMA busy_timeout").Scan(&ms))
			assert.Equal(t, 5000, ms)
		}
	})

	t.Run("an in-memory database is refused", func(t *testing.T) {
		for _, dsn := range []string{":memory:", "file::memory:", "file:mem?mode=memory&cache=shared"} {
			_, err := sqlstore.OpenSQLite(ctx, "sqlite", dsn, sqlstore.SQLiteOptions{})
			assert.ErrorContains(t, err, "in-memory", dsn)
		}
	})

	t.Run("Close closes both pools; Close of a Store from New leaves the db open", func(t *testing.T) {
		s, db := openSQLiteWith(t, sqlstore.SQLiteOptions{})
		require.NoError(t, s.Close())
		_, err := s.FindOrg(ctx, "org_a")
		assert.ErrorContains(t, err, "database is closed")
		_, err = s.UpsertUser(ctx, profile("x@example.com"))
		assert.ErrorContains(t, err, "database is closed")

		handle := db.open(t)
		require.NoError(t, sqlstore.New(handle).Close())
		assert.NoError(t, handle.Ping())
	})
}

// A long purge hands the writer on between batches of 1000: a write that
// asked during the first batch goes before the second.
func TestAPurgeLetsWritesThroughBetweenBatches(t *testing.T) {
	ctx := context.Background()
	s, db := openSQLiteWith(t, sqlstore.SQLiteOptions{WriteWait: time.Minute})
	admin := db.open(t)
	u, err := s.UpsertUser(ctx, profile("old@example.com"))
	require.NoError(t, err)
	_, err = admin.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
		INSERT INTO embedsso_sessions (id_hash, user_id, created_at, expires_at) SELECT 'h' || i, $1, 0, 1 FROM n`, u.ID)
	require.NoError(t, err)

	first := sqlstore.HoldWriter(s)
	purged := make(chan int)
	go func() {
		n, err := s.PurgeExpired(ctx, time.Now())
		assert.NoError(t, err)
		purged <- n
	}()
	waitFor(func() bool { return sqlstore.WritesWaiting(s) == 1 })
	turn := make(chan func())
	go func() { turn <- sqlstore.HoldWriter(s) }()
	waitFor(func() bool { return sqlstore.WritesWaiting(s) == 2 })
	first()

	second := <-turn // the purge has made one batch and waits for its next turn
	assert.Equal(t, 1500, count(t, admin, `SELECT count(*) FROM embedsso_sessions`))
	second()
	assert.Equal(t, 2500, <-purged)
	assert.Equal(t, 0, count(t, admin, `SELECT count(*) FROM embedsso_sessions`))
}
