package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/signer"
	"github.com/embedsso/embedsso/sqlstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var scaleOrg = embedsso.Org{ID: "org_scale", EmbeddingEnabled: true,
	Secrets:      []embedsso.Secret{{Value: "scale-out-secret-0123456789-abcdefghijklmno"}},
	AllowedRoles: []string{"ADMIN", "MEMBER", "VIEWER"}, DashboardURL: "/dashboard"}

// instance is one app server: its own *sql.DB and sqlstore handle, its own
// handler, behind its own httptest server.
type instance struct {
	srv      *httptest.Server
	store    *sqlstore.Store
	sessions *cookiesession.Issuer
}

func newInstance(t *testing.T, db database, sessionStore func(*sqlstore.Store) cookiesession.Store) instance {
	t.Helper()
	store := sqlstore.New(db.open(t))
	var ss cookiesession.Store = store
	if sessionStore != nil {
		ss = sessionStore(store)
	}
	cc := cookiesession.Config{Store: ss}
	if sessionStore == nil {
		cc.SignIns = store // one transaction per sign-in, when the store keeps the sessions too
	}
	sessions, err := cookiesession.New(cc)
	require.NoError(t, err)
	h, err := embedsso.New(embedsso.Config{Orgs: store, Users: store, Sessions: sessions, Replay: store, RequireTokenID: true})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/api/sso/jwt", h)
	mux.Handle("GET /api/me", h.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := embedsso.UserFromContext(r.Context())
		fmt.Fprint(w, u.Email)
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return instance{srv: srv, store: store, sessions: sessions}
}

var client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// login sends token to in and returns the status and the session cookie.
func (in instance) login(t *testing.T, token string) (int, *http.Cookie) {
	t.Helper()
	res, err := client.Get(in.srv.URL + "/api/sso/jwt?jwt=" + token)
	require.NoError(t, err)
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == in.sessions.CookieName() {
			return res.StatusCode, c
		}
	}
	return res.StatusCode, nil
}

func (in instance) me(t *testing.T, c *http.Cookie) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, in.srv.URL+"/api/me", nil)
	req.Header.Set("Accept", "application/json")
	req.AddCookie(c)
	res, err := client.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	return res.StatusCode
}

func mint(t *testing.T, email string) string {
	t.Helper()
	tok, err := signer.Signer{Secret: scaleOrg.Secrets[0].Value, TokenID: true}.Sign(
		signer.Claims{Email: email, OrgID: scaleOrg.ID, FirstName: "Pat", Role: "MEMBER"})
	require.NoError(t, err)
	return tok
}

func count(t *testing.T, db *sql.DB, query string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(query).Scan(&n))
	return n
}

// Two instances over one database behave as one: the proof runs on
// PostgreSQL, the database for several hosts, and on SQLite, which serves
// several processes on one host.
func TestTwoInstancesOverOneDatabase(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) { testTwoInstances(t, kind) })
	}
}

func testTwoInstances(t *testing.T, kind string) {
	db := newDatabase(t, kind)
	require.NoError(t, sqlstore.New(db.open(t)).PutOrg(context.Background(), scaleOrg))
	a, b := newInstance(t, db, nil), newInstance(t, db, nil)
	admin := db.open(t)

	t.Run("a token used on A is refused on B", func(t *testing.T) {
		tok := mint(t, "once@example.com")
		status, cookie := a.login(t, tok)
		require.Equal(t, http.StatusFound, status)
		require.NotNil(t, cookie)
		status, cookie = b.login(t, tok)
		assert.Equal(t, http.StatusUnauthorized, status)
		assert.Nil(t, cookie)
	})

	t.Run("a session issued by A is valid on B and signing out on B ends it on A", func(t *testing.T) {
		status, cookie := a.login(t, mint(t, "roam@example.com"))
		require.Equal(t, http.StatusFound, status)
		require.NotNil(t, cookie)
		assert.Equal(t, http.StatusOK, a.me(t, cookie))
		assert.Equal(t, http.StatusOK, b.me(t, cookie))

		req := httptest.NewRequest(http.MethodPost, "/logout", nil)
		req.AddCookie(cookie)
		require.NoError(t, b.sessions.SignOut(httptest.NewRecorder(), req))
		signedOut := time.Now()
		assert.Equal(t, http.StatusUnauthorized, b.me(t, cookie), "at once on the instance that signed out")
		refusedWithin(t, signedOut, func() bool { return a.me(t, cookie) == http.StatusOK })
	})

	t.Run("revoking a user's sessions on A signs them out on B within the cache's bound", func(t *testing.T) {
		_, laptop := a.login(t, mint(t, "fired@example.com"))
		_, phone := b.login(t, mint(t, "fired@example.com"))
		_, other := b.login(t, mint(t, "stays@example.com"))
		require.NotNil(t, laptop)
		require.NotNil(t, phone)
		require.NotNil(t, other)
		sess, err := a.sessions.Session(httptest.NewRecorder(), withCookie(laptop))
		require.NoError(t, err)

		require.NoError(t, a.store.RevokeUserSessions(context.Background(), sess.User.OrgID, sess.User.ID))
		revoked := time.Now()
		for _, c := range []*http.Cookie{laptop, phone} {
			_, err := a.sessions.Session(httptest.NewRecorder(), withCookie(c))
			assert.ErrorIs(t, err, embedsso.ErrSessionNotFound, "at once on the instance that revoked")
			refusedWithin(t, revoked, func() bool { _, err := b.sessions.Session(httptest.NewRecorder(), withCookie(c)); return err == nil })
		}
		for _, in := range []instance{a, b} {
			_, err := in.sessions.Session(httptest.NewRecorder(), withCookie(other))
			assert.NoError(t, err, "another user keeps their session")
		}
	})

	t.Run("200 concurrent logins over both instances for 20 users make exactly 20 users", func(t *testing.T) {
		const users, logins = 20, 200
		tokens := make([]string, logins)
		for i := range tokens {
			tokens[i] = mint(t, fmt.Sprintf("crowd-%02d@example.com", i%users))
		}
		statuses := make([]int, logins)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range logins {
			in := a
			if i%2 == 1 {
				in = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				statuses[i], _ = in.login(t, tokens[i])
			}()
		}
		close(start)
		wg.Wait()
		for i, s := range statuses {
			assert.Equal(t, http.StatusFound, s, "login %d", i)
		}
		assert.Equal(t, users, count(t, admin, `SELECT count(*) FROM embedsso_users WHERE email LIKE 'crowd-%'`))
		assert.Equal(t, logins, count(t, admin, `SELECT count(*) FROM embedsso_sessions s JOIN embedsso_users u ON u.id = s.user_id WHERE u.email LIKE 'crowd-%'`))
	})
}

func withCookie(c *http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(c)
	return r
}

// failingSessions is the SQL store with its sessions table out of reach: the
// login fails after the token id was spent and the user upserted.
type failingSessions struct{ *sqlstore.Store }

func (failingSessions) CreateSession(context.Context, embedsso.Session) error {
	return errors.New("sessions table unreachable")
}

// A login whose writes are made one at a time and that fails half-way (here:
// storing the session, after the user was upserted; the session store is
// another value than the user store, so there is no SignIn to use) leaves a
// user row without a session. That is harmless and documented: the row is
// exactly what the next login upserts anyway, and the spent token cannot be
// retried (the customer's page mints a new one on reload), so nothing is
// half-signed-in and nothing is lost. With SignIn nothing is left at all:
// the kit's rule "a sign-in failing half-way writes nothing".
func TestALoginFailingHalfWayLeavesNothingHarmful(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			db := newDatabase(t, kind)
			require.NoError(t, sqlstore.New(db.open(t)).PutOrg(context.Background(), scaleOrg))
			broken := newInstance(t, db, func(s *sqlstore.Store) cookiesession.Store { return failingSessions{s} })
			healthy := newInstance(t, db, nil)
			admin := db.open(t)

			tok := mint(t, "half@example.com")
			status, cookie := broken.login(t, tok)
			assert.Equal(t, http.StatusInternalServerError, status)
			assert.Nil(t, cookie)
			assert.Equal(t, 1, count(t, admin, `SELECT count(*) FROM embedsso_users WHERE email = 'half@example.com'`))
			assert.Equal(t, 0, count(t, admin, `SELECT count(*) FROM embedsso_sessions`))

			status, _ = healthy.login(t, tok)
			assert.Equal(t, http.StatusUnauthorized, status, "the spent token is not accepted twice")
			status, cookie = healthy.login(t, mint(t, "half@example.com"))
			require.Equal(t, http.StatusFound, status)
			require.NotNil(t, cookie)
			assert.Equal(t, http.StatusOK, healthy.me(t, cookie))
			assert.Equal(t, 1, count(t, admin, `SELECT count(*) FROM embedsso_users WHERE email = 'half@example.com'`), "the next login reused the row")
		})
	}
}

// With one Store as users, replay and session store, the handler makes a
// login's writes in one SignIn, and a login failing half-way leaves nothing:
// a trigger makes the session insert fail, after the token id and the user
// were written in the same statement or transaction. No user row, no
// session, and the token id is not spent: the same token signs in once the
// sessions table takes rows again.
func TestALoginSignedInAtOnceThatFailsHalfWayLeavesNothing(t *testing.T) {
	triggers := map[string][2]string{
		"postgres": {`CREATE FUNCTION embedsso_test_fail() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN RAISE EXCEPTION 'sessions table unreachable'; END $$;
			CREATE TRIGGER embedsso_test_fail BEFORE INSERT ON embedsso_sessions
			FOR EACH ROW EXECUTE FUNCTION embedsso_test_fail()`,
			`DROP TRIGGER embedsso_test_fail ON embedsso_sessions`},
		"sqlite": {`CREATE TRIGGER embedsso_test_fail BEFORE INSERT ON embedsso_sessions
			BEGIN SELECT RAISE(ABORT, 'sessions table unreachable'); END`,
			`DROP TRIGGER embedsso_test_fail`},
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			db := newDatabase(t, kind)
			require.NoError(t, sqlstore.New(db.open(t)).PutOrg(context.Background(), scaleOrg))
			in := newInstance(t, db, nil)
			admin := db.open(t)
			_, err := admin.Exec(triggers[kind][0])
			require.NoError(t, err)

			tok := mint(t, "half@example.com")
			status, cookie := in.login(t, tok)
			assert.Equal(t, http.StatusInternalServerError, status)
			assert.Nil(t, cookie)
			assert.Equal(t, 0, count(t, admin, `SELECT count(*) FROM embedsso_users`))
			assert.Equal(t, 0, count(t, admin, `SELECT count(*) FROM embedsso_sessions`))
			assert.Equal(t, 0, count(t, admin, `SELECT count(*) FROM embedsso_used_tokens`))

			_, err = admin.Exec(triggers[kind][1])
			require.NoError(t, err)
			status, cookie = in.login(t, tok)
			require.Equal(t, http.StatusFound, status, "the token was not spent by the failed login")
			require.NotNil(t, cookie)
			assert.Equal(t, http.StatusOK, in.me(t, cookie))
			status, _ = in.login(t, tok)
			assert.Equal(t, http.StatusUnauthorized, status, "now it is")
		})
	}
}
