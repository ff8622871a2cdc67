package interop

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
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
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
	embedsigner "github.com/embedsso/embedsso/signer"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	secret      = embedsigner.GenerateSecret()
	otherSecret = embedsigner.GenerateSecret()
	ann         = User{Email: "Ann.Lee@Example.com", FirstName: "Ann", LastName: "Lée"}
)

// signer mints a token for variant ("valid", "expired", "none") with key.
type signer struct {
	name string
	// needs says what must be installed; empty for in-process signers.
	needs string
	mint  func(t *testing.T, variant, key string) string
}

// external runs command in dir (the working directory when empty) and
// returns the token it prints.
func external(t *testing.T, variant, key, dir string, command ...string) string {
	t.Helper()
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "EMAIL="+ann.Email, "FIRST_NAME="+ann.FirstName, "LAST_NAME="+ann.LastName,
		"ORG_ID=org_abc123", "EMBED_JWT_SECRET="+key, "VARIANT="+variant, "EXTRA_CLAIMS="+extraClaimsJSON)
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
		return external(t, v, k, nodeRunDir(t), "node", "sign-jsonwebtoken.mjs")
	}},
	{name: "Node jose", needs: "node", mint: func(t *testing.T, v, k string) string {
		return external(t, v, k, nodeRunDir(t), "node", "sign-jose.mjs")
	}},
	{name: "Python PyJWT", needs: "python", mint: func(t *testing.T, v, k string) string {
		return external(t, v, k, "", debianPython, "python/sign_pyjwt.py")
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
		if v == "attributes" {
			now := time.Now()
			c := jwt.MapClaims{"email": ann.Email, "orgId": "org_abc123", "firstName": ann.FirstName, "lastName": ann.LastName,
				"role": "MEMBER", "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
			for name, value := range extraClaims {
				c[name] = value
			}
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(k))
			require.NoError(t, err)
			return tok
		}
		tok, err := SignWithGolangJWT(k, "org_abc123", ann)
		require.NoError(t, err)
		return tok
	}},
}

// extraClaims are the attributes and groups the "attributes" variant adds to
// the reference's claims.
var extraClaims = map[string]any{"region": "eu-west", "tenantId": 4200000042, "beta": true,
	"groups": []string{"finance", "analysts"}}

var extraClaimsJSON = func() string {
	b, err := json.Marshal(extraClaims)
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// debianPython is Debian's interpreter, where apt's python3-jwt lives (a
// PATH python3 may be another build without it).
const debianPython = "/usr/bin/python3"

func requirePrerequisite(t *testing.T, needs string) {
	t.Helper()
	var err error
	switch needs {
	case "node":
		_, err = prepareNode()
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

// nodeRunDir is where the Node signers run (requirePrerequisite has
// prepared it).
func nodeRunDir(t *testing.T) string {
	t.Helper()
	dir, err := prepareNode()
	require.NoError(t, err)
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	removeRunDir()
	os.Exit(code)
}

// fixture is the real handler over in-memory stores, recording refusals.
type fixture struct {
	h     *embedsso.Handler
	users *memstore.Store
	mu    sync.Mutex
	last  embedsso.Event
}

func newFixture(t *testing.T) *fixture {
	store := memstore.New()
	err := store.PutOrg(context.Background(), embedsso.Org{ID: "org_abc123", EmbeddingEnabled: true,
		Secrets: []embedsso.Secret{{Value: secret}}, AllowedRoles: []string{"ADMIN", "MEMBER", "VIEWER"}})
	require.NoError(t, err)
	f := &fixture{users: store}
	sessions, err := cookiesession.New(cookiesession.Config{Store: store})
	require.NoError(t, err)
	f.h, err = embedsso.New(embedsso.Config{
		Orgs:  store,
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

// The Node signers' packages are installed outside the source tree: running
// the tests leaves no node_modules in interop/node.
func TestNodePackagesStayOutOfTheSourceTree(t *testing.T) {
	requirePrerequisite(t, "node")
	_, err := os.Stat(filepath.Join("node", "node_modules"))
	assert.True(t, errors.Is(err, fs.ErrNotExist), "interop/node/node_modules exists (%v)", err)
}

func TestAttributesAndGroupsFromRealSigners(t *testing.T) {
	for _, s := range signers {
		t.Run(s.name, func(t *testing.T) {
			requirePrerequisite(t, s.needs)
			f := newFixture(t)
			mux := http.NewServeMux()
			mux.Handle("/api/sso/jwt", f.h)
			mux.Handle("GET /api/me", f.h.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				u, _ := embedsso.UserFromContext(r.Context())
				_ = json.NewEncoder(w).Encode(map[string]any{"email": u.Email, "attributes": u.Attributes, "groups": u.Groups})
			})))
			srv := httptest.NewServer(mux)
			defer srv.Close()
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			// me signs the token in and returns what /api/me then says.
			me := func(token string) map[string]any {
				res, err := client.Get(srv.URL + "/api/sso/jwt?jwt=" + token)
				require.NoError(t, err)
				res.Body.Close()
				require.Equal(t, http.StatusFound, res.StatusCode)
				var cookie string
				for _, c := range res.Cookies() {
					if c.Name == "embedsso_session" {
						cookie = c.Name + "=" + c.Value
					}
				}
				req, err := http.NewRequest("GET", srv.URL+"/api/me", nil)
				require.NoError(t, err)
				req.Header.Set("Cookie", cookie)
				req.Header.Set("Accept", "application/json")
				res, err = client.Do(req)
				require.NoError(t, err)
				defer res.Body.Close()
				require.Equal(t, http.StatusOK, res.StatusCode)
				var got map[string]any
				require.NoError(t, json.NewDecoder(res.Body).Decode(&got))
				return got
			}

			got := me(s.mint(t, "attributes", secret))
			assert.Equal(t, "ann.lee@example.com", got["email"])
			assert.Equal(t, map[string]any{"region": "eu-west", "tenantId": 4200000042.0, "beta": true}, got["attributes"])
			assert.Equal(t, []any{"analysts", "finance"}, got["groups"])

			// The next sign-in without them removes them.
			got = me(s.mint(t, "valid", secret))
			assert.Nil(t, got["attributes"])
			assert.Nil(t, got["groups"])
		})
	}
}
