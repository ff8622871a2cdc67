package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/signer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runOn runs the example once on db with extra flags, calls body while it
// serves, and returns its banner.
func runOn(t *testing.T, db string, extra []string, body func(u urls)) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out strings.Builder
	ready, done := make(chan urls, 1), make(chan error, 1)
	args := append([]string{"-addr", "localhost:0", "-customer-addr", "127.0.0.1:0", "-db", db}, extra...)
	go func() { done <- run(ctx, args, &out, &out, ready) }()
	select {
	case u := <-ready:
		body(u)
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	cancel()
	require.NoError(t, <-done)
	return out.String()
}

// -orgs FILE replaces the organizations an earlier run stored in the same
// database: the earlier demo organization's secret no longer signs anyone
// in, its users' sessions end, and the banner says what was removed.
func TestOrgsOfAnEarlierRunAreRemoved(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	file := filepath.Join(dir, "orgs.json")
	require.NoError(t, os.WriteFile(file, []byte(`[{"id":"org_abc123","embeddingEnabled":true,
		"jwtSecrets":["`+signer.GenerateSecret()+`"],"allowedRoles":["MEMBER"]}]`), 0o600))

	var demoCookie, demoOrigin string
	banner := runOn(t, db, nil, func(u urls) {
		demoCookie, _, _ = signIn(t, u, iframeSrc(t, u, ""))
		demoOrigin = u.customer // the demo org's allowed origin
	})
	m := regexp.MustCompile(`demo org secret: +(\S+)\n`).FindStringSubmatch(banner)
	require.NotNil(t, m, banner)
	demoSecret := m[1]

	banner = runOn(t, db, []string{"-orgs", file}, func(u urls) {
		token, err := signer.Signer{Secret: demoSecret}.Sign(embedsso.Claims{
			OrgID: "org_demo", Email: "jane@example.com", Role: "MEMBER"})
		require.NoError(t, err)
		// From the page the demo org allows: only the org's absence refuses it.
		res, body := get(t, u.app+"/api/sso/jwt?jwt="+url.QueryEscape(token), demoOrigin+"/", "")
		assert.Equal(t, http.StatusNotFound, res.StatusCode, "a token of the earlier run's demo org signs in")
		assert.Contains(t, body, "code: org_not_found")
		assert.Empty(t, res.Cookies())

		res, _ = get(t, u.app+"/api/me", "", demoCookie)
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "a session of the earlier demo org's user lives on")

		_, landing, body := signIn(t, u, iframeSrc(t, u, ""))
		assert.Equal(t, http.StatusOK, landing.StatusCode)
		assert.Contains(t, body, "org_abc123", "the file's organization signs in")
	})
	assert.Contains(t, banner, "organizations:           org_abc123 (from "+file+"); the storage keeps these only\n")
	assert.Contains(t, banner, "removed from storage:    org_demo (1 user and their sessions)\n")

	// The same file again: its organization, users and sessions stay.
	var abcCookie string
	runOn(t, db, []string{"-orgs", file}, func(u urls) {
		abcCookie, _, _ = signIn(t, u, iframeSrc(t, u, ""))
	})
	banner = runOn(t, db, []string{"-orgs", file}, func(u urls) {
		res, body := get(t, u.app+"/api/me", "", abcCookie)
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Contains(t, body, `"orgId":"org_abc123"`)
	})
	assert.Contains(t, banner, "removed from storage:    none\n")
}
