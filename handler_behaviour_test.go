package embedsso_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenIDIsSingleUse(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := rawToken(hs256, with(f.claims(), "jti", "tok-1"), secretABC)

	first := f.get(loginURL(tok), nil)
	require.Equal(t, http.StatusFound, first.Code)
	second := f.get(loginURL(tok), nil)
	assert.Equal(t, http.StatusUnauthorized, second.Code)
	assert.True(t, errors.Is(f.lastEvent(t).Err, embedsso.ErrTokenReplayed))
	assert.Empty(t, sessionCookie(second))
	assert.Equal(t, 1, f.store.SessionCount(), "the replay created no second session")

	// The same jti in another organization is another token.
	other := rawToken(hs256, with(f.claims(), "jti", "tok-1", "orgId", "org_open"), secretOpen)
	assert.Equal(t, http.StatusFound, f.get(loginURL(other), nil).Code)
}

func TestRacingLoginsOfOneNewUserMakeOneUser(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const n = 50
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		tok := rawToken(hs256, with(f.claims(), "jti", fmt.Sprint("race-", i), "email", []string{"Ann@Example.com", "ann@example.com"}[i%2]), secretABC)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes[i] = f.get(loginURL(tok), nil).Code
		}()
	}
	close(start)
	wg.Wait()
	for i, c := range codes {
		assert.Equal(t, http.StatusFound, c, "login %d", i)
	}
	require.Len(t, f.store.Users(), 1)
	assert.Equal(t, "ann@example.com", f.store.Users()[0].Email)
	assert.Equal(t, n, f.store.SessionCount())
}

func TestRacingRequestsWithOneTokenSignInOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := rawToken(hs256, with(f.claims(), "jti", "shared"), secretABC)
	const n = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	byCode := map[int]int{}
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c := f.get(loginURL(tok), nil).Code
			mu.Lock()
			byCode[c]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	assert.Equal(t, map[int]int{http.StatusFound: 1, http.StatusUnauthorized: n - 1}, byCode)
	assert.Equal(t, 1, f.store.SessionCount())
}

// Stores that fail, for the 500 paths.
type (
	failingOrgs     struct{}
	failingUsers    struct{}
	failingSessions struct{ memstore.Store }
	failingReplay   struct{}
)

var errDBDown = errors.New("dial tcp 10.0.0.7:5432: connection refused (password=hunter2)")

func (failingOrgs) FindOrg(context.Context, string) (embedsso.Org, error) {
	return embedsso.Org{}, errDBDown
}
func (failingUsers) UpsertUser(context.Context, embedsso.Profile) (embedsso.User, error) {
	return embedsso.User{}, errDBDown
}
func (*failingSessions) CreateSession(context.Context, embedsso.Session) error { return errDBDown }
func (failingReplay) UseTokenID(context.Context, string, string, time.Time, time.Time) error {
	return errDBDown
}

func TestStoreFailuresAre500sThatLeakNothing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opt  fixtureOption
	}{
		{"the org store fails", func(c *embedsso.Config) { c.Orgs = failingOrgs{} }},
		{"the user store fails", func(c *embedsso.Config) { c.Users = failingUsers{} }},
		{"the replay store fails", func(c *embedsso.Config) { c.Replay = failingReplay{} }},
		{"the session store fails", func(c *embedsso.Config) {
			s, err := cookiesession.New(cookiesession.Config{Store: &failingSessions{}})
			if err != nil {
				panic(err)
			}
			c.Sessions = s
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			f := newFixture(t, tc.opt, func(c *embedsso.Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
			tok := rawToken(hs256, with(f.claims(), "jti", "j-500"), secretABC)
			w := f.get(loginURL(tok), nil)

			assert.Equal(t, http.StatusInternalServerError, w.Code)
			assert.Contains(t, w.Body.String(), "code: internal")
			assert.NotContains(t, w.Body.String(), "10.0.0.7")
			assert.NotContains(t, w.Body.String(), "hunter2")
			assert.Empty(t, sessionCookie(w))
			assert.True(t, errors.Is(f.lastEvent(t).Err, embedsso.ErrInternal))
			assert.True(t, errors.Is(f.lastEvent(t).Err, errDBDown), "the cause stays reachable for the operator")
			assert.Contains(t, logs.String(), "level=ERROR")
			assert.Contains(t, logs.String(), "connection refused", "the log says what failed")
			assert.NotContains(t, logs.String(), tok[strings.LastIndex(tok, ".")+1:], "the token never reaches the log")
		})
	}
}

func TestAWeakSecretIsLoggedClearly(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	f := newFixture(t, func(c *embedsso.Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	w := f.get(loginURL(rawToken(hs256, with(f.claims(), "orgId", "org_weak"), "too-short-16byte")), nil)
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Contains(t, logs.String(), "level=ERROR")
	assert.Contains(t, logs.String(), "code=org_misconfigured")
	assert.Contains(t, logs.String(), "is 16 bytes; HS256 needs at least 32")
	assert.NotContains(t, logs.String(), "too-short-16byte", "the secret never reaches the log")
}

func TestLogsAndEventsNeverCarryTheToken(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	f := newFixture(t, func(c *embedsso.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	good := rawToken(hs256, f.claims(), secretABC)
	expired := rawToken(hs256, with(f.claims(), "exp", f.now.Add(-time.Hour).Unix(), "iat", f.now.Add(-2*time.Hour).Unix()), secretABC)
	forged := rawToken(hs256, f.claims(), secretOpen)
	for _, tok := range []string{good, expired, forged} {
		f.get(loginURL(tok), nil)
		for _, seg := range strings.Split(tok, ".") {
			assert.NotContains(t, logs.String(), seg)
			assert.NotContains(t, fmt.Sprintf("%+v", f.lastEvent(t)), seg)
		}
	}
	assert.Contains(t, logs.String(), `"code":"token_expired"`)
	assert.Contains(t, logs.String(), `"code":"signature_invalid"`)
}

func TestWithoutACookieCheckTheLoginRedirectsToTheDashboard(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *embedsso.Config) { c.DisableCookieCheck = true })
	w := f.get(loginURL(rawToken(hs256, f.claims(), secretABC)), nil)
	assert.Equal(t, http.StatusFound, w.Code)
	assert.Equal(t, "/dashboard", w.Header().Get("Location"))
}

func TestSessionMiddleware(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	login := f.get(loginURL(rawToken(hs256, f.claims(), secretABC)), nil)
	require.Equal(t, http.StatusFound, login.Code)
	cookie := cookiePair(sessionCookie(login))

	me := f.h.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := embedsso.UserFromContext(r.Context())
		fmt.Fprint(w, u.Email, " ", u.Role)
	}))
	call := func(cookie string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
		r.Header.Set("Accept", "application/json")
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		w := httptest.NewRecorder()
		me.ServeHTTP(w, r)
		return w
	}

	ok := call(cookie)
	assert.Equal(t, http.StatusOK, ok.Code)
	assert.Equal(t, "jane@example.com MEMBER", ok.Body.String())
	assert.Equal(t, "frame-ancestors 'self' https://customer.example https://*.partner.example", ok.Header().Get("Content-Security-Policy"))

	for name, c := range map[string]string{
		"no cookie":          "",
		"a forged id":        "embedsso_session=" + strings.Repeat("A", 43),
		"a malformed id":     "embedsso_session=../../etc/passwd",
		"a truncated cookie": cookie[:len(cookie)-1],
	} {
		assert.Equal(t, http.StatusUnauthorized, call(c).Code, name)
	}

	f.now = f.now.Add(8*time.Hour + time.Second)
	assert.Equal(t, http.StatusUnauthorized, call(cookie).Code, "an expired session")
}

func TestSignOutRevokesTheSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	login := f.get(loginURL(rawToken(hs256, f.claims(), secretABC)), nil)
	r := httptest.NewRequest(http.MethodPost, "/logout", nil)
	r.Header.Set("Cookie", cookiePair(sessionCookie(login)))
	w := httptest.NewRecorder()
	require.NoError(t, f.cookies.SignOut(w, r))
	assert.Contains(t, w.Header().Get("Set-Cookie"), "Max-Age=0")
	_, err := f.cookies.Session(httptest.NewRecorder(), r)
	assert.True(t, errors.Is(err, embedsso.ErrSessionNotFound))
	assert.Zero(t, f.store.SessionCount())
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	good := func() embedsso.Config {
		s, _ := cookiesession.New(cookiesession.Config{Store: &memstore.Store{}})
		return embedsso.Config{Orgs: &memstore.Store{}, Users: &memstore.Store{}, Sessions: s}
	}
	for name, mutate := range map[string]func(*embedsso.Config){
		"no org store":                           func(c *embedsso.Config) { c.Orgs = nil },
		"no user store":                          func(c *embedsso.Config) { c.Users = nil },
		"no session issuer":                      func(c *embedsso.Config) { c.Sessions = nil },
		"a leeway of an hour":                    func(c *embedsso.Config) { c.Leeway = time.Hour },
		"a negative leeway":                      func(c *embedsso.Config) { c.Leeway = -time.Second },
		"a lifetime of a week":                   func(c *embedsso.Config) { c.MaxTokenLifetime = 7 * 24 * time.Hour },
		"a negative token size":                  func(c *embedsso.Config) { c.MaxTokenBytes = -1 },
		"a hint cookie name that is not a token": func(c *embedsso.Config) { c.HintCookie = "org hint" },
		"one-step sign-ins without the replay store they spend tickets in": func(c *embedsso.Config) {
			store := &oneStore{}
			c.Sessions, _ = cookiesession.New(cookiesession.Config{Store: store, SignIns: store})
		},
	} {
		c := good()
		mutate(&c)
		_, err := embedsso.New(c)
		assert.Error(t, err, name)
	}
	_, err := embedsso.New(good())
	assert.NoError(t, err)
	// cookiesession.New's own refusals: cookiesession's TestNewRefusesBadConfig.
}

func TestACustomErrorPageGetsTheTypedError(t *testing.T) {
	t.Parallel()
	var got *embedsso.Error
	f := newFixture(t, func(c *embedsso.Config) {
		c.ErrorPage = func(w http.ResponseWriter, r *http.Request, e *embedsso.Error) {
			got = e
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(e.Status)
			fmt.Fprintf(w, `{"code":%q}`, e.Code)
		}
	})
	w := f.get(loginURL(rawToken(hs256, f.claims(), secretOpen)), nil)
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.JSONEq(t, `{"code":"signature_invalid"}`, w.Body.String())
	require.NotNil(t, got)
	assert.True(t, errors.Is(got, embedsso.ErrSignatureInvalid))
	assert.Equal(t, "no-referrer", w.Header().Get("Referrer-Policy"), "the handler's headers are set before the hook runs")
}

func TestMemoryStoresForgetExpiredEntriesAsTheyGo(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	first := f.get(loginURL(rawToken(hs256, with(f.claims(), "jti", "a"), secretABC)), nil)
	require.Equal(t, http.StatusFound, first.Code)
	require.Equal(t, 1, f.store.SessionCount())
	require.Equal(t, 1, f.store.TokenIDCount())

	f.now = f.now.Add(9 * time.Hour) // past the 8h session and the token's expiry
	later := f.get(loginURL(rawToken(hs256, with(f.claims(), "jti", "b"), secretABC)), nil)
	require.Equal(t, http.StatusFound, later.Code)
	assert.Equal(t, 1, f.store.SessionCount(), "the expired session was dropped")
	assert.Equal(t, 1, f.store.TokenIDCount(), "the expired token id was dropped")
}
