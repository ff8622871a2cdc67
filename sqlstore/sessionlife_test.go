package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
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
)

// clock is a shared, settable time for several instances.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// lifeInstance is one app instance over the shared database: the SSO
// endpoint and a page behind Handler.RequireUser, on the shared clock.
type lifeInstance struct {
	h    http.Handler
	page http.Handler
}

func newLifeInstance(t *testing.T, db database, c *clock) (lifeInstance, *sqlstore.Store) {
	t.Helper()
	store := sqlstore.New(db.open(t))
	sessions, err := cookiesession.New(cookiesession.Config{Store: store, SignIns: store, Now: c.Now})
	require.NoError(t, err)
	h, err := embedsso.New(embedsso.Config{Orgs: store, Users: store, Sessions: sessions, Replay: store, Now: c.Now})
	require.NoError(t, err)
	page := h.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := embedsso.UserFromContext(r.Context())
		_, _ = w.Write([]byte(u.Email))
	}))
	return lifeInstance{h: h, page: page}, store
}

// signIn logs jane in on in at the clock's time and returns her cookie.
func (in lifeInstance) signIn(t *testing.T, c *clock) string {
	t.Helper()
	tok, err := signer.Signer{Secret: scaleOrg.Secrets[0].Value, TokenID: true, Now: c.Now}.Sign(
		signer.Claims{Email: "jane@example.com", OrgID: scaleOrg.ID, Role: "MEMBER"})
	require.NoError(t, err)
	w := httptest.NewRecorder()
	in.h.ServeHTTP(w, httptest.NewRequest("GET", "/api/sso/jwt?jwt="+url.QueryEscape(tok), nil))
	require.Equal(t, http.StatusFound, w.Code, w.Body.String())
	for _, line := range w.Result().Header.Values("Set-Cookie") {
		if strings.HasPrefix(line, "embedsso_session=") {
			return strings.SplitN(line, ";", 2)[0]
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// visit requests the page on in with cookie at start+after.
func (in lifeInstance) visit(c *clock, start time.Time, after time.Duration, cookie string) int {
	c.set(start.Add(after))
	r := httptest.NewRequest("GET", "/dashboard", nil)
	r.Header.Set("Cookie", cookie)
	r.Header.Set("Accept", "application/json")
	w := httptest.NewRecorder()
	in.page.ServeHTTP(w, r)
	return w.Code
}

// A session's life, on two instances over one database with a shared
// clock: what one instance renews or ends, the other sees at once.
func TestSessionLifeAcrossTwoInstances(t *testing.T) {
	ctx := context.Background()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			db := newDatabase(t, kind)
			c := &clock{now: time.Unix(1_900_000_000, 0)}
			a, storeA := newLifeInstance(t, db, c)
			b, _ := newLifeInstance(t, db, c)
			require.NoError(t, storeA.PutOrg(ctx, scaleOrg))

			t.Run("activity on one instance renews the idle expiry for the other", func(t *testing.T) {
				start := c.Now()
				cookie := a.signIn(t, c)
				assert.Equal(t, http.StatusOK, b.visit(c, start, 29*time.Minute, cookie))
				assert.Equal(t, http.StatusOK, a.visit(c, start, 58*time.Minute, cookie), "B's renewal reached the store")
				assert.Equal(t, http.StatusUnauthorized, b.visit(c, start, 88*time.Minute+time.Second, cookie), "30 minutes idle")
			})
			t.Run("the absolute expiry holds despite activity", func(t *testing.T) {
				start := c.Now()
				cookie := a.signIn(t, c)
				for at, i := 10*time.Minute, 0; at < 8*time.Hour; at, i = at+10*time.Minute, i+1 {
					in := a
					if i%2 == 1 {
						in = b
					}
					require.Equal(t, http.StatusOK, in.visit(c, start, at, cookie), "at %s", at)
				}
				assert.Equal(t, http.StatusUnauthorized, b.visit(c, start, 8*time.Hour, cookie))
			})
			t.Run("signing a user out everywhere on one instance ends the session on the other", func(t *testing.T) {
				start := c.Now()
				cookie := a.signIn(t, c)
				require.Equal(t, http.StatusOK, b.visit(c, start, time.Minute, cookie))
				s, err := storeA.FindSession(ctx, hashCookie(cookie), c.Now())
				require.NoError(t, err)
				require.NoError(t, storeA.RevokeUserSessions(ctx, scaleOrg.ID, s.User.ID))
				refusedWithin(t, time.Now(), func() bool { return b.visit(c, start, 2*time.Minute, cookie) == http.StatusOK })
			})
			t.Run("disabling the organization on one instance ends its sessions on the other", func(t *testing.T) {
				start := c.Now()
				cookie := a.signIn(t, c)
				require.Equal(t, http.StatusOK, b.visit(c, start, time.Minute, cookie))
				off := scaleOrg
				off.EmbeddingEnabled = false
				require.NoError(t, storeA.PutOrg(ctx, off))
				assert.Equal(t, http.StatusUnauthorized, a.visit(c, start, 3*time.Minute, cookie), "at once on the instance that made the change")
				refusedWithin(t, time.Now(), func() bool { return b.visit(c, start, 2*time.Minute, cookie) == http.StatusOK })
				require.NoError(t, storeA.PutOrg(ctx, scaleOrg))
			})
		})
	}
}

// hashCookie is the store key of a session cookie "name=value".
func hashCookie(cookie string) string {
	sum := sha256.Sum256([]byte(strings.SplitN(cookie, "=", 2)[1]))
	return hex.EncodeToString(sum[:])
}
