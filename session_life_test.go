package embedsso_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// touchCounter counts the session store's renewals and can fail them.
type touchCounter struct {
	*memstore.Store
	touches atomic.Int64
	fail    error
}

func (s *touchCounter) TouchSession(ctx context.Context, idHash string, idle time.Time) error {
	s.touches.Add(1)
	if s.fail != nil {
		return s.fail
	}
	return s.Store.TouchSession(ctx, idHash, idle)
}

// lifeFixture signs jane in with the default session life (30m idle, 8h
// absolute) and returns a request function for an app page at an offset
// from the sign-in.
func lifeFixture(t *testing.T, logs *bytes.Buffer) (f *fixture, store *touchCounter, visit func(after time.Duration) int) {
	t.Helper()
	store = &touchCounter{}
	var cookies *cookiesession.Issuer
	f = newFixture(t, func(c *embedsso.Config) {
		store.Store = c.Users.(*memstore.Store) // the fixture's store
		var err error
		cookies, err = cookiesession.New(cookiesession.Config{Store: store, Now: func() time.Time { return f.now },
			Logger: slog.New(slog.NewJSONHandler(logs, nil))})
		require.NoError(t, err)
		c.Sessions = cookies
	})
	f.cookies = cookies
	login := f.get(loginURL(rawToken(hs256, f.claims(), secretABC)), nil)
	require.Equal(t, http.StatusFound, login.Code)
	cookie := cookiePair(sessionCookie(login))
	start := f.now
	page := f.h.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	return f, store, func(after time.Duration) int {
		f.now = start.Add(after)
		r := httptest.NewRequest("GET", "/dashboard", nil)
		r.Header.Set("Cookie", cookie)
		w := httptest.NewRecorder()
		page.ServeHTTP(w, r)
		return w.Code
	}
}

func TestASessionEndsAfterItsIdleTimeout(t *testing.T) {
	t.Parallel()
	_, _, visit := lifeFixture(t, &bytes.Buffer{})
	assert.Equal(t, http.StatusOK, visit(29*time.Minute))
	assert.Equal(t, http.StatusOK, visit(58*time.Minute), "the visit at 29m renewed it")
	assert.Equal(t, http.StatusUnauthorized, visit(88*time.Minute+time.Second), "30m without a request")
	assert.Equal(t, http.StatusUnauthorized, visit(89*time.Minute), "an ended session stays ended")
}

func TestRenewalWritesAtMostOnceAMinute(t *testing.T) {
	t.Parallel()
	_, store, visit := lifeFixture(t, &bytes.Buffer{})
	for _, at := range []time.Duration{10 * time.Second, 20 * time.Second, 50 * time.Second} {
		require.Equal(t, http.StatusOK, visit(at))
	}
	assert.Zero(t, store.touches.Load(), "within a minute of sign-in: reads only")
	require.Equal(t, http.StatusOK, visit(61*time.Second))
	require.Equal(t, http.StatusOK, visit(70*time.Second))
	require.Equal(t, http.StatusOK, visit(119*time.Second))
	assert.Equal(t, int64(1), store.touches.Load())
	require.Equal(t, http.StatusOK, visit(122*time.Second))
	assert.Equal(t, int64(2), store.touches.Load())
}

func TestASessionEndsAtItsAbsoluteExpiryDespiteActivity(t *testing.T) {
	t.Parallel()
	_, store, visit := lifeFixture(t, &bytes.Buffer{})
	for at := 10 * time.Minute; at < 8*time.Hour; at += 10 * time.Minute {
		require.Equal(t, http.StatusOK, visit(at), "at %s", at)
	}
	assert.Equal(t, http.StatusUnauthorized, visit(8*time.Hour))
	touches := store.touches.Load()
	// The visits at 10m…450m each renew (45); from 460m the idle expiry is
	// already the absolute one, 480m, and there is nothing to write.
	assert.Equal(t, int64(45), touches)
}

func TestAFailedRenewalIsLoggedAndTheRequestServed(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	_, store, visit := lifeFixture(t, &logs)
	store.fail = errors.New("database is locked")
	assert.Equal(t, http.StatusOK, visit(5*time.Minute))
	assert.Contains(t, logs.String(), "renewing a session failed")
	assert.Contains(t, logs.String(), "database is locked")
}

func TestSessionsCarryTheUserAsStoredNow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	first := f.get(loginURL(rawToken(hs256, f.claims(), secretABC)), nil)
	require.Equal(t, http.StatusFound, first.Code)
	// The same user signs in elsewhere with a new role and name.
	require.Equal(t, http.StatusFound, f.get(loginURL(rawToken(hs256, with(f.claims(), "role", "ADMIN", "lastName", "Roe"), secretABC)), nil).Code)

	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", cookiePair(sessionCookie(first)))
	s, err := f.cookies.Session(httptest.NewRecorder(), r)
	require.NoError(t, err)
	assert.Equal(t, "ADMIN", s.User.Role)
	assert.Equal(t, "Roe", s.User.LastName)
}

// TestNewCookieSessionsIdleTimeoutDefaults is in package cookiesession.

func TestAShortIdleTimeoutIsRenewedByActivity(t *testing.T) {
	t.Parallel()
	var f *fixture
	var cookies *cookiesession.Issuer
	f = newFixture(t, func(c *embedsso.Config) {
		var err error
		cookies, err = cookiesession.New(cookiesession.Config{Store: c.Users.(*memstore.Store), // the fixture's store
			IdleTimeout: 2 * time.Second, Now: func() time.Time { return f.now }})
		require.NoError(t, err)
		c.Sessions = cookies
	})
	f.cookies = cookies
	start := f.now
	login := f.get(loginURL(rawToken(hs256, f.claims(), secretABC)), nil)
	require.Equal(t, http.StatusFound, login.Code)
	page := f.h.RequireUser(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	visit := func(after time.Duration) int {
		f.now = start.Add(after)
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", cookiePair(sessionCookie(login)))
		w := httptest.NewRecorder()
		page.ServeHTTP(w, r)
		return w.Code
	}
	for at := time.Second; at <= 10*time.Second; at += time.Second {
		require.Equal(t, http.StatusOK, visit(at), "a request every second keeps a 2s idle session alive (at %s)", at)
	}
	assert.Equal(t, http.StatusUnauthorized, visit(13*time.Second), "and 3s without one ends it")
}
