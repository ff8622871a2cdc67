package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/embedsso/embedsso/orgapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type orgJSON struct {
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	FullEmbedEnabled    bool     `json:"fullEmbedEnabled"`
	EmbedAllowedOrigins []string `json:"embedAllowedOrigins"`
	EmbedAllowedRoles   []string `json:"embedAllowedRoles"`
	EmbedAllowedGroups  []string `json:"embedAllowedGroups"`
	JWTSecret           *string  `json:"jwtSecret"`
	JWTSecrets          []struct {
		KeyID     string     `json:"keyId"`
		ExpiresAt *time.Time `json:"expiresAt"`
	} `json:"jwtSecrets"`
}

func decodeOrg(t *testing.T, r result) orgJSON {
	t.Helper()
	require.Equal(t, 0, r.code, r.stderr)
	var o orgJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &o), r.stdout)
	return o
}

func TestOrgCommands(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "app.db")
	created := decodeOrg(t, embedssoCmd(t, nil, "org", "create", "-db", dbPath, "-id", "org_acme", "-name", "Acme",
		"-enabled", "-origins", "https://portal.acme.example, https://*.acme.example", "-roles", "ADMIN,MEMBER"))
	require.NotNil(t, created.JWTSecret, "create shows the new secret")
	assert.Equal(t, "org_acme", created.ID)
	assert.True(t, created.FullEmbedEnabled)
	assert.Equal(t, []string{"https://portal.acme.example", "https://*.acme.example"}, created.EmbedAllowedOrigins)
	secret := *created.JWTSecret

	t.Run("a token the command mints with the created secret logs in against the database", func(t *testing.T) {
		tok := embedssoCmd(t, map[string]string{secretEnv: secret}, "token", "-org", "org_acme", "-email", "jane@acme.example", "-role", "MEMBER")
		require.Equal(t, 0, tok.code, tok.stderr)
		r := embedssoCmd(t, nil, "inspect", strings.TrimSpace(tok.stdout), "-db", dbPath, "-origin", "https://portal.acme.example")
		assert.Contains(t, r.stdout, "verdict: signs in (302)")
		r = embedssoCmd(t, nil, "inspect", strings.TrimSpace(tok.stdout), "-db", dbPath, "-origin", "https://evil.example")
		assert.Contains(t, r.stdout, "verdict: refused, 403 origin_not_allowed")
		assert.Contains(t, r.stdout, "fix: the page's origin isn't registered")
		r = embedssoCmd(t, nil, "inspect", strings.TrimSpace(tok.stdout), "-db", dbPath)
		assert.Contains(t, r.stdout, "verdict: refused, 403 origin_missing")
		db := openTestDB(t, dbPath)
		var users int
		require.NoError(t, db.db.QueryRow(`SELECT COUNT(*) FROM embedsso_users`).Scan(&users))
		assert.Zero(t, users, "inspect wrote nothing to the database")
	})
	t.Run("get shows the secret only with -secret", func(t *testing.T) {
		r := embedssoCmd(t, nil, "org", "get", "-db", dbPath, "-id", "org_acme")
		assert.Nil(t, decodeOrg(t, r).JWTSecret)
		assert.NotContains(t, r.stdout, secret)
		o := decodeOrg(t, embedssoCmd(t, nil, "org", "get", "-db", dbPath, "-id", "org_acme", "-secret"))
		require.NotNil(t, o.JWTSecret)
		assert.Equal(t, secret, *o.JWTSecret)
	})
	t.Run("update changes only the flags given", func(t *testing.T) {
		o := decodeOrg(t, embedssoCmd(t, nil, "org", "update", "-db", dbPath, "-id", "org_acme", "-name", "Acme Corp", "-groups", "finance,sales"))
		assert.Equal(t, "Acme Corp", o.Name)
		assert.Equal(t, []string{"finance", "sales"}, o.EmbedAllowedGroups)
		assert.True(t, o.FullEmbedEnabled)
		assert.Equal(t, []string{"ADMIN", "MEMBER"}, o.EmbedAllowedRoles)
	})
	t.Run("update refuses what the API refuses, in one line, and writes nothing", func(t *testing.T) {
		r := embedssoCmd(t, nil, "org", "update", "-db", dbPath, "-id", "org_acme", "-origins", "https://a.example/path")
		assert.Equal(t, 1, r.code)
		assert.Equal(t, 1, lines(r.stderr))
		assert.Contains(t, r.stderr, "(invalid_field)")
		o := decodeOrg(t, embedssoCmd(t, nil, "org", "get", "-db", dbPath, "-id", "org_acme"))
		assert.Equal(t, created.EmbedAllowedOrigins, o.EmbedAllowedOrigins)
	})
	t.Run("an unknown id fails in one line", func(t *testing.T) {
		r := embedssoCmd(t, nil, "org", "get", "-db", dbPath, "-id", "org_nope")
		assert.Equal(t, 1, r.code)
		assert.Equal(t, "embedsso org: No organization with this id. (not_found)\n", r.stderr)
	})
	t.Run("rotate prints a new secret; the old one keeps working for -grace", func(t *testing.T) {
		o := decodeOrg(t, embedssoCmd(t, nil, "org", "rotate", "-db", dbPath, "-id", "org_acme", "-grace", "1h"))
		require.NotNil(t, o.JWTSecret)
		assert.NotEqual(t, secret, *o.JWTSecret)
		require.Len(t, o.JWTSecrets, 2)
		require.NotNil(t, o.JWTSecrets[1].ExpiresAt)
		assert.WithinDuration(t, time.Now().Add(time.Hour), *o.JWTSecrets[1].ExpiresAt, time.Minute)
		for _, s := range []string{secret, *o.JWTSecret} {
			tok := embedssoCmd(t, map[string]string{secretEnv: s}, "token", "-org", "org_acme", "-email", "jane@acme.example", "-role", "ADMIN")
			r := embedssoCmd(t, nil, "inspect", strings.TrimSpace(tok.stdout), "-db", dbPath, "-origin", "https://portal.acme.example")
			assert.Contains(t, r.stdout, "verdict: signs in")
		}
	})
	t.Run("update -enabled=false turns embedding off", func(t *testing.T) {
		o := decodeOrg(t, embedssoCmd(t, nil, "org", "update", "-db", dbPath, "-id", "org_acme", "-enabled=false"))
		assert.False(t, o.FullEmbedEnabled)
	})
	t.Run("create refuses a taken id", func(t *testing.T) {
		r := embedssoCmd(t, nil, "org", "create", "-db", dbPath, "-id", "org_acme", "-name", "Again")
		assert.Equal(t, 1, r.code)
		assert.Equal(t, "embedsso org: An organization with this id exists. (org_exists)\n", r.stderr)
	})
}

func TestAPIKeyCommands(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "app.db")
	require.Equal(t, 0, embedssoCmd(t, nil, "org", "create", "-db", dbPath, "-id", "org_acme", "-name", "Acme").code)
	r := embedssoCmd(t, nil, "apikey", "create", "-db", dbPath, "-org", "org_acme", "-name", "back office")
	require.Equal(t, 0, r.code, r.stderr)
	key := strings.SplitN(r.stdout, "\n", 2)[0]
	require.Regexp(t, `^esk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$`, key)
	id := key[4:20]
	assert.Contains(t, r.stdout, "id: "+id)

	// The key works against the organization API over the same database.
	db := openTestDB(t, dbPath)
	api, err := orgapi.New(orgapi.Config{Orgs: db.store, Keys: db.store, Sessions: db.store})
	require.NoError(t, err)
	get := func(path string) int {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
		return w.Code
	}
	assert.Equal(t, http.StatusOK, get("/api/public/organizations/org_acme"))
	assert.Equal(t, http.StatusNotFound, get("/api/public/organizations/org_other"))
	stored, err := db.store.FindAPIKey(context.Background(), id)
	require.NoError(t, err)
	assert.NotContains(t, stored.Hash, key[21:], "only the hash is stored")

	r = embedssoCmd(t, nil, "apikey", "revoke", "-db", dbPath, key)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "revoked "+id+"\n", r.stdout)
	assert.Equal(t, http.StatusUnauthorized, get("/api/public/organizations/org_acme"), "revoked at once")
	r = embedssoCmd(t, nil, "apikey", "revoke", "-db", dbPath, id)
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "embedsso apikey: no key with id \""+id+"\"\n", r.stderr)

	r = embedssoCmd(t, nil, "apikey", "create", "-db", dbPath, "-admin")
	require.Equal(t, 0, r.code, r.stderr)
	admin := strings.SplitN(r.stdout, "\n", 2)[0]
	req := httptest.NewRequest(http.MethodPost, "/api/public/organizations", strings.NewReader(`{"name":"Beta"}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	api.ServeHTTP(w, req)
	assert.Equal(t, http.StatusCreated, w.Code, "an admin key creates organizations")
}

// apikey revoke takes a whole key from a file or the environment, so that
// it never is on the command line, and refuses ambiguous or empty input.
func TestAPIKeyRevokeReadsTheKeyFromAFileOrTheEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "app.db")
	newKey := func() (key, id string) {
		r := embedssoCmd(t, nil, "apikey", "create", "-db", dbPath, "-admin")
		require.Equal(t, 0, r.code, r.stderr)
		key = strings.SplitN(r.stdout, "\n", 2)[0]
		return key, key[4:20]
	}
	stored := func(id string) bool {
		_, err := openTestDB(t, dbPath).store.FindAPIKey(context.Background(), id)
		return err == nil
	}

	key, id := newKey()
	file := filepath.Join(dir, "key")
	require.NoError(t, os.WriteFile(file, []byte(key+"\n"), 0o600))
	r := embedssoCmd(t, nil, "apikey", "revoke", "-db", dbPath, "-key-file", file)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "revoked "+id+"\n", r.stdout)
	assert.False(t, stored(id))

	key, id = newKey()
	r = embedssoCmd(t, map[string]string{"OLD_KEY": key}, "apikey", "revoke", "-db", dbPath, "-key-env", "OLD_KEY")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "revoked "+id+"\n", r.stdout)
	assert.False(t, stored(id))

	_, id = newKey()
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"no key at all", nil, "embedsso apikey: give one key: its id, -key-file or -key-env\n"},
		{"an id and -key-file", []string{id, "-key-file", file}, "embedsso apikey: give one key: its id, -key-file or -key-env\n"},
		{"-key-env naming an unset variable", []string{"-key-env", "NOPE"}, "embedsso apikey: $NOPE is empty\n"},
	} {
		r := embedssoCmd(t, nil, append([]string{"apikey", "revoke", "-db", dbPath}, tc.args...)...)
		assert.Equal(t, 2, r.code, tc.name)
		assert.Equal(t, tc.msg, r.stderr, tc.name)
	}
	assert.True(t, stored(id), "a refused command revoked nothing")
}

// A key can be scoped only to organizations that exist: one scoped to a
// free id would reach whatever organization is later created with it.
func TestAPIKeyCreateRefusesAnOrganizationThatDoesNotExist(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "app.db")
	require.Equal(t, 0, embedssoCmd(t, nil, "org", "create", "-db", dbPath, "-id", "org_acme", "-name", "Acme").code)
	r := embedssoCmd(t, nil, "apikey", "create", "-db", dbPath, "-org", "org_acme,org_later")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "embedsso apikey: no organization with id \"org_later\": create it first (a key for an id no organization has would reach the organization created with it later)\n", r.stderr)
	assert.Empty(t, r.stdout, "no key is shown")
	var keys int
	require.NoError(t, openTestDB(t, dbPath).db.QueryRow(`SELECT COUNT(*) FROM embedsso_api_keys`).Scan(&keys))
	assert.Zero(t, keys, "no key is stored")
}
