package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
	"github.com/embedsso/embedsso/signer"
	"github.com/embedsso/embedsso/sqlstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// result is one run of the command.
type result struct {
	code           int
	stdout, stderr string
}

// embedssoCmd runs the command line args with the environment vars.
func embedssoCmd(t *testing.T, vars map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut, func(k string) string { return vars[k] })
	return result{code, out.String(), errOut.String()}
}

const testSecret = "cli-test-secret-0123456789-abcdefghijklmn"

var withSecret = map[string]string{secretEnv: testSecret}

func lines(s string) int { return strings.Count(strings.TrimRight(s, "\n"), "\n") + 1 }

func TestUsageAndExitCodes(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope.db")
	for _, tc := range []struct {
		name string
		args []string
		code int
		in   string // in stderr
	}{
		{"no command is a usage error", nil, 2, "usage: embedsso COMMAND"},
		{"-h lists the commands", []string{"-h"}, 0, "inspect"},
		{"an unknown command is one line, status 2", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"a bad flag is one line, status 2", []string{"token", "-bogus"}, 2, "flag provided but not defined: -bogus"},
		{"a bad flag value is one line, status 2", []string{"token", "-ttl", "soon"}, 2, "invalid value"},
		{"a missing required flag is status 2", []string{"token", "-org", "org_a"}, 2, "-org and -email are required"},
		{"a stray argument is status 2", []string{"secret", "extra"}, 2, `unexpected argument "extra"`},
		{"org without a subcommand is status 2", []string{"org"}, 2, "give a subcommand"},
		{"an unknown org subcommand is status 2", []string{"org", "delete"}, 2, `unknown subcommand "delete"`},
		{"apikey without -admin or -org is status 2", []string{"apikey", "create", "-db", missing}, 2, "give either -admin or -org"},
		{"a failure is one line, status 1", []string{"org", "get", "-db", missing, "-id", "org_a"}, 1, "does not exist"},
		{"secret -h says what it does", []string{"secret", "-h"}, 0, "Prints a new organization secret"},
		{"token -h says what it does", []string{"token", "-h"}, 0, "Mints an embedding token"},
		{"inspect -h says what it does", []string{"inspect", "-h"}, 0, "the verdict the SSO handler would give"},
		{"org -h says what it does", []string{"org", "-h"}, 0, "Manages organizations"},
		{"org create -h says what it does", []string{"org", "create", "-h"}, 0, "Creates an organization"},
		{"org get -h says what it does", []string{"org", "get", "-h"}, 0, "Prints an organization"},
		{"org update -h says what it does", []string{"org", "update", "-h"}, 0, "Changes the fields"},
		{"org rotate -h says what it does", []string{"org", "rotate", "-h"}, 0, "Gives the organization a new secret"},
		{"apikey -h says what it does", []string{"apikey", "-h"}, 0, "Makes and revokes keys"},
		{"apikey create -h says what it does", []string{"apikey", "create", "-h"}, 0, "Makes a key"},
		{"apikey revoke -h says what it does", []string{"apikey", "revoke", "-h"}, 0, "Deletes the key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := embedssoCmd(t, nil, tc.args...)
			assert.Equal(t, tc.code, r.code, "stderr: %s", r.stderr)
			assert.Contains(t, r.stderr, tc.in)
			if tc.code != 0 && len(tc.args) > 0 {
				assert.Equal(t, 1, lines(r.stderr), "one line: %q", r.stderr)
				assert.NotContains(t, r.stderr, "goroutine", "no stack trace")
			}
			assert.NoFileExists(t, missing, "a failing command created the database")
		})
	}
}

func TestSecret(t *testing.T) {
	t.Parallel()
	a, b := embedssoCmd(t, nil, "secret"), embedssoCmd(t, nil, "secret")
	require.Equal(t, 0, a.code, a.stderr)
	assert.Regexp(t, `^[A-Za-z0-9_-]{43}\n$`, a.stdout)
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(a.stdout))
	require.NoError(t, err)
	assert.Len(t, raw, 32, "256 bits")
	assert.NotEqual(t, a.stdout, b.stdout)
}

// segment decodes one part of a compact JWS.
func segment(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[i])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// login serves token to a real handler whose org_acme has secret, and
// returns the status.
func login(t *testing.T, orgs embedsso.OrgStore, token string) int {
	t.Helper()
	scratch := &memstore.Store{}
	sessions, err := cookiesession.New(cookiesession.Config{Store: scratch})
	require.NoError(t, err)
	h, err := embedsso.New(embedsso.Config{Orgs: orgs, Users: scratch, Sessions: sessions})
	require.NoError(t, err)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/sso/jwt?jwt="+url.QueryEscape(token), nil))
	return w.Code
}

func acmeOrgs(secret string) embedsso.OrgStore {
	s := memstore.New()
	if err := s.PutOrg(context.Background(), embedsso.Org{ID: "org_acme", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{KeyID: "k1", Value: secret}}}); err != nil {
		panic(err)
	}
	return s
}

func TestToken(t *testing.T) {
	t.Parallel()
	t.Run("the token from the environment's secret logs in", func(t *testing.T) {
		r := embedssoCmd(t, withSecret, "token", "-org", "org_acme", "-email", "jane@acme.example", "-role", "MEMBER", "-first", "Jane", "-last", "Doe")
		require.Equal(t, 0, r.code, r.stderr)
		token := strings.TrimSpace(r.stdout)
		assert.Equal(t, http.StatusFound, login(t, acmeOrgs(testSecret), token))
		assert.Equal(t, map[string]any{"alg": "HS256", "typ": "JWT"}, segment(t, token, 0), "the header jsonwebtoken writes")
		c := segment(t, token, 1)
		assert.Equal(t, "jane@acme.example", c["email"])
		assert.Equal(t, "org_acme", c["orgId"])
		assert.Equal(t, "Jane", c["firstName"])
		assert.Equal(t, "Doe", c["lastName"])
		assert.Equal(t, "MEMBER", c["role"])
		assert.Equal(t, 600.0, c["exp"].(float64)-c["iat"].(float64), "expiresIn: '10m'")
		assert.Regexp(t, `^[A-Za-z0-9_-]{22}$`, c["jti"], "a jti by default: the token is single-use")
	})
	t.Run("-jti=false leaves the jti out, as the Node snippet", func(t *testing.T) {
		r := embedssoCmd(t, withSecret, "token", "-org", "org_acme", "-email", "j@acme.example", "-jti=false")
		require.Equal(t, 0, r.code, r.stderr)
		token := strings.TrimSpace(r.stdout)
		assert.NotContains(t, segment(t, token, 1), "jti")
		assert.Equal(t, http.StatusFound, login(t, acmeOrgs(testSecret), token))
	})
	t.Run("-secret-file reads the secret, without the file's final newline", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "secret")
		require.NoError(t, os.WriteFile(path, []byte(testSecret+"\n"), 0o600))
		r := embedssoCmd(t, nil, "token", "-org", "org_acme", "-email", "j@acme.example", "-secret-file", path)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, http.StatusFound, login(t, acmeOrgs(testSecret), strings.TrimSpace(r.stdout)))
	})
	t.Run("-secret-file refusals say why in one line, never with the secret", func(t *testing.T) {
		dir := t.TempDir()
		empty := filepath.Join(dir, "empty")
		require.NoError(t, os.WriteFile(empty, []byte(" \n"), 0o600))
		secretFile := filepath.Join(dir, "secret")
		require.NoError(t, os.WriteFile(secretFile, []byte(testSecret), 0o600))
		for _, tc := range []struct {
			name string
			args []string
			code int
			msg  string
		}{
			{"an empty file", []string{"-secret-file", empty}, 1, "embedsso token: " + empty + " is empty\n"},
			{"a missing file", []string{"-secret-file", filepath.Join(dir, "nope")}, 1, "embedsso token: open " + filepath.Join(dir, "nope") + ": no such file or directory\n"},
			{"both -secret and -secret-file", []string{"-secret-file", secretFile, "-secret", testSecret}, 2, "embedsso token: give -secret or -secret-file, not both\n"},
		} {
			r := embedssoCmd(t, withSecret, append([]string{"token", "-org", "org_acme", "-email", "j@acme.example"}, tc.args...)...)
			assert.Equal(t, tc.code, r.code, tc.name)
			assert.Equal(t, tc.msg, r.stderr, tc.name)
		}
	})
	t.Run("-kid and -ttl are carried", func(t *testing.T) {
		r := embedssoCmd(t, withSecret, "token", "-org", "org_acme", "-email", "j@acme.example", "-jti", "-kid", "k1", "-ttl", "2m")
		require.Equal(t, 0, r.code, r.stderr)
		token := strings.TrimSpace(r.stdout)
		assert.Equal(t, "k1", segment(t, token, 0)["kid"])
		c := segment(t, token, 1)
		assert.NotEmpty(t, c["jti"])
		assert.Equal(t, 120.0, c["exp"].(float64)-c["iat"].(float64))
		assert.Equal(t, http.StatusFound, login(t, acmeOrgs(testSecret), token))
	})
	t.Run("-secret-env names another variable, -secret overrides", func(t *testing.T) {
		r := embedssoCmd(t, map[string]string{"ACME_SECRET": testSecret}, "token", "-org", "org_acme", "-email", "j@acme.example", "-secret-env", "ACME_SECRET")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, http.StatusFound, login(t, acmeOrgs(testSecret), strings.TrimSpace(r.stdout)))
		r = embedssoCmd(t, withSecret, "token", "-org", "org_acme", "-email", "j@acme.example", "-secret", "other-secret-0123456789-abcdefghijklmnopq")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, http.StatusUnauthorized, login(t, acmeOrgs(testSecret), strings.TrimSpace(r.stdout)))
	})
	t.Run("no secret anywhere is a usage error", func(t *testing.T) {
		r := embedssoCmd(t, nil, "token", "-org", "org_acme", "-email", "j@acme.example")
		assert.Equal(t, 2, r.code)
		assert.Equal(t, "embedsso token: no secret: set $EMBED_JWT_SECRET or give -secret-file\n", r.stderr)
	})
	t.Run("a secret under 32 bytes fails in one line", func(t *testing.T) {
		r := embedssoCmd(t, map[string]string{secretEnv: "short"}, "token", "-org", "org_acme", "-email", "j@acme.example")
		assert.Equal(t, 1, r.code)
		assert.Equal(t, 1, lines(r.stderr))
		assert.NotContains(t, r.stderr, "short", "the secret is not echoed")
	})
}

// mint signs a token for org_acme at now with secret.
func mint(t *testing.T, secret, org string, now time.Time, role string) string {
	t.Helper()
	tok, err := signer.Signer{Secret: secret, Now: func() time.Time { return now }}.Sign(
		signer.Claims{Email: "jane@acme.example", OrgID: org, Role: role})
	require.NoError(t, err)
	return tok
}

func TestInspect(t *testing.T) {
	t.Parallel()
	now := time.Now()
	good := mint(t, testSecret, "org_acme", now, "MEMBER")
	secretFile := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte(testSecret+"\n"), 0o600))
	for _, tc := range []struct {
		name  string
		vars  map[string]string
		args  []string
		want  []string
		avoid string
	}{
		{"a good token signs in, exit status 0", withSecret, []string{good},
			[]string{`"orgId": "org_acme"`, `"alg": "HS256"`, "verdict: signs in (302) jane@acme.example of org_acme"}, "refused"},
		{"an expired token is token_expired, with the embedding guide's line", withSecret,
			[]string{mint(t, testSecret, "org_acme", now.Add(-time.Hour), "")},
			[]string{"verdict: refused, 401 token_expired", "fix: your clock is behind, or the token sat in a cached page"}, "signs in"},
		{"a token signed with another secret is signature_invalid", withSecret,
			[]string{mint(t, "another-secret-0123456789-abcdefghijklmno", "org_acme", now, "")},
			[]string{"verdict: refused, 401 signature_invalid", "fix: wrong or stale secret"}, "signs in"},
		{"a token for another organization is org_not_found", withSecret, []string{good, "-org", "org_other"},
			[]string{"verdict: refused, 404 org_not_found", "fix: `orgId` typo"}, "signs in"},
		{"a role the organization lacks is role_not_allowed", withSecret, []string{good, "-roles", "ADMIN,VIEWER"},
			[]string{"verdict: refused, 400 role_not_allowed"}, "signs in"},
		{"flags may come before the token, and -secret gives the secret", nil, []string{"-secret", testSecret, "-origin", "https://portal.acme.example", good},
			[]string{"verdict: signs in"}, "refused"},
		{"a malformed token is shown as such and refused", withSecret, []string{"not.a-token"},
			[]string{"header: not base64url JSON", "verdict: refused, 400 token_malformed"}, "signs in"},
		{"-secret-file gives the secret", nil, []string{good, "-secret-file", secretFile, "-origin", "https://portal.acme.example"},
			[]string{"verdict: signs in"}, "refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := embedssoCmd(t, tc.vars, append([]string{"inspect"}, tc.args...)...)
			// A refusal exits 1, as grep without a match, and says nothing
			// on stderr beyond the verdict on stdout.
			wantCode := 0
			for _, w := range tc.want {
				if strings.HasPrefix(w, "verdict: refused") {
					wantCode = 1
				}
			}
			require.Equal(t, wantCode, r.code, r.stderr)
			assert.Empty(t, r.stderr)
			for _, w := range tc.want {
				assert.Contains(t, r.stdout, w)
			}
			assert.NotContains(t, r.stdout, tc.avoid)
			assert.NotContains(t, r.stdout, testSecret, "the secret is never printed")
		})
	}
}

// inspect with nothing to check the token against (no secret anywhere, no
// -db) shows the token, then exits 2 and says what it needs: a script with
// an unset $EMBED_JWT_SECRET must not read it as "signs in".
func TestInspectWithoutASecretExitsNonZero(t *testing.T) {
	t.Parallel()
	good := mint(t, testSecret, "org_acme", time.Now(), "MEMBER")
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		msg  string
	}{
		{"no variable, no flag", nil, nil,
			"embedsso inspect: nothing to check the token against: set $EMBED_JWT_SECRET, or give -secret-file or -db\n"},
		{"an empty variable", map[string]string{secretEnv: ""}, nil,
			"embedsso inspect: nothing to check the token against: set $EMBED_JWT_SECRET, or give -secret-file or -db\n"},
		{"-secret-env naming an unset variable", withSecret, []string{"-secret-env", "ACME_SECRET"},
			"embedsso inspect: nothing to check the token against: set $ACME_SECRET, or give -secret-file or -db\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := embedssoCmd(t, tc.vars, append([]string{"inspect", good}, tc.args...)...)
			assert.Equal(t, 2, r.code)
			assert.Equal(t, tc.msg, r.stderr)
			assert.Contains(t, r.stdout, `"email": "jane@acme.example"`, "the token is still shown")
			assert.NotContains(t, r.stdout, "verdict")
		})
	}
}

// The troubleshooting lines inspect prints are the embedding guide's
// (docs/embedding.md), word for word.
func TestTroubleshootingIsTheEmbeddingGuides(t *testing.T) {
	t.Parallel()
	guide := readEmbeddingGuide(t)
	start := strings.Index(guide, "\n## Troubleshooting\n")
	require.GreaterOrEqual(t, start, 0)
	table := guide[start+1:]
	if end := strings.Index(table, "\n## "); end >= 0 {
		table = table[:end]
	}
	fromGuide := map[string]string{}
	for _, line := range strings.Split(table, "\n") {
		cols := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cols) != 4 || !strings.HasPrefix(strings.TrimSpace(cols[2]), "`") {
			continue
		}
		code := strings.Trim(strings.TrimSpace(cols[2]), "`")
		if _, seen := fromGuide[code]; !seen {
			fromGuide[code] = strings.TrimSpace(cols[3])
		}
	}
	require.NotEmpty(t, fromGuide)
	assert.Equal(t, fromGuide, troubleshooting)
}

func readEmbeddingGuide(t *testing.T) string {
	t.Helper()
	b, err := readFile("../../docs/embedding.md")
	require.NoError(t, err)
	return b
}

// testDB is a handle of the test's own on a SQLite file the commands use.
type testDB struct {
	store *sqlstore.Store
	db    *sql.DB
}

func openTestDB(t *testing.T, path string) *testDB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return &testDB{sqlstore.New(db), db}
}
