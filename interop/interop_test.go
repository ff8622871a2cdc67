package interop

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	secret      = embedsso.GenerateSecret()
	otherSecret = embedsso.GenerateSecret()
	ann         = User{Email: "Ann.Lee@Example.com", FirstName: "Ann", LastName: "Lée"}
)

// signer mints a token for variant ("valid", "expired", "none") with key.
type signer struct {
	name string
	// needs says what must be installed; empty for in-process signers.
	needs string
	mint  func(t *testing.T, variant, key string) string
}

func external(t *testing.T, variant, key string, command ...string) string {
	t.Helper()
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Env = append(os.Environ(), "EMAIL="+ann.Email, "FIRST_NAME="+ann.FirstName, "LAST_NAME="+ann.LastName,
		"ORG_ID=org_abc123", "EMBED_JWT_SECRET="+key, "VARIANT="+variant)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("%v: %v\n%s", command, err, ee.Stderr)
	}
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

var signers = []signer{
	{name: "Node jsonwebtoken", needs: "node", mint: func(t *testing.T, v, k string) string {
		return external(t, v, k, "node", "node/sign-jsonwebtoken.mjs")
	}},
	{name: "Node jose", needs: "node", mint: func(t *testing.T, v, k string) string {
		return external(t, v, k, "node", "node/sign-jose.mjs")
	}},
	{name: "Python PyJWT", needs: "python", mint: func(t *testing.T, v, k string) string {
		return external(t, v, k, debianPython, "python/sign_pyjwt.py")
	}},
	{name: "Go golang-jwt", mint: func(t *testing.T, v, k string) string {
		switch v {
		case "expired":
			then := time.Now().Add(-time.Hour)
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"email": ann.Email, "orgId": "org_abc123",
				"role": "MEMBER", "iat": then.Unix(), "exp": then.Add(10 * time.Minute).Unix()}).SignedString([]byte(k))
			require.NoError(t, err)
			return tok
		case "none":
			tok, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"email": ann.Email, "orgId": "org_abc123",
				"role": "MEMBER", "exp": time.Now().Add(10 * time.Minute).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
			require.NoError(t, err)
			return tok
		}
		tok, err := SignWithGolangJWT(k, "org_abc123", ann)
		require.NoError(t, err)
		return tok
	}},
}

// debianPython is Debian's interpreter, where apt's python3-jwt lives (a
// PATH python3 may be another build without it).
const debianPython = "/usr/bin/python3"

var prepareNode = sync.OnceValue(func() error {
	if _, err := exec.LookPath("node"); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join("node", "node_modules")); err == nil {
		return nil
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = "node"
	if out, err := cmd.CombinedOutput(); err != nil {
		return errors.New("npm ci: " + err.Error() + "\n" + string(out))
	}
	return nil
})

func requirePrerequisite(t *testing.T, needs string) {
	t.Helper()
	var err error
	switch needs {
	case "node":
		err = prepareNode()
	case "python":
		err = exec.Command(debianPython, "-c", "import jwt").Run()
	}
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI must have the %s signer: %v", needs, err)
	}
	t.Skipf("the %s signer is not installed here (%v); .ci/run installs it", needs, err)
}

// fixture is the real handler over in-memory stores, recording refusals.
type fixture struct {
	h     *embedsso.Handler
	users *embedsso.MemoryUserStore
	mu    sync.Mutex
	last  embedsso.Event
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{users: &embedsso.MemoryUserStore{}}
	sessions, err := embedsso.NewCookieSessions(embedsso.CookieConfig{Store: &embedsso.MemorySessionStore{}})
	require.NoError(t, err)
	orgs, err := embedsso.NewMemoryOrgStore(embedsso.Org{ID: "org_abc123", EmbeddingEnabled: true,
		Secrets: []embedsso.Secret{{Value: secret}}, AllowedRoles: []string{"ADMIN", "MEMBER", "VIEWER"}})
	require.NoError(t, err)
	f.h, err = embedsso.New(embedsso.Config{
		Orgs:  orgs,
		Users: f.users, Sessions: sessions,
		Observer: func(_ context.Context, e embedsso.Event) { f.mu.Lock(); f.last = e; f.mu.Unlock() },
	})
	require.NoError(t, err)
	return f
}

func TestTokensFromRealSigners(t *testing.T) {
	variants := []struct {
		name, variant string
		key           string
		status        int
		want          embedsso.Kind // "": signed in
	}{
		{"a valid token signs in", "valid", secret, http.StatusFound, ""},
		{"an expired token is refused", "expired", secret, http.StatusUnauthorized, embedsso.ErrTokenExpired},
		{"a token signed with the wrong secret is refused", "valid", otherSecret, http.StatusUnauthorized, embedsso.ErrSignatureInvalid},
		{"an unsigned alg none token is refused", "none", secret, http.StatusUnauthorized, embedsso.ErrAlgorithmNotAllowed},
	}
	for _, s := range signers {
		t.Run(s.name, func(t *testing.T) {
			requirePrerequisite(t, s.needs)
			for _, v := range variants {
				t.Run(v.name, func(t *testing.T) {
					f := newFixture(t)
					token := s.mint(t, v.variant, v.key)
					srv := httptest.NewServer(f.h)
					defer srv.Close()
					client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
					res, err := client.Get(srv.URL + "/api/sso/jwt?jwt=" + token)
					require.NoError(t, err)
					res.Body.Close()

					assert.Equal(t, v.status, res.StatusCode)
					f.mu.Lock()
					ev := f.last
					f.mu.Unlock()
					if v.want != "" {
						require.NotNil(t, ev.Err)
						assert.True(t, errors.Is(ev.Err, v.want), "got %v, want %s", ev.Err, v.want)
						assert.Empty(t, f.users.Users())
						return
					}
					assert.True(t, ev.Success, "%v", ev.Err)
					assert.NotEmpty(t, res.Header.Get("Set-Cookie"))
					users := f.users.Users()
					require.Len(t, users, 1)
					assert.Equal(t, "ann.lee@example.com", users[0].Email)
					assert.Equal(t, "MEMBER", users[0].Role)
					assert.Equal(t, "Ann", users[0].FirstName)
					assert.Equal(t, "Lée", users[0].LastName)
				})
			}
		})
	}
}

// Each signer produces the reference's token: HS256, the seven claims, and
// ten minutes between iat and exp.
func TestSignersProduceTheReferenceToken(t *testing.T) {
	for _, s := range signers {
		t.Run(s.name, func(t *testing.T) {
			requirePrerequisite(t, s.needs)
			parts := strings.Split(s.mint(t, "valid", secret), ".")
			require.Len(t, parts, 3)
			var header map[string]any
			var claims map[string]any
			require.NoError(t, json.Unmarshal(decode(t, parts[0]), &header))
			require.NoError(t, json.Unmarshal(decode(t, parts[1]), &claims))
			assert.Equal(t, "HS256", header["alg"])
			keys := make([]string, 0, len(claims))
			for k := range claims {
				keys = append(keys, k)
			}
			assert.ElementsMatch(t, []string{"email", "orgId", "firstName", "lastName", "role", "iat", "exp"}, keys)
			assert.InDelta(t, 600, claims["exp"].(float64)-claims["iat"].(float64), 0)
		})
	}
}

func decode(t *testing.T, seg string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	require.NoError(t, err)
	return b
}
