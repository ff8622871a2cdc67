package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testOrg = orgJSON{ID: "org_load", JWTSecrets: []string{"q3Jv9xPpA1mS7cT0bW2eY5uK8hN4dF6gL1zR0sV3wXa"}, AllowedOrigins: []string{"https://customer.example"}}

// sign makes an HS256 token of claims (JSON) under secret.
func sign(secret, claims string) string {
	in := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func claims(org string, exp time.Time) string {
	return fmt.Sprintf(`{"email":"jane@example.com","orgId":%q,"role":"MEMBER","exp":%d}`, org, exp.Unix())
}

// The floor refuses what any login endpoint must refuse; otherwise it would
// be no floor.
func TestTheFloorRefusesBadLogins(t *testing.T) {
	t.Parallel()
	h := newFloor(testOrg)
	secret, origin := testOrg.JWTSecrets[0], testOrg.AllowedOrigins[0]
	later := time.Now().Add(5 * time.Minute)
	good := sign(secret, claims("org_load", later))
	cases := []struct {
		name, token, origin string
		status              int
	}{
		{"a valid token from the allowed origin signs in", good, origin, http.StatusFound},
		{"another origin is refused", good, "https://evil.example", http.StatusForbidden},
		{"a tampered signature is refused", good[:len(good)-2] + "AA", origin, http.StatusUnauthorized},
		{"an expired token is refused", sign(secret, claims("org_load", time.Now().Add(-time.Minute))), origin, http.StatusUnauthorized},
		{"another org's claim is refused", sign(secret, claims("org_other", later)), origin, http.StatusUnauthorized},
		{"a token signed with another secret is refused", sign(strings.Repeat("x", 43), claims("org_load", later)), origin, http.StatusUnauthorized},
		{"a token of another algorithm is refused", strings.Replace(good, good[:strings.IndexByte(good, '.')],
			base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)), 1), origin, http.StatusUnauthorized},
		{"garbage is refused", "not.a.jwt", origin, http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/api/sso/jwt?jwt="+tc.token, nil)
			r.Header.Set("Origin", tc.origin)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, tc.status, w.Code)
			if tc.status != http.StatusFound {
				assert.Empty(t, w.Result().Cookies())
				return
			}
			assert.Equal(t, "/dashboard", w.Header().Get("Location"))
			cookies := w.Result().Cookies()
			require.Len(t, cookies, 1)

			me := httptest.NewRequest(http.MethodGet, "/api/me", nil)
			me.AddCookie(cookies[0])
			w = httptest.NewRecorder()
			h.ServeHTTP(w, me)
			assert.Equal(t, http.StatusOK, w.Code)
			assert.JSONEq(t, `{"email":"jane@example.com","orgId":"org_load","role":"MEMBER"}`, w.Body.String())
		})
	}
	t.Run("a request without a known session cookie is not signed in", func(t *testing.T) {
		t.Parallel()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/me", nil))
		assert.Equal(t, http.StatusUnauthorized, w.Code)
	})
}

func TestRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	t.Run("it prints its URL once it listens and stops when asked", func(t *testing.T) {
		t.Parallel()
		orgs := write("orgs.json", `[{"id":"org_load","embeddingEnabled":true,"jwtSecrets":["`+testOrg.JWTSecrets[0]+`"],"allowedOrigins":["https://customer.example"]}]`)
		ctx, cancel := context.WithCancel(context.Background())
		out, outW := io.Pipe()
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"-orgs", orgs}, outW) }()
		line := make([]byte, 100)
		n, err := out.Read(line)
		require.NoError(t, err)
		url := strings.TrimSpace(strings.TrimPrefix(string(line[:n]), "the app: "))
		res, err := http.Get(url + "/api/me")
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		cancel()
		assert.NoError(t, <-done)
	})
	for name, content := range map[string]string{
		"an organization without an allowed origin": `[{"id":"org_load","jwtSecrets":["s"]}]`,
		"no organization": `[]`,
		"not JSON":        `{`,
	} {
		t.Run(name+" is refused", func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), []string{"-orgs", write(strings.ReplaceAll(name, " ", "-")+".json", content)}, io.Discard)
			assert.Error(t, err)
		})
	}
	t.Run("a missing file is refused", func(t *testing.T) {
		t.Parallel()
		assert.Error(t, run(context.Background(), []string{"-orgs", filepath.Join(dir, "missing.json")}, io.Discard))
	})
}
