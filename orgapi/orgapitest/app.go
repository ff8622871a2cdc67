// Package orgapitest runs the organization API end to end, with the SSO
// endpoint beside it, over any stores: the memory stores in package orgapi's
// tests, sqlstore on PostgreSQL and SQLite in its own. [TestFlows] is the
// list of rules; [App] is the harness, for tests of one's own.
package orgapitest

import (
	"context"
	"encoding/json"
	"io"
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
	"github.com/embedsso/embedsso/orgapi"
	"github.com/embedsso/embedsso/signer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Customer is the site that embeds the organizations the harness creates.
const Customer = "https://portal.acme.example"

// Start is the harness's clock at the start of each test.
var Start = time.Date(2030, 3, 4, 5, 6, 7, 0, time.UTC)

// Sessions is a session store that can also revoke in bulk.
type Sessions interface {
	cookiesession.Store
	orgapi.SessionRevoker
}

// Stores are an app's storage, shared by the organization API and the SSO
// endpoint: empty, over one database.
type Stores struct {
	Orgs     orgapi.OrgAdmin
	Keys     orgapi.APIKeyStore
	Sessions Sessions
	Users    embedsso.UserStore
}

// MemoryStores returns a new, empty memory store as every store.
func MemoryStores() Stores {
	s := &memstore.Store{}
	return Stores{Orgs: s, Keys: s, Sessions: s, Users: s}
}

// App is the organization API and the SSO endpoint over one set of stores,
// with one clock, as an app mounts them.
type App struct {
	API     *orgapi.Handler
	SSO     *embedsso.Handler
	Cookies *cookiesession.Issuer
	Stores  Stores
	// Admin is an instance admin key; Scoped a key for org_acme only.
	Admin, Scoped string

	mu    sync.Mutex
	now   time.Time
	codes []string // refusal codes the SSO handler's Observer saw
}

// NewApp builds an App over s, with its clock at [Start] and two keys.
func NewApp(t testing.TB, s Stores) *App {
	t.Helper()
	a := &App{Stores: s, now: Start}
	var err error
	a.API, err = orgapi.New(orgapi.Config{Orgs: s.Orgs, Keys: s.Keys, Sessions: s.Sessions, Now: a.Now})
	require.NoError(t, err)
	a.Cookies, err = cookiesession.New(cookiesession.Config{Store: s.Sessions, Now: a.Now})
	require.NoError(t, err)
	a.SSO, err = embedsso.New(embedsso.Config{Orgs: s.Orgs, Users: s.Users, Sessions: a.Cookies, Now: a.Now,
		DisableCookieCheck: true,
		Observer: func(_ context.Context, e embedsso.Event) {
			if e.Err != nil {
				a.mu.Lock()
				a.codes = append(a.codes, e.Err.Code)
				a.mu.Unlock()
			}
		}})
	require.NoError(t, err)
	a.Admin = a.NewKey(t, orgapi.KeyScope{Admin: true})
	a.Scoped = a.NewKey(t, orgapi.KeyScope{OrgIDs: []string{"org_acme"}})
	return a
}

// Now is the App's clock.
func (a *App) Now() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

// Advance moves the App's clock.
func (a *App) Advance(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.now = a.now.Add(d)
}

// NewKey stores a new key with scope and returns it.
func (a *App) NewKey(t testing.TB, scope orgapi.KeyScope) string {
	t.Helper()
	key, rec, err := orgapi.NewKey("test", scope, Start)
	require.NoError(t, err)
	require.NoError(t, a.Stores.Keys.CreateAPIKey(context.Background(), rec))
	return key
}

// Call sends one API request with key (none if "") and a JSON body (none if
// ""), as a server would; headers are name, value pairs ("" deletes).
func (a *App) Call(method, path, key, body string, headers ...string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			r.Header.Del(headers[i])
		} else {
			r.Header.Set(headers[i], headers[i+1])
		}
	}
	w := httptest.NewRecorder()
	a.API.ServeHTTP(w, r)
	return w
}

// Org is the "data" of an answer about an organization.
type Org struct {
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	FullEmbedEnabled    bool     `json:"fullEmbedEnabled"`
	EmbedAllowedOrigins []string `json:"embedAllowedOrigins"`
	EmbedAllowedRoles   []string `json:"embedAllowedRoles"`
	EmbedAllowedGroups  []string `json:"embedAllowedGroups"`
	EmbedDashboardURL   string   `json:"embedDashboardUrl"`
	EmbedLoginURL       string   `json:"embedLoginUrl"`
	JWTSecret           string   `json:"jwtSecret"`
	JWTSecretKeyID      string   `json:"jwtSecretKeyId"`
	JWTSecrets          []struct {
		KeyID     string     `json:"keyId"`
		ExpiresAt *time.Time `json:"expiresAt"`
	} `json:"jwtSecrets"`
}

// Data checks w's status and content type and returns its "data".
func Data(t testing.TB, w *httptest.ResponseRecorder, status int) Org {
	t.Helper()
	require.Equal(t, status, w.Code, "body: %s", w.Body)
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	var b struct{ Data Org }
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &b))
	return b.Data
}

// AcmeBody is the body that creates org_acme.
const AcmeBody = `{"id":"org_acme","name":"Acme","fullEmbedEnabled":true,"embedAllowedOrigins":["` + Customer + `"],"embedAllowedRoles":["ADMIN","MEMBER"]}`

// CreateAcme creates org_acme through the API and returns it, secret included.
func (a *App) CreateAcme(t testing.TB) Org {
	t.Helper()
	o := Data(t, a.Call("POST", "/api/public/organizations?include=jwtSecret", a.Admin, AcmeBody), http.StatusCreated)
	require.NotEmpty(t, o.JWTSecret)
	return o
}

// Login signs a token for email in org_acme with secret, at the App's
// clock, and loads the SSO endpoint from the customer's page. It returns the
// status and the session cookie, if one was set.
func (a *App) Login(t testing.TB, secret, email string) (int, *http.Cookie) {
	t.Helper()
	status, c, err := a.login(context.Background(), secret, email)
	require.NoError(t, err)
	return status, c
}

// login is Login with the request's context, safe to call from any
// goroutine.
func (a *App) login(ctx context.Context, secret, email string) (int, *http.Cookie, error) {
	now := a.Now()
	token, err := signer.Signer{Secret: secret, Now: func() time.Time { return now }}.Sign(
		signer.Claims{Email: email, OrgID: "org_acme", FirstName: "Jane", Role: "MEMBER"})
	if err != nil {
		return 0, nil, err
	}
	r := httptest.NewRequestWithContext(ctx, "GET", "/api/sso/jwt?jwt="+url.QueryEscape(token), nil)
	r.Header.Set("Referer", Customer+"/analytics")
	w := httptest.NewRecorder()
	a.SSO.ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		if c.Name == a.Cookies.CookieName() {
			return w.Code, c, nil
		}
	}
	return w.Code, nil, nil
}

// LastCode is the code of the SSO handler's last refusal.
func (a *App) LastCode() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.codes) == 0 {
		return ""
	}
	return a.codes[len(a.codes)-1]
}

// SignedIn reports whether the session cookie c is valid now: an API
// route behind the SSO handler's guard answers it 200 (else 401).
func (a *App) SignedIn(t testing.TB, c *http.Cookie) bool {
	t.Helper()
	r := httptest.NewRequest("GET", "/api/me", nil)
	r.Header.Set("Accept", "application/json")
	r.AddCookie(c)
	w := httptest.NewRecorder()
	a.SSO.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })).ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		require.Equal(t, http.StatusUnauthorized, w.Code, w.Body.String())
	}
	return w.Code == http.StatusOK
}
