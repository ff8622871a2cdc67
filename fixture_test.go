package embedsso_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
	"github.com/stretchr/testify/require"
)

// Secrets of the test organizations: 43 characters, like GenerateSecret's.
const (
	secretABC     = "q3Jv9xPpA1mS7cT0bW2eY5uK8hN4dF6gL1zR0sV3wXa"
	secretOpen    = "Zk8mP2xV5nB7qW1eR4tY6uI9oA3sD0fG2hJ5kL8zXc1"
	secretOld     = "old-secret-0123456789-abcdefghijklmnopqrstu"
	secretNew     = "new-secret-0123456789-abcdefghijklmnopqrstu"
	customerSite  = "https://customer.example"
	customerPage  = customerSite + "/reports?tab=1"
	fixedUnixTime = 1_800_000_000
)

// testOrgs are the organizations every handler test runs against.
func testOrgs() []embedsso.Org {
	return []embedsso.Org{
		{ID: "org_abc123", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{Value: secretABC}},
			AllowedOrigins: []string{customerSite, "https://*.partner.example"},
			AllowedRoles:   []string{"ADMIN", "MEMBER", "VIEWER"}, DashboardURL: "/dashboard"},
		{ID: "org_open", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{Value: secretOpen}}},
		{ID: "org_off", EmbeddingEnabled: false, Secrets: []embedsso.Secret{{Value: secretOpen}}},
		{ID: "org_rotating", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{KeyID: "old", Value: secretOld}, {KeyID: "new", Value: secretNew}}},
		{ID: "org_groups", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{Value: secretOpen}}, AllowedGroups: []string{"analysts", "finance"}},
		{ID: "org_login", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{Value: secretOpen}}, AllowedOrigins: []string{customerSite, "https://*.partner.example"},
			DashboardURL: "/dashboard", LoginURL: customerSite + "/sso/embed-login?app=chartly"},
	}
}

// misconfiguredOrgs are organizations [embedsso.Org.Validate] refuses, as a
// store that does not call it could still hold them: the handler must refuse
// their logins by itself.
func misconfiguredOrgs() []embedsso.Org {
	return []embedsso.Org{
		{ID: "org_weak", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{Value: "too-short-16byte"}}},
		{ID: "org_badlist", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{Value: secretOpen}}, AllowedOrigins: []string{"customer.example; script-src *"}},
		{ID: "org_phish", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{Value: secretOpen}}, DashboardURL: "https://evil.example/phish"},
		{ID: "org_jsdash", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{Value: secretOpen}}, DashboardURL: "javascript:alert(1)"},
		{ID: "org_dotdash", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{Value: secretOpen}}, DashboardURL: "/..//evil.example"},
	}
}

// fixtureOrgs is a memory store of testOrgs that also returns the
// misconfiguredOrgs the memory store would refuse to hold.
type fixtureOrgs struct {
	*memstore.Store
	unvalidated map[string]embedsso.Org
}

func newFixtureOrgs(t *testing.T) fixtureOrgs {
	t.Helper()
	s := memstore.New()
	for _, o := range testOrgs() {
		require.NoError(t, s.PutOrg(context.Background(), o))
	}
	f := fixtureOrgs{s, map[string]embedsso.Org{}}
	for _, o := range misconfiguredOrgs() {
		require.Error(t, o.Validate(), o.ID)
		f.unvalidated[o.ID] = o
	}
	return f
}

func (s fixtureOrgs) FindOrg(ctx context.Context, id string) (embedsso.Org, error) {
	if o, ok := s.unvalidated[id]; ok {
		return o, nil
	}
	return s.Store.FindOrg(ctx, id)
}

// fixture is a Handler over in-memory stores with a fixed clock, plus a
// record of what the Observer saw.
type fixture struct {
	h       *embedsso.Handler
	store   *memstore.Store // the users, the sessions and the used token ids
	cookies *cookiesession.Issuer
	now     time.Time

	mu     sync.Mutex
	events []embedsso.Event
}

type fixtureOption func(*embedsso.Config)

func newFixture(t *testing.T, opts ...fixtureOption) *fixture {
	t.Helper()
	f := &fixture{
		store: &memstore.Store{},
		now:   time.Unix(fixedUnixTime, 0),
	}
	clock := func() time.Time { return f.now }
	f.store.Now = clock
	var err error
	f.cookies, err = cookiesession.New(cookiesession.Config{Store: f.store, Now: clock})
	require.NoError(t, err)
	cfg := embedsso.Config{
		Orgs: newFixtureOrgs(t), Users: f.store, Sessions: f.cookies,
		Replay: f.store, Now: clock,
		Observer: func(_ context.Context, e embedsso.Event) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.events = append(f.events, e)
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	f.h, err = embedsso.New(cfg)
	require.NoError(t, err)
	return f
}

// lastEvent returns what the Observer was told about the last login.
func (f *fixture) lastEvent(t *testing.T) embedsso.Event {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.NotEmpty(t, f.events, "observer was not called")
	return f.events[len(f.events)-1]
}

// get sends GET target to the handler as an iframe navigation from the
// customer's page (Referer set), unless headers override it.
func (f *fixture) get(target string, headers map[string]string) *httptest.ResponseRecorder {
	return f.do(http.MethodGet, target, headers)
}

// do is get with another method ("" means GET).
func (f *fixture) do(method, target string, headers map[string]string) *httptest.ResponseRecorder {
	if method == "" {
		method = http.MethodGet
	}
	r := httptest.NewRequest(method, target, nil)
	r.Header.Set("Referer", customerPage)
	for k, v := range headers {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// claims returns a valid claim set for org_abc123 at the fixture's clock.
func (f *fixture) claims() map[string]any {
	return map[string]any{
		"email": "jane@example.com", "orgId": "org_abc123", "firstName": "Jane", "lastName": "Doe",
		"role": "MEMBER", "iat": f.now.Unix(), "exp": f.now.Add(10 * time.Minute).Unix(),
	}
}

// rawToken is the independent signer: it builds the compact JWS by hand with
// encoding/json and crypto/hmac, sharing no code with the library. It can
// produce anything, including tokens no honest signer would.
func rawToken(header, claims any, secret string) string {
	enc := func(v any) string {
		if s, ok := v.(string); ok { // a pre-encoded segment
			return s
		}
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

var hs256 = map[string]any{"alg": "HS256", "typ": "JWT"}

func with(c map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(c))
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func loginURL(token string) string { return "/api/sso/jwt?jwt=" + token }

// assertNothingWritten checks that a refused request left every store as it was.
func (f *fixture) assertNothingWritten(t *testing.T) {
	t.Helper()
	require.Empty(t, f.store.Users(), "a refused login created a user")
	require.Zero(t, f.store.SessionCount(), "a refused login created a session")
	require.Zero(t, f.store.TokenIDCount(), "a refused login consumed a token id")
}

// sessionCookie returns the Set-Cookie header line of the session cookie.
func sessionCookie(w *httptest.ResponseRecorder) string {
	for _, c := range w.Result().Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "embedsso_session=") {
			return c
		}
	}
	return ""
}

// post sends the form as a POST to target, as the "Continue as" button
// does from this app's own page (same-origin fetch metadata), unless
// headers override it.
func (f *fixture) post(target string, form url.Values, headers map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range headers {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// resolve is what a browser does with a Location or a link: resolve it
// against the URL of the page it came from.
func resolve(base, ref string) string {
	b, err := url.Parse(base)
	if err != nil {
		panic(err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		panic(err)
	}
	return b.ResolveReference(r).String()
}
