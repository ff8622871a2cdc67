package embedsso_test

import (
	"context"
	"net/http"
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

// joiningReads is a session store that returns each session with its
// organization, as one SQL statement joining the two would: the
// organization is read from orgs without going through the handler's
// OrgStore.
type joiningReads struct {
	countingReads
	orgs embedsso.OrgStore
}

func (s *joiningReads) FindSession(ctx context.Context, idHash string, now time.Time) (embedsso.Session, error) {
	sess, err := s.countingReads.FindSession(ctx, idHash, now)
	if err != nil {
		return sess, err
	}
	if o, err := s.orgs.FindOrg(ctx, sess.User.OrgID); err == nil {
		sess.Org = &o
	}
	return sess, nil
}

// countedFixture is a fixture whose OrgStore and cookiesession.Store count their
// reads; with join, the session store returns each session's organization.
func countedFixture(t *testing.T, join bool) (*fixture, *countingOrgs, *countingReads, *fixtureOrgs) {
	t.Helper()
	plain := newFixtureOrgs(t)
	orgs := &countingOrgs{OrgStore: plain}
	var reads *countingReads
	var cookies *cookiesession.Issuer
	var f *fixture
	f = newFixture(t, func(c *embedsso.Config) {
		var store cookiesession.Store
		if join {
			j := &joiningReads{orgs: plain}
			reads, store = &j.countingReads, j
		} else {
			reads = &countingReads{}
			store = reads
		}
		reads.Store = c.Users.(*memstore.Store) // the fixture's store
		var err error
		cookies, err = cookiesession.New(cookiesession.Config{Store: store, Now: func() time.Time { return f.now }})
		require.NoError(t, err)
		c.Orgs, c.Sessions = orgs, cookies
	})
	f.cookies = cookies
	return f, orgs, reads, &plain
}

func TestTheGuardReadsTheSessionOnceAndTheOrganizationAtMostOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		join bool
		// setup returns the request's cookies.
		setup                  func(t *testing.T, f *fixture, orgs *fixtureOrgs) []string
		headers                map[string]string
		status                 int
		sessionReads, orgReads int
	}{
		{name: "a signed-in page", setup: signedIn, status: http.StatusOK, sessionReads: 1, orgReads: 1},
		{name: "a signed-in API call", setup: signedIn, headers: map[string]string{"Accept": "application/json"},
			status: http.StatusOK, sessionReads: 1, orgReads: 1},
		{name: "a signed-in page whose session came with its organization", join: true, setup: signedIn,
			status: http.StatusOK, sessionReads: 1, orgReads: 0},
		{name: "no cookie at all", setup: func(*testing.T, *fixture, *fixtureOrgs) []string { return nil },
			status: http.StatusUnauthorized, sessionReads: 0, orgReads: 0},
		{name: "an ended session, its organization named by the hint", setup: func(t *testing.T, f *fixture, _ *fixtureOrgs) []string {
			c := signedIn(t, f, nil)
			f.now = f.now.Add(9 * time.Hour)
			return c
		}, status: http.StatusUnauthorized, sessionReads: 1, orgReads: 1},
		{name: "an ended session with a LoginURL", setup: func(t *testing.T, f *fixture, _ *fixtureOrgs) []string {
			session, hint := f.signInto(t, "org_login", secretOpen)
			f.now = f.now.Add(9 * time.Hour)
			return []string{session, hint}
		}, status: http.StatusFound, sessionReads: 1, orgReads: 1},
		{name: "a session whose organization was disabled", setup: disabledAfterSignIn, status: http.StatusUnauthorized, sessionReads: 1, orgReads: 1},
		{name: "a session whose organization, come with it, was disabled", join: true, setup: disabledAfterSignIn,
			status: http.StatusUnauthorized, sessionReads: 1, orgReads: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, orgs, reads, plain := countedFixture(t, tc.join)
			cookies := tc.setup(t, f, plain)
			orgs.mu.Lock()
			orgs.ids = nil
			orgs.mu.Unlock()
			reads.reads.Store(0)

			w := f.visit(f.page(false), "/dashboard", cookies, tc.headers)
			assert.Equal(t, tc.status, w.Code, w.Body.String())
			assert.Equal(t, int64(tc.sessionReads), reads.reads.Load(), "session reads")
			orgs.mu.Lock()
			defer orgs.mu.Unlock()
			assert.Len(t, orgs.ids, tc.orgReads, "organization reads: %v", orgs.ids)
		})
	}
}

func signedIn(t *testing.T, f *fixture, _ *fixtureOrgs) []string {
	session, hint := f.signInto(t, "org_abc123", secretABC)
	return []string{session, hint}
}

func disabledAfterSignIn(t *testing.T, f *fixture, orgs *fixtureOrgs) []string {
	c := signedIn(t, f, orgs)
	off := testOrgs()[0]
	off.EmbeddingEnabled = false
	require.NoError(t, orgs.PutOrg(context.Background(), off))
	return c
}

func TestEveryAnswerOfTheGuardIsNotStoredAndSendsNoReferrer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	session, hint := f.signInto(t, "org_login", secretOpen)
	ended := func(t *testing.T) []string {
		t.Helper()
		_, h := newFixture(t).signInto(t, "org_login", secretOpen)
		return []string{h}
	}
	for name, tc := range map[string]struct {
		cookies []string
		headers map[string]string
		status  int
	}{
		"the app's page":                    {cookies: []string{session, hint}, status: http.StatusOK},
		"the app's API":                     {cookies: []string{session, hint}, headers: map[string]string{"Accept": "application/json"}, status: http.StatusOK},
		"a LoginURL round trip":             {cookies: ended(t), status: http.StatusFound},
		"the session-ended page":            {status: http.StatusUnauthorized},
		"the session-ended JSON":            {headers: map[string]string{"Sec-Fetch-Dest": "empty"}, status: http.StatusUnauthorized},
		"a session of another app instance": {cookies: []string{"embedsso_session=" + strings.Repeat("A", 43)}, status: http.StatusUnauthorized},
	} {
		w := f.visit(f.page(false), "/dashboard", tc.cookies, tc.headers)
		assert.Equal(t, tc.status, w.Code, name)
		assert.Equal(t, "no-store", w.Header().Get("Cache-Control"), name)
		assert.Equal(t, "no-referrer", w.Header().Get("Referrer-Policy"), name)
		assert.NotEmpty(t, w.Header().Get("Content-Security-Policy"), name)
	}
}

func TestTheGuardPutsTheSessionUserAndOrganizationInTheContext(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	session, _ := f.signInto(t, "org_abc123", secretABC)
	var (
		s      embedsso.Session
		u      embedsso.User
		o      embedsso.Org
		okS    bool
		okU    bool
		okO    bool
		script string
	)
	f.visit(f.h.RequireUser(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		s, okS = embedsso.SessionFromContext(r.Context())
		u, okU = embedsso.UserFromContext(r.Context())
		o, okO = embedsso.OrgFromContext(r.Context())
		script = string(embedsso.SignedInScript(r.Context()))
	})), "/dashboard", []string{session}, nil)
	require.True(t, okS && okU && okO)
	assert.Equal(t, "jane@example.com", u.Email)
	assert.Equal(t, u, s.User)
	require.NotNil(t, s.Org, "the session carries its organization")
	assert.Equal(t, "org_abc123", s.Org.ID)
	assert.Equal(t, *s.Org, o)
	assert.Contains(t, script, `"orgId":"org_abc123"`)

	ctx := httptest.NewRequest("GET", "/", nil).Context()
	_, okS = embedsso.SessionFromContext(ctx)
	_, okU = embedsso.UserFromContext(ctx)
	_, okO = embedsso.OrgFromContext(ctx)
	assert.False(t, okS || okU || okO, "nothing outside the guard")
}

func TestASessionStoreThatReturnsAnotherOrganizationIsAFailure(t *testing.T) {
	t.Parallel()
	f, _, _, plain := countedFixture(t, true)
	session, _ := f.signInto(t, "org_abc123", secretABC)
	// A join gone wrong: the store answers with another organization.
	other, err := plain.FindOrg(context.Background(), "org_open")
	require.NoError(t, err)
	wrong := &wrongOrg{SessionIssuer: f.cookies, org: other}
	h, err := embedsso.New(embedsso.Config{Orgs: plain, Users: f.store, Sessions: wrong})
	require.NoError(t, err)
	w := f.visit(h.RequireUser(http.NotFoundHandler()), "/dashboard", []string{session}, nil)
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Contains(t, w.Body.String(), "code: internal")
}

// wrongOrg is an issuer whose sessions come with the wrong organization.
type wrongOrg struct {
	embedsso.SessionIssuer
	org embedsso.Org
}

func (i *wrongOrg) Session(w http.ResponseWriter, r *http.Request) (embedsso.Session, error) {
	s, err := i.SessionIssuer.Session(w, r)
	s.Org = &i.org
	return s, err
}

// The handler uses its issuer through SessionIssuer alone: with the cookie
// sessions behind a value of another type, every step still works.
func TestEveryFeatureGoesThroughTheSessionIssuerInterface(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *embedsso.Config) { c.Sessions = struct{ embedsso.SessionIssuer }{c.Sessions} })

	// The cookie check, blocked, then the resume and a check that passes.
	_, checkURL, page := f.blockedLogin(t, "")
	again := f.post(checkURL, resumeForm(formTicket(t, page.Body.String())), nil)
	require.Equal(t, http.StatusSeeOther, again.Code, again.Body.String())
	session := cookiePair(sessionCookie(again))
	final := f.get(resolve(checkURL, again.Header().Get("Location")), map[string]string{"Cookie": session})
	require.Equal(t, http.StatusFound, final.Code, final.Body.String())
	assert.Equal(t, "/dashboard", final.Header().Get("Location"))

	// The guard.
	w := f.visit(f.page(false), "/dashboard", []string{session}, nil)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "hello jane@example.com", w.Body.String())

	// The LoginURL round trip after the session ended.
	ended, hint := f.signInto(t, "org_login", secretOpen)
	f.now = f.now.Add(9 * time.Hour)
	trip := f.visit(f.page(false), "/reports", []string{ended, hint}, nil)
	require.Equal(t, http.StatusFound, trip.Code)
	assert.True(t, strings.HasPrefix(trip.Header().Get("Location"), customerSite+"/sso/embed-login?"), trip.Header().Get("Location"))
}
