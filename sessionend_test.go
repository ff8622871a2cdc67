package embedsso_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// page is an app page behind RequireUser that names its user.
func (f *fixture) page(api bool) http.Handler {
	show := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := embedsso.UserFromContext(r.Context())
		fmt.Fprint(w, "hello ", u.Email)
	})
	guarded := f.h.RequireUser(show)
	if api {
		// As a fetch from the app's script asks.
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Set("Accept", "application/json")
			guarded.ServeHTTP(w, r)
		})
	}
	return guarded
}

// visit requests target from the page handler with the given cookies.
func (f *fixture) visit(h http.Handler, target string, cookies []string, headers map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Header.Set("Sec-Fetch-Dest", "iframe")
	for _, c := range cookies {
		r.Header.Add("Cookie", c)
	}
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// cookieNamed returns the name=value pair of the Set-Cookie line named name.
func cookieNamed(w *httptest.ResponseRecorder, name string) string {
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c.Name + "=" + c.Value
		}
	}
	return ""
}

// signInto signs a user of orgID in and returns its session and hint cookies.
func (f *fixture) signInto(t *testing.T, orgID, secret string) (session, hint string) {
	t.Helper()
	w := f.get(loginURL(rawToken(hs256, with(f.claims(), "orgId", orgID, "role", "MEMBER"), secret)), nil)
	require.Equal(t, http.StatusFound, w.Code, w.Body.String())
	return cookieNamed(w, "embedsso_session"), cookieNamed(w, "embedsso_session_org")
}

func TestEverySignInLeavesAnOrganizationHint(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	w := f.get(loginURL(rawToken(hs256, f.claims(), secretABC)), nil)
	require.Equal(t, http.StatusFound, w.Code)
	var line string
	for _, l := range w.Result().Header.Values("Set-Cookie") {
		if strings.HasPrefix(l, "embedsso_session_org=") {
			line = l
		}
	}
	require.NotEmpty(t, line)
	for _, attr := range []string{"Path=/", "Max-Age=2592000", "HttpOnly", "Secure", "SameSite=None", "Partitioned"} {
		assert.Contains(t, line, attr)
	}
}

func TestAPIRoutesAnswer401JSONWithoutASession(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, hint := f.signInto(t, "org_login", secretOpen)
	const body = `{"error":{"code":"session_not_found","message":"You are not signed in."}}` + "\n"
	for name, w := range map[string]*httptest.ResponseRecorder{
		"Accept listing JSON among others": f.visit(f.page(false), "/api/me", []string{hint}, map[string]string{"Accept": "application/json, text/plain, */*"}),
		"Accept: application/json":         f.visit(f.page(false), "/api/me", []string{hint}, map[string]string{"Accept": "application/json"}),
		"a fetch (Sec-Fetch-Dest empty)":   f.visit(f.page(false), "/api/me", []string{hint}, map[string]string{"Sec-Fetch-Dest": "empty"}),
	} {
		assert.Equal(t, http.StatusUnauthorized, w.Code, name)
		assert.Empty(t, w.Header().Get("Location"), name)
		assert.Equal(t, "application/json", w.Header().Get("Content-Type"), name)
		assert.Equal(t, body, w.Body.String(), name)
	}
}

func TestAnEndedSessionComesBackThroughTheLoginURLToTheSamePage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	session, hint := f.signInto(t, "org_login", secretOpen)
	page := f.page(false)
	require.Equal(t, "hello jane@example.com", f.visit(page, "/reports?tab=2", []string{session, hint}, nil).Body.String())

	// The session ends (here: revoked); the next page asks the customer's
	// site for a fresh token, with this page as return_to.
	require.NoError(t, f.store.RevokeUserSessions(context.Background(), "org_login", f.store.Users()[0].ID))
	w := f.visit(page, "/reports?tab=2", []string{session, hint}, nil)
	require.Equal(t, http.StatusFound, w.Code, w.Body.String())
	loc, err := url.Parse(w.Header().Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "https://customer.example/sso/embed-login", loc.Scheme+"://"+loc.Host+loc.Path)
	assert.Equal(t, "chartly", loc.Query().Get("app"), "the LoginURL's own query is kept")
	assert.Regexp(t, `^/reports\?tab=2#sso_trip=[A-Za-z0-9_-]{22}$`, loc.Query().Get("return_to"), "this page, and the trip's nonce")
	assert.Equal(t, embedsso.EventLoginRedirect, f.lastEvent(t).Kind)
	assert.Equal(t, "frame-ancestors 'self' https://customer.example https://*.partner.example", w.Header().Get("Content-Security-Policy"))

	// The customer's endpoint mints a token and sends the frame to the SSO
	// endpoint with that return_to: the user lands on the same page.
	start := loginURL(rawToken(hs256, with(f.claims(), "orgId", "org_login"), secretOpen)) + "&return_to=" + url.QueryEscape(loc.Query().Get("return_to"))
	login := f.get(start, nil)
	require.Equal(t, http.StatusFound, login.Code)
	check := f.get(resolve(start, login.Header().Get("Location")), map[string]string{"Cookie": cookiePair(sessionCookie(login))})
	require.Equal(t, http.StatusFound, check.Code)
	assert.Equal(t, "/reports?tab=2", check.Header().Get("Location"))
	again := f.visit(page, "/reports?tab=2", []string{cookieNamed(login, "embedsso_session"), cookieNamed(login, "embedsso_session_org")}, nil)
	assert.Equal(t, "hello jane@example.com", again.Body.String())
}

func TestAFailingLoginURLStopsAfterTwoBouncesAMinute(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, hint := f.signInto(t, "org_login", secretOpen)
	page := f.page(false)
	// The customer's endpoint fails: it sends the frame straight back with no
	// sign-in. Each bounce carries the updated hint.
	var kinds []embedsso.EventKind
	var last *httptest.ResponseRecorder
	for range 4 {
		last = f.visit(page, "/dashboard", []string{hint}, nil)
		kinds = append(kinds, f.lastEvent(t).Kind)
		if c := cookieNamed(last, "embedsso_session_org"); c != "" {
			hint = c
		}
	}
	assert.Equal(t, []embedsso.EventKind{embedsso.EventLoginRedirect, embedsso.EventLoginRedirect,
		embedsso.EventSessionEnded, embedsso.EventSessionEnded}, kinds)
	assert.Equal(t, http.StatusUnauthorized, last.Code)
	assert.Empty(t, last.Header().Get("Location"))
	assert.Contains(t, last.Body.String(), "We tried to sign you in again automatically, but it did not work")

	f.now = f.now.Add(61 * time.Second)
	assert.Equal(t, http.StatusFound, f.visit(page, "/dashboard", []string{hint}, nil).Code, "a minute later it tries again")
}

// fixedOrgs is an OrgStore that returns what it holds without validating
// it, as a store with old or hand-edited rows might.
type fixedOrgs map[string]embedsso.Org

func (s fixedOrgs) FindOrg(_ context.Context, id string) (embedsso.Org, error) {
	if o, ok := s[id]; ok {
		return o, nil
	}
	return embedsso.Org{}, embedsso.ErrOrgNotFound
}

func TestALoginURLOffTheAllowListIsNeverARedirect(t *testing.T) {
	t.Parallel()
	for _, loginURL := range []string{
		"https://evil.example/phish",
		"javascript:alert(1)",
		"http://customer.example/sso", // not https
		"//customer.example/sso",
		"https://user:pw@customer.example/sso",
		"https://customer.example.evil.example/sso",
	} {
		t.Run(loginURL, func(t *testing.T) {
			t.Parallel()
			org := embedsso.Org{ID: "org_x", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{Value: secretOpen}},
				AllowedOrigins: []string{customerSite}, LoginURL: loginURL}
			f := newFixture(t, func(c *embedsso.Config) { c.Orgs = fixedOrgs{"org_x": org} })
			_, hint := f.signInto(t, "org_x", secretOpen)
			w := f.visit(f.page(false), "/dashboard", []string{hint}, nil)
			assert.Equal(t, http.StatusUnauthorized, w.Code)
			assert.Empty(t, w.Header().Get("Location"))
			assert.Equal(t, embedsso.EventSessionEnded, f.lastEvent(t).Kind)
		})
	}
}

func TestWithoutALoginURLTheFrameTellsItsParent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, hint := f.signInto(t, "org_abc123", secretABC)
	w := f.visit(f.page(false), "/reports?tab=2", []string{hint}, nil)
	require.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
	assert.Equal(t, "frame-ancestors 'self' https://customer.example https://*.partner.example", w.Header().Get("Content-Security-Policy"))
	body := w.Body.String()
	assert.Contains(t, body, "Your session has ended")
	assert.Contains(t, body, `var targets = ["https://customer.example"]`, "each exact allowed origin is a target; a wildcard names none")
	assert.Contains(t, body, `"type":"embedsso:session-expired"`)
	assert.Contains(t, body, `"orgId":"org_abc123"`)
	assert.Contains(t, body, `"returnTo":"/reports?tab=2"`)
	assert.NotContains(t, body, `"*"`, "never the wildcard target")
	assert.Equal(t, embedsso.EventSessionEnded, f.lastEvent(t).Kind)
}

func TestWithoutAHintTheFrameTellsNoOne(t *testing.T) {
	t.Parallel()
	orgs := &countingOrgs{OrgStore: newFixtureOrgs(t)}
	f := newFixture(t, func(c *embedsso.Config) { c.Orgs = orgs })
	for name, cookies := range map[string][]string{
		"no cookie":              nil,
		"a hint with a NUL":      {"embedsso_session_org=1.0.1800000000." + b64("org_abc\x00")},
		"a hint that is garbage": {"embedsso_session_org=<script>"},
	} {
		w := f.visit(f.page(false), "/dashboard", cookies, nil)
		assert.Equal(t, http.StatusUnauthorized, w.Code, name)
		assert.Equal(t, "frame-ancestors 'none'", w.Header().Get("Content-Security-Policy"), name)
		assert.NotContains(t, w.Body.String(), "postMessage", name)
	}
	assert.Empty(t, orgs.ids, "no hint reached the store")
}

func TestReturnToThroughTheLoginURLIsALocalPath(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, hint := f.signInto(t, "org_login", secretOpen)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RequestURI = "//evil.example/x"
	r.Header.Set("Cookie", hint)
	w := httptest.NewRecorder()
	f.page(false).ServeHTTP(w, r)
	require.Equal(t, http.StatusFound, w.Code)
	loc, err := url.Parse(w.Header().Get("Location"))
	require.NoError(t, err)
	assert.Regexp(t, `^/#sso_trip=[A-Za-z0-9_-]{22}$`, loc.Query().Get("return_to"))
}

func TestSignedInScriptPostsToTheOrganizationsSites(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	session, _ := f.signInto(t, "org_abc123", secretABC)
	var script string
	f.h.RequireUser(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		script = string(embedsso.SignedInScript(r.Context()))
	})).ServeHTTP(httptest.NewRecorder(), func() *http.Request {
		r := httptest.NewRequest("GET", "/dashboard", nil)
		r.Header.Set("Cookie", session)
		return r
	}())
	assert.Contains(t, script, `"type":"embedsso:signed-in"`)
	assert.Contains(t, script, `var targets = ["https://customer.example"]`)
	assert.NotContains(t, script, `"*"`)
	assert.Empty(t, embedsso.SignedInScript(httptest.NewRequest("GET", "/dashboard", nil).Context()), "no user, no script")
}

func TestDisablingAnOrganizationEndsItsSessionsAtTheirNextRequest(t *testing.T) {
	t.Parallel()
	orgs := newFixtureOrgs(t)
	f := newFixture(t, func(c *embedsso.Config) { c.Orgs = orgs })
	session, hint := f.signInto(t, "org_abc123", secretABC)
	page := f.page(false)
	ok := f.visit(page, "/dashboard", []string{session, hint}, nil)
	require.Equal(t, http.StatusOK, ok.Code)
	assert.Equal(t, "frame-ancestors 'self' https://customer.example https://*.partner.example", ok.Header().Get("Content-Security-Policy"))

	off := testOrgs()[0]
	off.EmbeddingEnabled = false
	require.NoError(t, orgs.PutOrg(context.Background(), off))
	w := f.visit(page, "/dashboard", []string{session, hint}, nil)
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.NotContains(t, w.Body.String(), "hello")
	assert.Equal(t, "frame-ancestors 'none'", w.Header().Get("Content-Security-Policy"))
	api := f.visit(f.page(true), "/api/me", []string{session, hint}, nil)
	assert.Equal(t, http.StatusUnauthorized, api.Code)
}

func TestAStoreFailureBehindRequireUserIsARefusalThroughTheSpine(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	session, hint := f.signInto(t, "org_abc123", secretABC)
	broken, err := embedsso.New(embedsso.Config{Orgs: failingOrgs{}, Users: f.store, Sessions: f.cookies,
		Observer: func(_ context.Context, e embedsso.Event) { f.mu.Lock(); f.events = append(f.events, e); f.mu.Unlock() }})
	require.NoError(t, err)
	w := f.visit(broken.RequireUser(http.NotFoundHandler()), "/dashboard", []string{session, hint}, nil)
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Contains(t, w.Body.String(), "code: internal")
	assert.NotContains(t, w.Body.String(), "connection refused")
	ev := f.lastEvent(t)
	assert.Equal(t, embedsso.EventRefused, ev.Kind)
	require.NotNil(t, ev.Err)
	assert.Equal(t, "internal", ev.Err.Code)
}
