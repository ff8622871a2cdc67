package sqlstore_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/signer"
	"github.com/embedsso/embedsso/sqlstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// errorer is the part of *testing.T refusedWithin reports to, so that a
// test can also run it against a recorder and check that it fails.
type errorer interface {
	Helper()
	Errorf(format string, args ...any)
}

// recorder is an errorer that keeps what it was told.
type recorder struct {
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

// refusedWithin calls accepted until it refuses, and reports an error if a
// call that began more than sqlstore.StaleAfter after since was still
// accepted (or if none refused within give-up): the cache's promise for a
// change made on another instance.
func refusedWithin(t errorer, since time.Time, accepted func() bool) {
	t.Helper()
	const giveUp = time.Second
	for {
		began := time.Now()
		if !accepted() {
			return
		}
		if late := began.Sub(since); late > sqlstore.StaleAfter {
			t.Errorf("accepted %v after the change, past the bound of %v", late.Round(time.Millisecond), sqlstore.StaleAfter)
			if late > giveUp {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
}

// cachedInstance is one app instance with its own Store on the shared
// database: the SSO endpoint and a page behind the guard.
type cachedInstance struct {
	store    *sqlstore.Store
	h        *embedsso.Handler
	sessions *cookiesession.Issuer
	page     http.Handler
}

// openStore opens a Store on db as a server would: OpenSQLite for SQLite.
func openStore(t *testing.T, db database, cache sqlstore.CacheOptions) *sqlstore.Store {
	t.Helper()
	var s *sqlstore.Store
	if db.name == "sqlite" {
		var err error
		s, err = sqlstore.OpenSQLite(context.Background(), db.driver, db.dsn, sqlstore.SQLiteOptions{Cache: cache})
		require.NoError(t, err)
	} else {
		s = sqlstore.New(db.open(t), cache)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newCachedInstance(t *testing.T, db database) cachedInstance {
	t.Helper()
	store := openStore(t, db, sqlstore.CacheOptions{})
	sessions, err := cookiesession.New(cookiesession.Config{Store: store})
	require.NoError(t, err)
	h, err := embedsso.New(embedsso.Config{Orgs: store, Users: store, Sessions: sessions, Replay: store})
	require.NoError(t, err)
	page := h.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := embedsso.UserFromContext(r.Context())
		_, _ = w.Write([]byte(u.Email))
	}))
	return cachedInstance{store: store, h: h, sessions: sessions, page: page}
}

// signIn signs email in with a token signed with secret and returns the
// status and the session cookie ("name=value").
func (in cachedInstance) signIn(t *testing.T, email, secret string) (int, string) {
	t.Helper()
	tok, err := signer.Signer{Secret: secret, TokenID: true}.Sign(signer.Claims{Email: email, OrgID: scaleOrg.ID, Role: "MEMBER"})
	require.NoError(t, err)
	w := httptest.NewRecorder()
	in.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/sso/jwt?jwt="+tok, nil))
	for _, line := range w.Result().Header.Values("Set-Cookie") {
		if strings.HasPrefix(line, in.sessions.CookieName()+"=") {
			return w.Code, strings.SplitN(line, ";", 2)[0]
		}
	}
	return w.Code, ""
}

func (in cachedInstance) mustSignIn(t *testing.T, email string) string {
	t.Helper()
	code, cookie := in.signIn(t, email, scaleOrg.Secrets[0].Value)
	require.Equal(t, http.StatusFound, code)
	require.NotEmpty(t, cookie)
	return cookie
}

func (in cachedInstance) accepts(cookie string) bool { return view(in.page, cookie) == http.StatusOK }

// cachedServing waits until in serves cookie's session from its cache.
func cachedServing(t *testing.T, in cachedInstance, cookie string) {
	t.Helper()
	require.Eventually(t, func() bool { return in.accepts(cookie) && sqlstore.Cached(in.store, hashCookie(cookie)) },
		5*time.Second, time.Millisecond, "the cache serves the session")
}

// A change made on one instance is honoured at once there and within the
// cache's bound on another that serves the same sessions from its cache
// while page views stream in: a sign-out, a user's sessions revoked, an
// organization's secret replaced, and its embedding disabled, on both
// databases.
func TestARevocationReachesTheOtherInstanceUnderLoad(t *testing.T) {
	ctx := context.Background()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			db := newDatabase(t, kind)
			require.NoError(t, sqlstore.New(db.open(t), sqlstore.CacheOptions{Off: true}).PutOrg(ctx, scaleOrg))
			a, b := newCachedInstance(t, db), newCachedInstance(t, db)
			const users = 6
			cookies := make([]string, users)
			for i := range cookies {
				cookies[i] = a.mustSignIn(t, fmt.Sprintf("load-%d@example.com", i))
			}
			cachedServing(t, b, cookies[0])

			// The load: page views of every session on B, all the time.
			type view struct {
				began time.Time
				ok    bool
			}
			var mu sync.Mutex
			views := make([][]view, users)
			stop := make(chan struct{})
			var stopOnce sync.Once
			var wg sync.WaitGroup
			defer func() { stopOnce.Do(func() { close(stop) }); wg.Wait() }() // also when a require fails
			var total atomic.Int64
			for g := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := g; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						u := i % users
						began := time.Now()
						ok := b.accepts(cookies[u])
						total.Add(1)
						mu.Lock()
						views[u] = append(views[u], view{began, ok})
						mu.Unlock()
					}
				}()
			}
			// lastAccepted is the latest start of an accepted view of a
			// revoked session after its revocation, for the log.
			var lastAccepted time.Duration
			// acceptedAfter reports the views of user u accepted that began
			// more than the bound after since, and how many began then.
			acceptedAfter := func(u int, since time.Time) (late, after int) {
				mu.Lock()
				defer mu.Unlock()
				for _, v := range views[u] {
					if v.ok && v.began.After(since) {
						lastAccepted = max(lastAccepted, v.began.Sub(since))
					}
					if v.began.Sub(since) > sqlstore.StaleAfter {
						after++
						if v.ok {
							late++
						}
					}
				}
				return late, after
			}
			settle := func() { time.Sleep(3 * sqlstore.StaleAfter) }
			settle()

			// A sign-out on A.
			r := httptest.NewRequest(http.MethodPost, "/logout", nil)
			r.Header.Set("Cookie", cookies[0])
			require.NoError(t, a.sessions.SignOut(httptest.NewRecorder(), r))
			signedOut := time.Now()
			assert.False(t, a.accepts(cookies[0]), "at once on A")

			// A user's sessions revoked on A.
			s, err := a.store.FindSession(ctx, hashCookie(cookies[1]), time.Now())
			require.NoError(t, err)
			require.NoError(t, a.store.RevokeUserSessions(ctx, scaleOrg.ID, s.User.ID))
			revoked := time.Now()
			assert.False(t, a.accepts(cookies[1]), "at once on A")

			// The organization's secret replaced on A: a token signed with
			// the old one is refused on B.
			rotated := scaleOrg
			rotated.Secrets = []embedsso.Secret{{Value: "a-brand-new-secret-0123456789-abcdefghijkl"}}
			require.NoError(t, a.store.PutOrg(ctx, rotated))
			replaced := time.Now()
			code, _ := a.signIn(t, "old-secret@example.com", scaleOrg.Secrets[0].Value)
			assert.Equal(t, http.StatusUnauthorized, code, "at once on A")
			refusedWithin(t, replaced, func() bool {
				code, _ := b.signIn(t, "old-secret@example.com", scaleOrg.Secrets[0].Value)
				return code == http.StatusFound
			})
			settle()
			for _, c := range []struct {
				user  int
				since time.Time
			}{{0, signedOut}, {1, revoked}} {
				late, after := acceptedAfter(c.user, c.since)
				assert.Zero(t, late, "user %d: views on B accepted past the bound", c.user)
				assert.NotZero(t, after, "user %d: views on B after the bound", c.user)
			}
			revokedLast := lastAccepted
			for u := 2; u < users; u++ {
				late, _ := acceptedAfter(u, signedOut)
				assert.NotZero(t, late, "user %d keeps their session", u)
			}

			// The organization's embedding disabled on A ends every session.
			disabled := rotated
			disabled.EmbeddingEnabled = false
			require.NoError(t, a.store.PutOrg(ctx, disabled))
			off := time.Now()
			assert.False(t, a.accepts(cookies[2]), "at once on A")
			settle()
			stopOnce.Do(func() { close(stop) })
			wg.Wait()
			lastAccepted = 0
			for u := 2; u < users; u++ {
				late, after := acceptedAfter(u, off)
				assert.Zero(t, late, "user %d: views on B accepted past the bound after the organization was disabled", u)
				assert.NotZero(t, after)
			}
			t.Logf("%d page views on B; the latest acceptance on B after the change on A: sign-out and user revocation %v, organization disabled %v (bound %v)",
				total.Load(), revokedLast.Round(time.Microsecond), lastAccepted.Round(time.Microsecond), sqlstore.StaleAfter)
		})
	}
}

// With its change feed cut (every signal dropped, as a dead connection
// would), an instance stops serving its cache once the bound has passed
// since it last heard from the feed, and reads the database: a session
// revoked on another instance is refused within the bound all the same.
// With the fallback removed as well, the same check fails: the revoked
// session is served on and on. So the fallback, not luck, keeps it safe.
func TestACutSignalFallsBackToTheDatabase(t *testing.T) {
	ctx := context.Background()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			db := newDatabase(t, kind)
			require.NoError(t, sqlstore.New(db.open(t), sqlstore.CacheOptions{Off: true}).PutOrg(ctx, scaleOrg))

			// check reports to report whether B refused within the bound.
			check := func(report errorer, removeFallback bool) {
				t.Helper()
				a, b := newCachedInstance(t, db), newCachedInstance(t, db)
				cookie := a.mustSignIn(t, "cut@example.com")
				cachedServing(t, b, cookie)
				sqlstore.CutFeed(b.store)
				if removeFallback {
					sqlstore.RemoveFallback(b.store)
				}
				require.NoError(t, a.store.RevokeSession(ctx, hashCookie(cookie)))
				refusedWithin(report, time.Now(), func() bool { return b.accepts(cookie) })
			}
			check(t, false)
			without := &recorder{}
			check(without, true)
			assert.NotEmpty(t, without.errors, "without the fallback a cut signal lets the revoked session through")
		})
	}
}

// A dropped connection loses the notifications sent while it was down: the
// feed forgets its whole cache when it is back, so a session revoked in
// between is refused all the same (PostgreSQL, whose feed is a connection).
func TestADroppedFeedConnectionForgetsTheCache(t *testing.T) {
	ctx := context.Background()
	db := newDatabase(t, "postgres")
	admin := db.open(t)
	require.NoError(t, sqlstore.New(admin, sqlstore.CacheOptions{Off: true}).PutOrg(ctx, scaleOrg))
	a, b := newCachedInstance(t, db), newCachedInstance(t, db)
	for i := range 5 {
		cookie := a.mustSignIn(t, fmt.Sprintf("dropped-%d@example.com", i))
		cachedServing(t, b, cookie)
		require.Eventually(t, func() bool {
			return count(t, admin, `SELECT count(*) FROM pg_stat_activity
				WHERE application_name = 'embedsso-cache' AND datname = current_database()`) == 2
		}, 5*time.Second, time.Millisecond, "both instances' feeds listen")
		require.Equal(t, 2, count(t, admin, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = 'embedsso-cache' AND datname = current_database()`))
		require.NoError(t, a.store.RevokeSession(ctx, hashCookie(cookie)))
		refusedWithin(t, time.Now(), func() bool { return b.accepts(cookie) })
	}
}

// A database whose owner ran schema.sql but not the cache's triggers gets
// no cache (a Store would never hear of a change), and one that ran the
// shipped cache file by hand gets it, as with Migrate.
func TestTheCacheNeedsItsTriggers(t *testing.T) {
	ctx := context.Background()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			db := newBareDatabase(t, kind)
			admin := db.open(t)
			schema, err := os.ReadFile("schema/schema.sql")
			require.NoError(t, err)
			for _, stmt := range strings.Split(stripComments(string(schema)), ";") {
				if code := strings.TrimSpace(stmt); code != "" {
					_, err := admin.Exec(code)
					require.NoError(t, err, code)
				}
			}
			without := sqlstore.New(db.open(t))
			t.Cleanup(func() { _ = without.Close() })
			require.NoError(t, without.PutOrg(ctx, scaleOrg))
			_, err = without.FindOrg(ctx, scaleOrg.ID)
			require.NoError(t, err)
			require.Never(t, func() bool { return sqlstore.CacheServes(without) }, 300*time.Millisecond, 10*time.Millisecond)

			file, err := os.ReadFile("schema/cache_" + kind + ".sql")
			require.NoError(t, err)
			for _, stmt := range strings.Split(string(file), ";\n\n") {
				if code := strings.TrimSpace(stripComments(stmt)); code != "" {
					_, err := admin.Exec(code)
					require.NoError(t, err, code)
				}
			}
			with := sqlstore.New(db.open(t))
			t.Cleanup(func() { _ = with.Close() })
			require.Eventually(t, func() bool {
				_, err := with.FindOrg(ctx, scaleOrg.ID)
				return err == nil && sqlstore.CacheServes(with)
			}, 5*time.Second, time.Millisecond)
		})
	}
}

// stripComments drops the comments of a schema file: from "--" to the end
// of the line.
func stripComments(file string) string {
	var b strings.Builder
	for _, line := range strings.Split(file, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// Close stops the cache's feed and returns, at whatever moment of the feed
// it comes (30 moments, 0-27 ms after the first lookup started the feed).
func TestCloseStopsTheFeed(t *testing.T) {
	ctx := context.Background()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			db := newDatabase(t, kind)
			require.NoError(t, sqlstore.New(db.open(t), sqlstore.CacheOptions{Off: true}).PutOrg(ctx, scaleOrg))
			for i := range 30 {
				s := openStore(t, db, sqlstore.CacheOptions{})
				_, err := s.FindOrg(ctx, scaleOrg.ID)
				require.NoError(t, err)
				time.Sleep(time.Duration(i%10) * 3 * time.Millisecond)
				closed := make(chan error, 1)
				go func() { closed <- s.Close() }()
				select {
				case err := <-closed:
					require.NoError(t, err)
				case <-time.After(5 * time.Second):
					t.Fatalf("Close %d did not return", i)
				}
			}
		})
	}
}

// A change of a user's details made on one instance reaches a session the
// other serves from its cache. (On PostgreSQL a sign-in that changes
// nothing but updated_at sends no signal: the trigger must still send one
// for every change the guard shows.)
func TestAUserChangeReachesTheOtherInstance(t *testing.T) {
	ctx := context.Background()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			db := newDatabase(t, kind)
			a, b := newCachedInstance(t, db), newCachedInstance(t, db)
			require.NoError(t, a.store.PutOrg(ctx, scaleOrg))
			cookie := a.mustSignIn(t, "jane@example.com")
			cachedServing(t, b, cookie)
			idHash := hashCookie(cookie)
			role := func() string {
				s, err := b.store.FindSession(ctx, idHash, time.Now())
				require.NoError(t, err)
				return s.User.Role
			}
			require.Equal(t, "MEMBER", role())

			_, err := a.store.UpsertUser(ctx, embedsso.Profile{OrgID: scaleOrg.ID, Email: "jane@example.com", Role: "MEMBER"})
			require.NoError(t, err)
			// Page views for twice the bound: an unchanged user reads the same.
			for end := time.Now().Add(200 * time.Millisecond); time.Now().Before(end); time.Sleep(time.Millisecond) {
				assert.Equal(t, "MEMBER", role())
			}

			_, err = a.store.UpsertUser(ctx, embedsso.Profile{OrgID: scaleOrg.ID, Email: "jane@example.com", Role: "ADMIN"})
			require.NoError(t, err)
			assert.Eventually(t, func() bool { return role() == "ADMIN" }, 2*time.Second, time.Millisecond,
				"the other instance shows the new role")
		})
	}
}
