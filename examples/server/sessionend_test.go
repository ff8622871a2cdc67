package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/embedsso/embedsso/signer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// When a session ends inside the frame: the demo org's LoginURL (the
// customer site's embed-login endpoint), the portal page's embed-token
// endpoint for orgs without one, and renew=fail, which breaks both.

// endSession signs the frame out through the app's Sign out button, which
// revokes the session and leaves the organization hint, as an expired or
// purged session does.
func endSession(t *testing.T, u urls, session string) {
	t.Helper()
	res := postLogout(t, u, session, map[string]string{"Sec-Fetch-Site": "same-origin"})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	me, _ := get(t, u.app+"/api/me", "", session)
	require.Equal(t, http.StatusUnauthorized, me.StatusCode, "the session has ended")
}

// newerHint returns the hint res sets, or hint when it sets none.
func newerHint(res *http.Response, hint string) string {
	for _, c := range res.Cookies() {
		if c.Name == "embedsso_session_org" {
			return c.Name + "=" + c.Value
		}
	}
	return hint
}

func TestAnEndedSessionComesBackThroughTheLoginURLToTheSamePage(t *testing.T) {
	t.Parallel()
	u := start(t)
	src, portal := openPortal(t, u, "?email=ann@example.com&firstName=Ann&lastName=Lee")
	require.NotEmpty(t, portal, "the portal signs its user in with a cookie")
	session, hint, landing, _ := signInWithHint(t, u, src)
	require.Equal(t, http.StatusOK, landing.StatusCode)
	endSession(t, u, session)

	// The app sends the frame to the customer's LoginURL with this page.
	res0, _ := get(t, u.app+"/reports?tab=monthly", "", session+"; "+hint)
	require.Equal(t, http.StatusFound, res0.StatusCode)
	// Its return_to ends with the round trip's nonce, which the login that
	// comes back must carry.
	assert.Regexp(t, `^`+regexp.QuoteMeta(u.customer+"/sso/embed-login?return_to=%2Freports%3Ftab%3Dmonthly%23sso_trip%3D")+`[A-Za-z0-9_-]{22}$`, res0.Header.Get("Location"))
	returnTo, err := url.Parse(res0.Header.Get("Location"))
	require.NoError(t, err)

	// The customer's endpoint mints a token for its signed-in user and
	// sends the frame to the SSO endpoint with that return_to.
	res, _ := get(t, res0.Header.Get("Location"), "", portal)
	require.Equal(t, http.StatusFound, res.StatusCode)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	assert.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"), "its Location carries a token")
	sso, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, u.app+"/api/sso/jwt", sso.Scheme+"://"+sso.Host+sso.Path)
	assert.NotEmpty(t, sso.Query().Get("jwt"))
	assert.Equal(t, returnTo.Query().Get("return_to"), sso.Query().Get("return_to"), "the return_to it was given")

	// The user lands on the same page, signed in. As in a browser, this
	// login names no site (the frame's navigation began at the app's page):
	// the organization hint, which records the trip, vouches for it.
	session, _, landing, body := signInAs(t, u, sso.String(), "", newerHint(res0, hint))
	assert.Equal(t, http.StatusOK, landing.StatusCode)
	assert.Equal(t, "/reports?tab=monthly", landing.Request.URL.RequestURI())
	assert.Contains(t, body, `Showing <strong id="tab">monthly</strong>`)
	assert.Contains(t, body, "Signed in as <strong>Ann Lee</strong> · ann@example.com")
	assert.Contains(t, body, `"type":"embedsso:signed-in"`, "the page tells the customer's page")
	me, _ := get(t, u.app+"/api/me", "", session)
	assert.Equal(t, http.StatusOK, me.StatusCode)
}

func TestWithoutALoginURLThePortalPageRenewsTheFrame(t *testing.T) {
	t.Parallel()
	u := start(t, "-no-login-url")
	src, portal := openPortal(t, u, "")
	session, hint, _, _ := signInWithHint(t, u, src)
	endSession(t, u, session)

	// The frame gets a page that tells the customer's page, and only it.
	res, body := get(t, u.app+"/reports?tab=monthly", "", session+"; "+hint)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Empty(t, res.Header.Get("Location"))
	assert.Equal(t, "frame-ancestors 'self' "+u.customer, res.Header.Get("Content-Security-Policy"))
	assert.Contains(t, body, "Your session has ended")
	targets, err := json.Marshal([]string{u.customer})
	require.NoError(t, err)
	assert.Contains(t, body, "var targets = "+string(targets))
	assert.Contains(t, body, `{"orgId":"org_demo","returnTo":"/reports?tab=monthly","type":"embedsso:session-expired"}`)

	// The portal page's script asks its server for a fresh SSO URL.
	res, body = get(t, u.customer+"/embed-token?returnTo="+url.QueryEscape("/reports?tab=monthly"), "", portal)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	var answer struct{ URL string }
	require.NoError(t, json.Unmarshal([]byte(body), &answer))
	require.True(t, strings.HasPrefix(answer.URL, u.app+"/api/sso/jwt?jwt="), answer.URL)

	_, _, landing, body := signInWithHint(t, u, answer.URL)
	assert.Equal(t, http.StatusOK, landing.StatusCode)
	assert.Equal(t, "/reports?tab=monthly", landing.Request.URL.RequestURI())
	assert.Contains(t, body, "Signed in as <strong>Jane Doe</strong>")
}

func TestAPortalThatCannotRenewStopsTheFrameAfterTwoBounces(t *testing.T) {
	t.Parallel()
	u := start(t)
	src, portal := openPortal(t, u, "?renew=fail")
	session, hint, landing, _ := signInWithHint(t, u, src)
	require.Equal(t, http.StatusOK, landing.StatusCode, "renew=fail leaves the first token alone")
	endSession(t, u, session)

	// The broken endpoint sends the frame straight back, with no token.
	var pages []string
	for range 3 {
		res, body := get(t, u.app+"/dashboard", "", hint)
		hint = newerHint(res, hint)
		if res.StatusCode != http.StatusFound {
			pages = append(pages, body)
			break
		}
		require.Regexp(t, `^`+regexp.QuoteMeta(u.customer+"/sso/embed-login?return_to=%2Fdashboard%23sso_trip%3D"), res.Header.Get("Location"))
		res, _ = get(t, res.Header.Get("Location"), "", portal)
		require.Equal(t, http.StatusFound, res.StatusCode)
		require.Regexp(t, `^`+regexp.QuoteMeta(u.app+"/dashboard#sso_trip="), res.Header.Get("Location"), "the fragment stays in the browser")
		pages = append(pages, "bounce")
	}
	require.Len(t, pages, 3)
	assert.Equal(t, []string{"bounce", "bounce"}, pages[:2])
	assert.Contains(t, pages[2], "We tried to sign you in again automatically, but it did not work")

	res, body := get(t, u.customer+"/embed-token?returnTo=%2Fdashboard", "", portal)
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.JSONEq(t, `{"error":"the portal cannot mint a token now (renew=fail)"}`, body)
}

func TestThePortalsEndpointsRefuse(t *testing.T) {
	t.Parallel()
	u := start(t)
	_, broken := openPortal(t, u, "?renew=fail")
	cases := []struct {
		name, path, cookie string
		status             int
		location           string
	}{
		{"embed-login without a portal session is refused", "/sso/embed-login?return_to=%2Fdashboard", "", http.StatusUnauthorized, ""},
		{"embed-login with an unknown portal session is refused", "/sso/embed-login?return_to=%2Fdashboard", portalCookie + "=nope", http.StatusUnauthorized, ""},
		{"embed-token without a portal session is refused", "/embed-token?returnTo=%2Fdashboard", "", http.StatusUnauthorized, ""},
		{"the broken embed-login does not send the frame to another site", "/sso/embed-login?return_to=%2F%2Fevil.example%2Fx", broken, http.StatusFound, u.app + "/"},
		{"the broken embed-login does not follow an absolute URL", "/sso/embed-login?return_to=https%3A%2F%2Fevil.example%2F", broken, http.StatusFound, u.app + "/"},
		{"the broken embed-login does not follow a backslash", "/sso/embed-login?return_to=%2F%5Cevil.example", broken, http.StatusFound, u.app + "/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := get(t, u.customer+tc.path, "", tc.cookie)
			assert.Equal(t, tc.status, res.StatusCode, body)
			assert.Equal(t, tc.location, res.Header.Get("Location"))
			assert.NotContains(t, body, "jwt=")
			if strings.HasPrefix(tc.path, "/embed-token") {
				assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
				assert.JSONEq(t, `{"error":"not signed in to the portal"}`, body)
			}
		})
	}
}

func TestSessionMaxIsTheSessionsLifetime(t *testing.T) {
	t.Parallel()
	u := start(t, "-session-max", "90s")
	res, _ := get(t, iframeSrc(t, u, ""), u.customer+"/", "")
	require.Equal(t, http.StatusFound, res.StatusCode)
	var maxAge int
	for _, c := range res.Cookies() {
		if c.Name == "embedsso_session" {
			maxAge = c.MaxAge
		}
	}
	assert.Equal(t, 90, maxAge)
}

func TestTheBannerNamesTheLoginURLAndTheSessionLifetime(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		args       []string
		login, max string
	}{
		"the demo org's LoginURL is the customer site's embed-login": {nil, "CUSTOMER/sso/embed-login",
			"end 8h0m0s (the default) after sign-in, or when unused for 30m0s (the default) (-session-max, -session-idle)"},
		"-no-login-url leaves the demo org without one": {[]string{"-no-login-url", "-session-max", "5s", "-session-idle", "2s"}, "none (an ended session tells the customer's page)",
			"end 5s after sign-in, or when unused for 2s (-session-max, -session-idle)"},
		"a negative -session-idle is no idle limit": {[]string{"-session-idle", "-1s"}, "CUSTOMER/sso/embed-login",
			"end 8h0m0s (the default) after sign-in, or when unused for no limit (-session-max, -session-idle)"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			var out strings.Builder
			ready, done := make(chan urls, 1), make(chan error, 1)
			args := append([]string{"-addr", "localhost:0", "-customer-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "app.db")}, tc.args...)
			go func() { done <- run(ctx, args, &out, io.Discard, ready) }()
			u := <-ready // run prints before it signals ready
			banner := out.String()
			cancel()
			require.NoError(t, <-done)
			assert.Contains(t, banner, "demo org login URL:      "+strings.ReplaceAll(tc.login, "CUSTOMER", u.customer)+"\n")
			assert.Contains(t, banner, "sessions:                "+tc.max+"\n")
		})
	}
}

func TestSessionFlags(t *testing.T) {
	t.Parallel()
	o, err := parseFlags([]string{"-session-max", "30s", "-session-idle", "10s", "-no-login-url"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "30s", o.sessionMax.String())
	assert.Equal(t, "10s", o.sessionIdle.String())
	assert.True(t, o.noLoginURL)
	for name, args := range map[string][]string{
		"a negative -session-max":    {"-session-max", "-1s"},
		"a -session-max not a time":  {"-session-max", "soon"},
		"a -session-idle not a time": {"-session-idle", "soon"},
		"-no-login-url with -orgs":   {"-no-login-url", "-orgs", "orgs.json"},
	} {
		_, err := parseFlags(args, io.Discard)
		assert.True(t, errors.As(err, new(usageError)), "%s: %v", name, err)
	}
}

func TestTheOrgsFileCarriesALoginURL(t *testing.T) {
	t.Parallel()
	orgs, err := parseOrgs([]byte(`[{"id":"org_a","embeddingEnabled":true,"jwtSecrets":["` + signer.GenerateSecret() + `"],
		"allowedOrigins":["https://portal.a.example"],"loginUrl":"https://portal.a.example/sso/embed-login"}]`))
	require.NoError(t, err)
	assert.Equal(t, "https://portal.a.example/sso/embed-login", orgs[0].LoginURL)

	_, err = parseOrgs([]byte(`[{"id":"org_a","embeddingEnabled":true,"jwtSecrets":["` + signer.GenerateSecret() + `"],
		"allowedOrigins":["https://portal.a.example"],"loginUrl":"https://evil.example/sso"}]`))
	assert.ErrorContains(t, err, "not on the organization's allowed origins", "a loginUrl off the allow-list stops startup")
}

func TestThePortalsCookie(t *testing.T) {
	t.Parallel()
	u := start(t)
	for query, sameSite := range map[string]http.SameSite{"": http.SameSiteNoneMode, "?samesite=lax": http.SameSiteLaxMode} {
		res, err := noRedirects.Get(u.customer + "/" + query)
		require.NoError(t, err)
		res.Body.Close()
		var found bool
		for _, c := range res.Cookies() {
			if c.Name == portalCookie {
				found = true
				assert.Equal(t, sameSite, c.SameSite, "portal page %q", query)
				assert.True(t, c.Secure && c.HttpOnly && c.Path == "/", "%+v", c)
			}
		}
		assert.True(t, found, "portal page %q sets the portal's cookie", query)
	}
}

// -session-idle reaches the sessions: a session unused for that long ends,
// although -session-max is far off.
func TestSessionIdleEndsAnUnusedSession(t *testing.T) {
	t.Parallel()
	const idle = 3 * time.Second
	u := start(t, "-session-idle", idle.String(), "-session-max", "1h")
	session, _, landing, _ := signInWithHint(t, u, iframeSrc(t, u, ""))
	require.Equal(t, http.StatusOK, landing.StatusCode)
	time.Sleep(idle + 500*time.Millisecond)
	me, _ := get(t, u.app+"/api/me", "", session)
	assert.Equal(t, http.StatusUnauthorized, me.StatusCode)
}

// Sign out leads to a page that stays: a page behind RequireUser would send
// the frame through the LoginURL, which signs the user straight back in.
func TestSignOutLeadsToAPageThatStays(t *testing.T) {
	t.Parallel()
	u := start(t)
	session, hint, _, _ := signInWithHint(t, u, iframeSrc(t, u, ""))
	res := postLogout(t, u, session, map[string]string{"Sec-Fetch-Site": "same-origin"})
	require.Equal(t, "/signed-out", res.Header.Get("Location"))
	res, body := get(t, u.app+"/signed-out", "", session+"; "+hint)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "You signed out")
	res, _ = get(t, u.app+"/dashboard", "", session+"; "+hint)
	assert.Equal(t, http.StatusFound, res.StatusCode, "where the dashboard would have sent it")
	assert.True(t, strings.HasPrefix(res.Header.Get("Location"), u.customer+"/sso/embed-login?"))
}
