package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/signer"
	"github.com/embedsso/embedsso/sqlstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"modernc.org/sqlite"
)

// countingDriver is modernc.org/sqlite counting the statements it runs, by
// their text: SQLite has no pg_stat_statements.
type countingDriver struct{ sqlite.Driver }

func (d *countingDriver) Open(name string) (driver.Conn, error) {
	c, err := d.Driver.Open(name)
	if err != nil {
		return nil, err
	}
	return countingConn{c.(sqliteConn)}, nil
}

// sqliteConn is what modernc.org/sqlite's connections implement.
type sqliteConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.ConnBeginTx
}

type countingConn struct{ sqliteConn }

func (c countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return countingStmt{s.(sqliteStmt), query}, nil
}

func (c countingConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	statements.add(query)
	return c.sqliteConn.ExecContext(ctx, query, args)
}

func (c countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	statements.add(query)
	return c.sqliteConn.QueryContext(ctx, query, args)
}

type sqliteStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

type countingStmt struct {
	sqliteStmt
	query string
}

func (s countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	statements.add(s.query)
	return s.sqliteStmt.ExecContext(ctx, args)
}

func (s countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	statements.add(s.query)
	return s.sqliteStmt.QueryContext(ctx, args)
}

// statementCounts counts the statements run through countingDriver.
type statementCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *statementCounts) add(query string) {
	c.mu.Lock()
	c.n[query]++
	c.mu.Unlock()
}

// take returns the counts so far and starts again from zero.
func (c *statementCounts) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

var statements = &statementCounts{n: map[string]int{}}

func init() { sql.Register("sqlite-counting", &countingDriver{}) }

// countedStore is a Store whose statements a test counts: on SQLite through
// countingDriver, on PostgreSQL with pg_stat_statements.
type countedStore struct {
	store *sqlstore.Store
	take  func(t *testing.T) map[string]int // the counts since the last take
	db    func(t *testing.T) *sql.DB        // a new handle on the database (PostgreSQL)
	dsn   string                            // the SQLite file's dsn
}

func newCountedStore(t *testing.T, kind string, cache sqlstore.CacheOptions) countedStore {
	t.Helper()
	ctx := context.Background()
	switch kind {
	case "sqlite":
		dsn := "file:" + filepath.Join(t.TempDir(), "count.db")
		s, err := sqlstore.OpenSQLite(ctx, "sqlite-counting", dsn, sqlstore.SQLiteOptions{Cache: cache})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return countedStore{store: s, take: func(*testing.T) map[string]int { return statements.take() }, dsn: dsn}
	case "postgres":
		if pg == nil || !pg.CountsStatements() {
			t.Skip("no PostgreSQL server with pg_stat_statements")
		}
		db := newDatabase(t, kind)
		admin := db.open(t)
		_, err := admin.Exec(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`)
		require.NoError(t, err)
		s := sqlstore.New(db.open(t), cache)
		t.Cleanup(func() { _ = s.Close() })
		take := func(t *testing.T) map[string]int {
			rows, err := admin.Query(`SELECT query, calls FROM pg_stat_statements
				WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`)
			require.NoError(t, err)
			defer rows.Close()
			n := map[string]int{}
			for rows.Next() {
				var q string
				var calls int
				require.NoError(t, rows.Scan(&q, &calls))
				if !strings.Contains(q, "pg_stat_statements") {
					n[q] += calls
				}
			}
			require.NoError(t, rows.Err())
			_, err = admin.Exec(`SELECT pg_stat_statements_reset()`)
			require.NoError(t, err)
			return n
		}
		take(t)
		return countedStore{store: s, take: take, db: func(t *testing.T) *sql.DB { return db.open(t) }}
	}
	t.Fatalf("unknown kind %q", kind)
	return countedStore{}
}

// feedStatement tells the cache's own statements (its change feed's
// heartbeat on PostgreSQL, its poll on SQLite), which run on a timer
// whatever the traffic, from those of the requests.
func feedStatement(q string) bool {
	return strings.Contains(q, "pg_notify") || strings.Contains(q, "LISTEN") ||
		strings.Contains(q, "data_version") || strings.Contains(q, "embedsso_changes")
}

// perRequest splits counts into the requests' statements per request and
// the feed's.
func perRequest(counts map[string]int, requests int) (perReq float64, feed int, byQuery map[string]int) {
	byQuery = map[string]int{}
	total := 0
	for q, n := range counts {
		if feedStatement(q) {
			feed += n
			continue
		}
		total += n
		byQuery[strings.Join(strings.Fields(q), " ")] = n
	}
	return float64(total) / float64(requests), feed, byQuery
}

// signedInPage is the app's page behind the guard on store, and a cookie
// of a signed-in user.
func signedInPage(t *testing.T, store *sqlstore.Store) (http.Handler, string) {
	t.Helper()
	require.NoError(t, store.PutOrg(context.Background(), scaleOrg))
	sessions, err := cookiesession.New(cookiesession.Config{Store: store})
	require.NoError(t, err)
	h, err := embedsso.New(embedsso.Config{Orgs: store, Users: store, Sessions: sessions, Replay: store})
	require.NoError(t, err)
	page := h.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := embedsso.UserFromContext(r.Context())
		_, _ = w.Write([]byte(u.Email))
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/sso/jwt?jwt="+mint(t, "count@example.com"), nil))
	require.Equal(t, http.StatusFound, w.Code, w.Body.String())
	var cookie string
	for _, line := range w.Result().Header.Values("Set-Cookie") {
		if strings.HasPrefix(line, sessions.CookieName()+"=") {
			cookie = strings.SplitN(line, ";", 2)[0]
		}
	}
	require.NotEmpty(t, cookie)
	return page, cookie
}

func view(page http.Handler, cookie string) int {
	r := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
	r.Header.Set("Cookie", cookie)
	w := httptest.NewRecorder()
	page.ServeHTTP(w, r)
	return w.Code
}

// statementsPerRequestWithoutCache is what the guard makes without a
// cache: one statement for the session, its user and its organization
// (which FindSession returns as Session.Org, so the guard reads no
// organization).
const statementsPerRequestWithoutCache = 1

// A signed-in page view makes at most statementsPerRequestWithoutCache
// statements with the cache off, on each database, counted by the database
// (pg_stat_statements) or the driver (SQLite); with the cache on (the
// default), a steady stream of them makes at most 0.05 per request, the
// feed's own timer-driven statements apart.
func TestStatementsPerSignedInRequest(t *testing.T) {
	const minRequests, minStream = 400, 500 * time.Millisecond
	for _, kind := range kinds {
		for _, c := range []struct {
			name  string
			cache sqlstore.CacheOptions
			max   float64
		}{
			{"cache off", sqlstore.CacheOptions{Off: true}, statementsPerRequestWithoutCache},
			{"cache on", sqlstore.CacheOptions{}, 0.05},
		} {
			t.Run(kind+"/"+c.name, func(t *testing.T) {
				cs := newCountedStore(t, kind, c.cache)
				page, cookie := signedInPage(t, cs.store)
				require.Equal(t, http.StatusOK, view(page, cookie))
				if !c.cache.Off {
					require.Eventually(t, func() bool { view(page, cookie); return sqlstore.CacheServes(cs.store) },
						5*time.Second, time.Millisecond, "the cache's feed starts")
				}
				cs.take(t)
				// A steady stream: at least minRequests, for at least
				// minStream, so that the feed's timer runs too.
				start, n := time.Now(), 0
				for ; n < minRequests || time.Since(start) < minStream; n++ {
					require.Equal(t, http.StatusOK, view(page, cookie))
				}
				elapsed := time.Since(start)
				per, feed, byQuery := perRequest(cs.take(t), n)
				t.Logf("%d requests in %v: %.4f statements per request %v; the feed's own: %d (%.0f/s)",
					n, elapsed.Round(time.Millisecond), per, byQuery, feed, float64(feed)/elapsed.Seconds())
				assert.LessOrEqual(t, per, c.max)
			})
		}
	}
}

// Idle renewal with the cache on: two instances serve one session from
// their caches; when its renewal is due, the instance that sees it first
// writes it, and the other hears of it through the feed and does not write
// it again: one write for the pair, and the other's cache holds the new
// idle expiry. Counted on SQLite by the driver, on PostgreSQL by
// pg_stat_statements.
func TestAnIdleRenewalIsWrittenOnceAndSeenByTheOtherInstance(t *testing.T) {
	ctx := context.Background()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			a := newCountedStore(t, kind, sqlstore.CacheOptions{})
			var b *sqlstore.Store
			if kind == "sqlite" {
				var err error
				b, err = sqlstore.OpenSQLite(ctx, "sqlite-counting", a.dsn, sqlstore.SQLiteOptions{})
				require.NoError(t, err)
			} else {
				b = sqlstore.New(a.db(t))
			}
			t.Cleanup(func() { _ = b.Close() })
			require.NoError(t, a.store.PutOrg(ctx, scaleOrg))
			c := &clock{now: time.Now()}
			pages := make([]http.Handler, 2)
			var cookie string
			for i, st := range []*sqlstore.Store{a.store, b} {
				sessions, err := cookiesession.New(cookiesession.Config{Store: st, Now: c.Now})
				require.NoError(t, err)
				h, err := embedsso.New(embedsso.Config{Orgs: st, Users: st, Sessions: sessions, Replay: st, Now: c.Now})
				require.NoError(t, err)
				pages[i] = h.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
				if i == 0 {
					tok, err := signer.Signer{Secret: scaleOrg.Secrets[0].Value, TokenID: true, Now: c.Now}.Sign(
						signer.Claims{Email: "renew@example.com", OrgID: scaleOrg.ID, Role: "MEMBER"})
					require.NoError(t, err)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/sso/jwt?jwt="+tok, nil))
					require.Equal(t, http.StatusFound, w.Code, w.Body.String())
					for _, line := range w.Result().Header.Values("Set-Cookie") {
						if strings.HasPrefix(line, sessions.CookieName()+"=") {
							cookie = strings.SplitN(line, ";", 2)[0]
						}
					}
				}
			}
			idHash := hashCookie(cookie)
			for i, st := range []*sqlstore.Store{a.store, b} {
				require.Eventually(t, func() bool { return view(pages[i], cookie) == http.StatusOK && sqlstore.Cached(st, idHash) },
					5*time.Second, time.Millisecond)
			}
			before, err := b.FindSession(ctx, idHash, c.Now())
			require.NoError(t, err)
			a.take(t)

			c.set(c.Now().Add(2 * time.Minute)) // a renewal is due
			require.Equal(t, http.StatusOK, view(pages[0], cookie))
			require.Eventually(t, func() bool {
				s, err := b.FindSession(ctx, idHash, c.Now())
				return err == nil && s.IdleExpiresAt.After(before.IdleExpiresAt) && sqlstore.Cached(b, idHash)
			}, time.Second, time.Millisecond, "B's cache holds A's renewal")
			for range 10 {
				require.Equal(t, http.StatusOK, view(pages[1], cookie))
				require.Equal(t, http.StatusOK, view(pages[0], cookie))
			}
			touches := 0
			for q, n := range a.take(t) {
				if strings.Contains(q, "SET idle_expires_at") {
					touches += n
				}
			}
			assert.Equal(t, 1, touches, "renewal writes")
		})
	}
}
