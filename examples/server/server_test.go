package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/embedsso/embedsso/signer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// start runs the example on free ports and stops it when the test ends.
func start(t *testing.T, extra ...string) urls {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan urls, 1)
	done := make(chan error, 1)
	args := append([]string{"-addr", "localhost:0", "-customer-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "app.db")}, extra...)
	go func() { done <- run(ctx, args, io.Discard, io.Discard, ready) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	select {
	case u := <-ready:
		return u
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the example did not start")
	}
	return urls{}
}

var noRedirects = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// iframeSrc loads the customer page and returns the app URL its iframe loads.
func iframeSrc(t *testing.T, u urls, query string) string {
	t.Helper()
	src, _ := openPortal(t, u, query)
	return src
}

// openPortal loads the customer page and returns the app URL its iframe
// loads and the portal's session cookie (name=value).
func openPortal(t *testing.T, u urls, query string) (src, portal string) {
	t.Helper()
	res, err := noRedirects.Get(u.customer + "/" + query)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	body, _ := io.ReadAll(res.Body)
	for _, c := range res.Cookies() {
		if c.Name == portalCookie {
			portal = c.Name + "=" + c.Value
		}
	}
	return iframeSrcIn(t, body), portal
}

// iframeSrcIn returns the SSO URL a customer page's script gives the
// frame first: the JavaScript string its getURL returns.
func iframeSrcIn(t *testing.T, page []byte) string {
	t.Helper()
	m := regexp.MustCompile(`let first = ("(?:[^"\\]|\\.)*");`).FindSubmatch(page)
	require.NotNil(t, m, "no first SSO URL on the customer page")
	var src string
	require.NoError(t, json.Unmarshal(m[1], &src), "a JavaScript string as html/template writes it is JSON")
	return src
}

// get sends one request as the browser in the frame would: with the
// customer page as Referer and the session cookie, if any.
func get(t *testing.T, target, referer, cookie string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	require.NoError(t, err)
	if referer != "" {
		req.Header.Set("Referer", referer)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if strings.Contains(target, "/api/me") {
		// An API call, as the app's own script makes it: the guard tells it
		// from a page by these headers.
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Sec-Fetch-Dest", "empty")
	}
	res, err := noRedirects.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// signIn follows the frame's redirects by hand (Go's cookie jar will not
// send a Secure cookie over http, a browser does on localhost) and returns
// the session cookie and the page the frame lands on.
func signIn(t *testing.T, u urls, src string) (cookie string, landing *http.Response, body string) {
	t.Helper()
	cookie, _, landing, body = signInWithHint(t, u, src)
	return cookie, landing, body
}

// signInWithHint is signIn that also returns the organization-hint cookie.
func signInWithHint(t *testing.T, u urls, src string) (cookie, hint string, landing *http.Response, body string) {
	t.Helper()
	return signInAs(t, u, src, u.customer+"/", "")
}

// signInAs is signInWithHint with the first request's Referer and Cookie
// headers given.
func signInAs(t *testing.T, u urls, src, referer, sendCookie string) (cookie, hint string, landing *http.Response, body string) {
	t.Helper()
	res, _ := get(t, src, referer, sendCookie)
	require.Equal(t, http.StatusFound, res.StatusCode)
	token := src[strings.Index(src, "jwt=")+4:]
	assert.NotContains(t, res.Header.Get("Location"), token[:20], "the token must not reach the Location")
	for _, c := range res.Cookies() {
		switch c.Name {
		case "embedsso_session":
			assert.True(t, c.Secure && c.HttpOnly && c.Partitioned && c.SameSite == http.SameSiteNoneMode && c.Path == "/", "%+v", c)
			cookie = c.Name + "=" + c.Value
		case "embedsso_session_org":
			hint = c.Name + "=" + c.Value
		}
	}
	require.NotEmpty(t, cookie, "no session cookie")
	require.NotEmpty(t, hint, "no organization hint")
	for range 5 {
		next, err := res.Location() // relative to the request's URL, as a browser reads it
		require.NoError(t, err)
		require.Equal(t, u.app, next.Scheme+"://"+next.Host, "the frame stays on the app")
		res, body = get(t, next.String(), "", cookie)
		if res.StatusCode != http.StatusFound {
			return cookie, hint, res, body
		}
	}
	t.Fatal("too many redirects")
	return
}

func TestTheFrameSignsInAndStaysSignedIn(t *testing.T) {
	t.Parallel()
	u := start(t)
	src := iframeSrc(t, u, "?email=Ann@Example.com&firstName=Ann&lastName=Lee&role=ADMIN")
	require.True(t, strings.HasPrefix(src, u.app+"/api/sso/jwt?jwt="), src)

	cookie, landing, body := signIn(t, u, src)
	assert.Equal(t, http.StatusOK, landing.StatusCode)
	assert.Equal(t, "/dashboard", landing.Request.URL.Path)
	assert.Contains(t, body, "Signed in as <strong>Ann Lee</strong> · ann@example.com · ADMIN · org_demo")
	assert.Equal(t, "frame-ancestors 'self' "+u.customer, landing.Header.Get("Content-Security-Policy"))
	assert.Equal(t, "no-referrer", landing.Header.Get("Referrer-Policy"))

	res, body := get(t, u.app+"/reports", "", cookie)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "ann@example.com", "a second page stays signed in")

	res, body = get(t, u.app+"/api/me", "", cookie)
	require.Equal(t, http.StatusOK, res.StatusCode)
	var me map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &me))
	assert.Equal(t, "ann@example.com", me["email"])
	assert.Equal(t, "ADMIN", me["role"])
	assert.Equal(t, "org_demo", me["orgId"])
	assert.NotEmpty(t, me["id"])
	assert.Equal(t, map[string]any{"region": "eu-west"}, me["attributes"], "the demo user's default attribute")
	assert.Equal(t, []any{"analysts"}, me["groups"])
}

func TestAttributesAndGroupsArriveAndAreReplaced(t *testing.T) {
	t.Parallel()
	u := start(t)
	cookie, _, body := signIn(t, u, iframeSrc(t, u, "?region=us-east&groups=finance,analysts"))
	assert.Contains(t, body, "<code>region=us-east</code>")
	assert.Contains(t, body, "<code>analysts</code> <code>finance</code>")
	_, me := get(t, u.app+"/api/me", "", cookie)
	assert.Contains(t, me, `"attributes":{"region":"us-east"}`)
	assert.Contains(t, me, `"groups":["analysts","finance"]`)

	// The next sign-in without them removes them.
	cookie, _, body = signIn(t, u, iframeSrc(t, u, "?region=&groups="))
	assert.Contains(t, body, "Attributes: none")
	_, me = get(t, u.app+"/api/me", "", cookie)
	assert.Contains(t, me, `"attributes":null`)
	assert.Contains(t, me, `"groups":null`)
}

func TestItPrintsWhatToOpen(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var out strings.Builder
	ready := make(chan urls, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "localhost:0", "-customer-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "app.db")}, &out, io.Discard, ready)
	}()
	u := <-ready // run prints before it signals ready
	banner := out.String()
	cancel()
	require.NoError(t, <-done)
	assert.Contains(t, banner, "open the customer page:  "+u.customer+"/")
	assert.Contains(t, banner, "demo org id:             org_demo")
	assert.Regexp(t, `demo org secret:         [A-Za-z0-9_-]{43}\n`, banner)
	assert.Contains(t, banner, "storage:                 SQLite file ")
	assert.Contains(t, banner, "organizations:           org_demo (the demo organization, with a new secret); the storage keeps these only\n")
	assert.Contains(t, banner, "removed from storage:    none\n")
}

func TestSignedOutVisitorsAreToldSo(t *testing.T) {
	t.Parallel()
	u := start(t)
	res, body := get(t, u.app+"/api/me", "", "")
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.JSONEq(t, `{"error":{"code":"session_not_found","message":"You are not signed in."}}`, body)
	res, body = get(t, u.app+"/dashboard", "", "")
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Contains(t, body, "<h1>You are not signed in</h1>", "this browser never signed in: nothing ended")
	assert.NotContains(t, body, "postMessage", "no organization hint, so no one to tell")
}

func TestTheAppRefusesBadFrames(t *testing.T) {
	t.Parallel()
	u := start(t)
	cases := []struct {
		name, query, referer string
		status               int
		code                 string
	}{
		{"another site's page is refused", "", "https://evil.example/", http.StatusForbidden, "origin_not_allowed"},
		{"an expired token is refused", "?ttl=-1h", u.customer + "/", http.StatusUnauthorized, "token_expired"},
		{"a role the org lacks is refused", "?role=OWNER", u.customer + "/", http.StatusBadRequest, "role_not_allowed"},
	}
	for _, tc := range cases {
		src := iframeSrc(t, u, tc.query)
		res, body := get(t, src, tc.referer, "")
		assert.Equal(t, tc.status, res.StatusCode, tc.name)
		assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"), tc.name)
		assert.Contains(t, body, "code: "+tc.code, tc.name)
		assert.Empty(t, res.Cookies(), tc.name)
	}
}

func TestOrgsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	secret := signer.GenerateSecret()

	t.Run("a valid file drives the whole flow", func(t *testing.T) {
		// Any origin: the customer site's port is not known before it binds.
		good := write("good.json", `[{"id":"org_abc123","embeddingEnabled":true,"jwtSecrets":["`+secret+`"],
			"allowedOrigins":[],"allowedRoles":["ADMIN","MEMBER","VIEWER"]}]`)
		u := start(t, "-orgs", good)
		_, landing, body := signIn(t, u, iframeSrc(t, u, ""))
		assert.Equal(t, http.StatusOK, landing.StatusCode)
		assert.Contains(t, body, "org_abc123")
	})

	for name, content := range map[string]string{
		"not JSON":              `[{"id":`,
		"an unknown field":      `[{"id":"o","jwtSecrets":["` + secret + `"],"jwtSecret":"x"}]`,
		"no organizations":      `[]`,
		"an org without id":     `[{"jwtSecrets":["` + secret + `"]}]`,
		"an org without secret": `[{"id":"o"}]`,
		"trailing data":         `[{"id":"o","jwtSecrets":["` + secret + `"]}] []`,
	} {
		t.Run(name+" is a usage error", func(t *testing.T) {
			err := run(context.Background(), []string{"-addr", "localhost:0", "-customer-addr", "127.0.0.1:0", "-db", filepath.Join(dir, "x.db"), "-orgs", write(strings.ReplaceAll(name, " ", "_")+".json", content)}, io.Discard, io.Discard, nil)
			assert.True(t, errors.As(err, new(usageError)), "%v", err)
		})
	}
	t.Run("a missing file is a usage error", func(t *testing.T) {
		err := run(context.Background(), []string{"-addr", "localhost:0", "-customer-addr", "127.0.0.1:0", "-db", filepath.Join(dir, "x.db"), "-orgs", filepath.Join(dir, "nope.json")}, io.Discard, io.Discard, nil)
		assert.True(t, errors.As(err, new(usageError)), "%v", err)
	})
}

func TestFlags(t *testing.T) {
	t.Parallel()
	_, err := parseFlags([]string{"-nope"}, io.Discard)
	assert.True(t, errors.As(err, new(usageError)))
	_, err = parseFlags([]string{"extra"}, io.Discard)
	assert.True(t, errors.As(err, new(usageError)))
	o, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, options{addr: "localhost:8080", customerAddr: "127.0.0.1:8081", timeouts: defaultTimeouts}, o)
}

// With the default SQLite storage, users and sessions survive a restart.
func TestSessionsSurviveARestart(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "app.db")
	runOnce := func(body func(u urls)) {
		ctx, cancel := context.WithCancel(context.Background())
		ready, done := make(chan urls, 1), make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"-addr", "localhost:0", "-customer-addr", "127.0.0.1:0", "-db", db}, io.Discard, io.Discard, ready)
		}()
		body(<-ready)
		cancel()
		require.NoError(t, <-done)
	}
	var cookie string
	runOnce(func(u urls) { cookie, _, _ = signIn(t, u, iframeSrc(t, u, "")) })
	runOnce(func(u urls) {
		res, body := get(t, u.app+"/api/me", "", cookie)
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Contains(t, body, "jane@example.com")
	})
}
