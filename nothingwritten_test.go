package embedsso_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeGate fails every store write once armed, and records it.
type writeGate struct {
	mu     sync.Mutex
	armed  bool
	writes []string
}

var errWriteBeforeVerdict = errors.New("a store was written before the verdict")

func (g *writeGate) write(what string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.armed {
		return nil
	}
	g.writes = append(g.writes, what)
	return errWriteBeforeVerdict
}

func (g *writeGate) arm() { g.mu.Lock(); g.armed, g.writes = true, nil; g.mu.Unlock() }

func (g *writeGate) attempted() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.writes...)
}

type gatedUsers struct {
	*memstore.Store
	g *writeGate
}

func (s gatedUsers) UpsertUser(ctx context.Context, p embedsso.Profile) (embedsso.User, error) {
	if err := s.g.write("UpsertUser"); err != nil {
		return embedsso.User{}, err
	}
	return s.Store.UpsertUser(ctx, p)
}

type gatedReplay struct {
	*memstore.Store
	g *writeGate
}

func (s gatedReplay) UseTokenID(ctx context.Context, orgID, id string, until, now time.Time) error {
	if err := s.g.write("UseTokenID"); err != nil {
		return err
	}
	return s.Store.UseTokenID(ctx, orgID, id, until, now)
}

type gatedSessions struct {
	*memstore.Store
	g *writeGate
}

func (s gatedSessions) CreateSession(ctx context.Context, sess embedsso.Session) error {
	if err := s.g.write("CreateSession"); err != nil {
		return err
	}
	return s.Store.CreateSession(ctx, sess)
}

func (s gatedSessions) TouchSession(ctx context.Context, idHash string, idle time.Time) error {
	if err := s.g.write("TouchSession"); err != nil {
		return err
	}
	return s.Store.TouchSession(ctx, idHash, idle)
}

func (s gatedSessions) RevokeSession(ctx context.Context, idHash string) error {
	if err := s.g.write("RevokeSession"); err != nil {
		return err
	}
	return s.Store.RevokeSession(ctx, idHash)
}

func (s gatedSessions) RevokeUserSessions(ctx context.Context, orgID, userID string) error {
	if err := s.g.write("RevokeUserSessions"); err != nil {
		return err
	}
	return s.Store.RevokeUserSessions(ctx, orgID, userID)
}

// gatedFixture is a fixture whose user, session and replay stores go
// through gate. Jane is signed in, and her session is due for its idle
// renewal: a request that carries it and reads it would write.
func gatedFixture(t *testing.T, opts ...fixtureOption) (f *fixture, gate *writeGate, session string) {
	t.Helper()
	gate = &writeGate{}
	f = newFixture(t, append(opts, func(c *embedsso.Config) {
		store := c.Users.(*memstore.Store) // the fixture's users, sessions and token ids
		cookies, err := cookiesession.New(cookiesession.Config{Store: gatedSessions{store, gate}, Now: func() time.Time { return f.now }})
		require.NoError(t, err)
		c.Users, c.Sessions = gatedUsers{store, gate}, cookies
		c.Replay = gatedReplay{c.Replay.(*memstore.Store), gate}
	})...)
	// Signed in two minutes before the fixture's clock, with a jti in case
	// the handler requires one.
	start := f.now
	f.now = start.Add(-2 * time.Minute)
	w := f.get(loginURL(rawToken(hs256, with(f.claims(), "jti", "gate-1"), secretABC)), nil)
	require.Equal(t, http.StatusFound, w.Code, w.Body.String())
	f.now = start
	return f, gate, cookieNamed(w, "embedsso_session")
}

// Every refusal of the login decides before anything is written: with
// stores that fail any write, each is still refused for its own reason,
// and no write was even tried, even when the request carries a session of
// the same user that is due for renewal. (A replayed token is the one
// refusal a write decides: the replay store's single atomic insert.)
func TestNothingIsWrittenBeforeTheVerdict(t *testing.T) {
	t.Parallel()
	for _, tc := range refusals() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, gate, session := gatedFixture(t, tc.opts...)
			gate.arm()
			target, headers := tc.request(f)
			h := map[string]string{"Cookie": session}
			for k, v := range headers {
				h[k] = v
			}
			w := f.do(tc.method, target, h)
			assert.Equal(t, tc.want.Status(), w.Code, w.Body.String())
			assert.Contains(t, w.Body.String(), "code: "+string(tc.want))
			assert.Empty(t, gate.attempted())
		})
	}
}

func TestNothingIsWrittenBeforeTheVerdictOfATicket(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// send sends the request, given a blocked login's check URL and
		// the resume ticket its page offered.
		send func(t *testing.T, f *fixture, checkURL, ticket string) *http.Response
		want embedsso.Kind
	}{
		{"a forged check link", func(_ *testing.T, f *fixture, _, _ string) *http.Response {
			return f.get("/api/sso/jwt?sso_check=not-a-ticket", nil).Result()
		}, embedsso.ErrTicketInvalid},
		{"a resume link opened", func(_ *testing.T, f *fixture, checkURL, ticket string) *http.Response {
			return f.get(resolve(checkURL, "?sso_resume="+url.QueryEscape(ticket)), nil).Result()
		}, ""},
		{"a forged resume link", func(_ *testing.T, f *fixture, _, _ string) *http.Response {
			return f.get("/api/sso/jwt?sso_resume=not-a-ticket", nil).Result()
		}, embedsso.ErrTicketInvalid},
		{"a check ticket posted as a resume", func(_ *testing.T, f *fixture, checkURL, _ string) *http.Response {
			u, _ := url.Parse(checkURL)
			return f.post(checkURL, resumeForm(u.Query().Get("sso_check")), nil).Result()
		}, embedsso.ErrTicketInvalid},
		{"a resume from another site", func(_ *testing.T, f *fixture, checkURL, ticket string) *http.Response {
			return f.post(checkURL, resumeForm(ticket), map[string]string{"Sec-Fetch-Site": "cross-site"}).Result()
		}, embedsso.ErrCrossSite},
		{"an expired resume ticket", func(_ *testing.T, f *fixture, checkURL, ticket string) *http.Response {
			f.now = f.now.Add(3 * time.Minute)
			return f.post(checkURL, resumeForm(ticket), nil).Result()
		}, embedsso.ErrTicketInvalid},
		{"a resume of a sign-in that has ended", func(t *testing.T, f *fixture, checkURL, ticket string) *http.Response {
			// Past the gate: the user signed out elsewhere.
			require.NoError(t, f.store.RevokeUserSessions(context.Background(), "org_abc123", f.store.Users()[0].ID))
			return f.post(checkURL, resumeForm(ticket), nil).Result()
		}, embedsso.ErrTicketInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, gate, _ := gatedFixture(t)
			_, checkURL, page := f.blockedLogin(t, "")
			ticket := formTicket(t, page.Body.String())
			gate.arm()
			res := tc.send(t, f, checkURL, ticket)
			if tc.want == "" {
				assert.Equal(t, http.StatusOK, res.StatusCode)
			} else {
				assert.Equal(t, tc.want.Status(), res.StatusCode)
			}
			assert.Empty(t, gate.attempted())
		})
	}
}
