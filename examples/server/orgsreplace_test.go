package main

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/embedsso/embedsso/orgapi"
	"github.com/embedsso/embedsso/signer"
	"github.com/embedsso/embedsso/sqlstore"
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
		token, err := signer.Signer{Secret: demoSecret}.Sign(signer.Claims{
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

// A scoped API key does not outlive its organization: the start that
// deletes an organization of an earlier run takes it out of every key's
// scope and deletes a key left with none, so a key made for that id does
// not reach the organization created with it later. Admin keys stay.
func TestScopedKeysLoseTheOrganizationsARestartDeletes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "app.db")
	create := func(u urls, admin, id string) int {
		req, err := http.NewRequest(http.MethodPost, u.app+"/api/public/organizations", strings.NewReader(`{"id":"`+id+`","name":"X"}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	var onlyX, xAndDemo, otherAdmin string
	runOnBanner(t, db, func(u urls, banner string) {
		admin := bannerKey.FindStringSubmatch(banner)[1]
		require.Equal(t, http.StatusCreated, create(u, admin, "org_x"))
		store := openTestStore(t, db)
		for _, k := range []struct {
			key   *string
			scope orgapi.KeyScope
		}{
			{&onlyX, orgapi.KeyScope{OrgIDs: []string{"org_x"}}},
			{&xAndDemo, orgapi.KeyScope{OrgIDs: []string{"org_x", "org_demo"}}},
			{&otherAdmin, orgapi.KeyScope{Admin: true}},
		} {
			key, rec, err := orgapi.NewKey("test", k.scope, time.Now())
			require.NoError(t, err)
			require.NoError(t, store.CreateAPIKey(ctx, rec))
			*k.key = key
		}
		status, _ := apiGet(t, u.app, "/api/public/organizations/org_x", onlyX)
		require.Equal(t, http.StatusOK, status)
	})
	runOnBanner(t, db, func(u urls, banner string) {
		assert.Contains(t, banner, "org_x (0 users and their sessions)", "the restart deleted org_x")
		admin := bannerKey.FindStringSubmatch(banner)[1]
		require.Equal(t, http.StatusCreated, create(u, admin, "org_x"), "someone creates org_x again")
		status, _ := apiGet(t, u.app, "/api/public/organizations/org_x", onlyX)
		assert.Equal(t, http.StatusUnauthorized, status, "the key for the deleted org_x was deleted")
		status, _ = apiGet(t, u.app, "/api/public/organizations/org_x", xAndDemo)
		assert.Equal(t, http.StatusNotFound, status, "a key for two organizations loses the deleted one")
		status, _ = apiGet(t, u.app, "/api/public/organizations/org_demo", xAndDemo)
		assert.Equal(t, http.StatusOK, status, "and keeps the other")
		status, _ = apiGet(t, u.app, "/api/public/organizations/org_x", otherAdmin)
		assert.Equal(t, http.StatusOK, status, "an admin key stays")
	})
}

// openTestStore is a store of the test's own over the example's SQLite file.
func openTestStore(t *testing.T, path string) *sqlstore.Store {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return sqlstore.New(db)
}
