package cookiesession_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func cookiePair(setCookie string) string { return strings.SplitN(setCookie, ";", 2)[0] }

func TestNewCookieSessionsIdleTimeoutDefaults(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	for name, tc := range map[string]struct {
		idle     time.Duration
		wantIdle time.Time
	}{
		"the default is 30 minutes":     {0, now.Add(30 * time.Minute)},
		"a chosen timeout":              {5 * time.Minute, now.Add(5 * time.Minute)},
		"longer than the TTL is capped": {24 * time.Hour, now.Add(8 * time.Hour)},
		"negative turns it off":         {-1, time.Time{}},
	} {
		t.Run(name, func(t *testing.T) {
			store := &memstore.Store{}
			c, err := cookiesession.New(cookiesession.Config{Store: store, IdleTimeout: tc.idle, Now: func() time.Time { return now }})
			require.NoError(t, err)
			u, err := store.UpsertUser(context.Background(), embedsso.Profile{OrgID: "o", Email: "e@x.io"})
			require.NoError(t, err)
			w := httptest.NewRecorder()
			_, err = c.IssueSession(context.Background(), w, httptest.NewRequest("GET", "/", nil), u, 0)
			require.NoError(t, err)
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Cookie", cookiePair(w.Header().Get("Set-Cookie")))
			s, err := c.Session(w, r)
			require.NoError(t, err)
			assert.True(t, tc.wantIdle.Equal(s.IdleExpiresAt), "idle expiry %s, want %s", s.IdleExpiresAt, tc.wantIdle)
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	_, err := cookiesession.New(cookiesession.Config{})
	assert.Error(t, err, "cookie sessions need a store")
	_, err = cookiesession.New(cookiesession.Config{Store: &memstore.Store{}, Name: "bad name;"})
	assert.Error(t, err, "cookie names are tokens")
	_, err = cookiesession.New(cookiesession.Config{Store: &memstore.Store{}, TTL: -time.Second})
	assert.Error(t, err, "a negative TTL")
	_, err = cookiesession.New(cookiesession.Config{Store: &memstore.Store{}})
	assert.NoError(t, err)
}

// OneStep is true exactly when Config.SignIns is set; without it SignIn
// refuses, writing nothing.
func TestOneStepIsConfigSignIns(t *testing.T) {
	t.Parallel()
	store := &memstore.Store{}
	c, err := cookiesession.New(cookiesession.Config{Store: store})
	require.NoError(t, err)
	assert.False(t, c.OneStep())
	w := httptest.NewRecorder()
	_, err = c.SignIn(context.Background(), w, httptest.NewRequest("GET", "/", nil), embedsso.Profile{OrgID: "o", Email: "e@x.io"}, 0, "", time.Now(), time.Now())
	assert.ErrorContains(t, err, "Config.SignIns is not set")
	assert.Empty(t, w.Header().Get("Set-Cookie"))
	assert.Zero(t, store.SessionCount())
}

func TestCarriesRecognisesOnlyTheIssuedSessionsCookie(t *testing.T) {
	t.Parallel()
	store := &memstore.Store{}
	c, err := cookiesession.New(cookiesession.Config{Store: store})
	require.NoError(t, err)
	u, err := store.UpsertUser(context.Background(), embedsso.Profile{OrgID: "o", Email: "e@x.io"})
	require.NoError(t, err)
	w := httptest.NewRecorder()
	s, err := c.IssueSession(context.Background(), w, httptest.NewRequest("GET", "/", nil), u, 0)
	require.NoError(t, err)
	cookie := cookiePair(w.Header().Get("Set-Cookie"))
	name, value, _ := strings.Cut(cookie, "=")
	other := strings.Repeat("A", len(value))
	for _, tc := range []struct {
		name, cookie, idHash string
		want                 bool
	}{
		{"the issued cookie", cookie, s.IDHash, true},
		{"beside other cookies", "a=b; " + cookie + "; c=d", s.IDHash, true},
		{"no cookie", "", s.IDHash, false},
		{"another session id", name + "=" + other, s.IDHash, false},
		{"a cookie one character short", name + "=" + value[1:], s.IDHash, false},
		{"the id under another name", "other=" + value, s.IDHash, false},
		{"the hash in upper case: the same hash", cookie, strings.ToUpper(s.IDHash), true},
		{"a hash that is not hex", cookie, "g" + s.IDHash[1:], false},
		{"a hash one digit short", cookie, s.IDHash[1:], false},
		{"another hash", cookie, strings.Repeat("0", len(s.IDHash)), false},
		{"no hash", cookie, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tc.cookie != "" {
				r.Header.Set("Cookie", tc.cookie)
			}
			assert.Equal(t, tc.want, c.Carries(r, tc.idHash))
		})
	}
}
