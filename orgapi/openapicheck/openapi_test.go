package openapicheck_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/embedsso/embedsso/memstore"
	"github.com/embedsso/embedsso/orgapi"
	"github.com/embedsso/embedsso/orgapi/orgapitest"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failingOrgs is an org store whose database is down.
type failingOrgs struct{ *memstore.Store }

var errDown = errors.New("database down")

func (failingOrgs) CreateOrg(context.Context, orgapi.OrgRecord) error { return errDown }
func (failingOrgs) FindOrgRecord(context.Context, string) (orgapi.OrgRecord, error) {
	return orgapi.OrgRecord{}, errDown
}
func (failingOrgs) UpdateOrg(context.Context, string, func(*orgapi.OrgRecord) error) (orgapi.OrgRecord, error) {
	return orgapi.OrgRecord{}, errDown
}

// call is one real request to the handler, named by the operation of the
// document it exercises and the status it must get.
type call struct {
	op      string // "METHOD /path/template", as in the document
	status  int
	path    string // the real path and query
	key     string // "admin", "scoped", "other", "none", or a literal key
	body    string
	headers []string
	broken  bool // against a store that fails
	valid   bool // the request itself follows the document
}

const (
	create  = "POST /api/public/organizations"
	get     = "GET /api/public/organizations/{id}"
	patch   = "PATCH /api/public/organizations/{id}"
	rotate  = "POST /api/public/organizations/{id}/jwt-secret/rotate"
	signOut = "DELETE /api/public/organizations/{id}/users/{email}/sessions"
	acme    = "/api/public/organizations/org_acme"
)

var crossSite = []string{"Sec-Fetch-Site", "cross-site"}

var calls = []call{
	{op: create, status: 201, path: "/api/public/organizations", key: "admin", body: `{"name":"Beta","fullEmbedEnabled":true,"embedAllowedOrigins":["https://b.example"]}`, valid: true},
	{op: create, status: 201, path: "/api/public/organizations?include=jwtSecret", key: "admin", body: `{"id":"org_gamma","name":"Gamma","embedAllowedRoles":["ADMIN"],"embedAllowedGroups":["finance"],"embedDashboardUrl":"/d","jwtSecret":"gamma-secret-0123456789-abcdefghijklmnopq"}`, valid: true},
	{op: create, status: 400, path: "/api/public/organizations", key: "admin", body: `{"name":"x","embedAllowedOrigins":["https://a.example/app"]}`},
	{op: create, status: 401, path: "/api/public/organizations", key: "none", body: `{"name":"x"}`},
	{op: create, status: 403, path: "/api/public/organizations", key: "scoped", body: `{"name":"x"}`},
	{op: create, status: 403, path: "/api/public/organizations", key: "admin", body: `{"name":"x"}`, headers: crossSite},
	{op: create, status: 409, path: "/api/public/organizations", key: "admin", body: `{"id":"org_acme","name":"Again"}`, valid: true},
	{op: create, status: 415, path: "/api/public/organizations", key: "admin", body: `{"name":"x"}`, headers: []string{"Content-Type", "text/plain"}},
	{op: create, status: 500, path: "/api/public/organizations", key: "admin", body: `{"name":"x"}`, broken: true, valid: true},

	{op: get, status: 200, path: acme, key: "admin", valid: true},
	{op: get, status: 200, path: acme + "?include=jwtSecret", key: "scoped", valid: true},
	{op: get, status: 400, path: acme + "?include=all", key: "admin"},
	{op: get, status: 401, path: acme, key: "esk_0000000000000000_" + strings.Repeat("A", 43)},
	{op: get, status: 400, path: "/api/public/organizations/a%00b", key: "admin"},
	{op: get, status: 403, path: acme + "?include=jwtSecret", key: "admin", headers: crossSite},
	{op: get, status: 404, path: acme, key: "other", valid: true},
	{op: get, status: 404, path: "/api/public/organizations/org_nope", key: "admin", valid: true},
	{op: get, status: 500, path: acme, key: "admin", broken: true, valid: true},

	{op: patch, status: 200, path: acme, key: "admin", body: `{"name":"Acme Corp","embedAllowedRoles":["ADMIN","MEMBER","VIEWER"]}`, valid: true},
	{op: patch, status: 200, path: acme + "?include=jwtSecret", key: "scoped", body: `{"embedLoginUrl":"` + orgapitest.Customer + `/sso"}`, valid: true},
	{op: patch, status: 400, path: acme, key: "admin", body: `{"fullEmbedEnabled":"no"}`},
	{op: patch, status: 401, path: acme, key: "none", body: `{"name":"x"}`},
	{op: patch, status: 403, path: acme, key: "admin", body: `{"name":"x"}`, headers: []string{"Origin", "https://evil.example"}},
	{op: patch, status: 404, path: acme, key: "other", body: `{"name":"x"}`, valid: true},
	{op: patch, status: 415, path: acme, key: "admin", body: `name=x`, headers: []string{"Content-Type", "application/x-www-form-urlencoded"}},
	{op: patch, status: 500, path: acme, key: "admin", body: `{"name":"x"}`, broken: true, valid: true},

	{op: rotate, status: 200, path: acme + "/jwt-secret/rotate", key: "admin", valid: true},
	{op: rotate, status: 200, path: acme + "/jwt-secret/rotate", key: "scoped", body: `{}`, valid: true},
	{op: rotate, status: 400, path: acme + "/jwt-secret/rotate", key: "admin", body: `{"grace":0}`},
	{op: rotate, status: 401, path: acme + "/jwt-secret/rotate", key: "none"},
	{op: rotate, status: 403, path: acme + "/jwt-secret/rotate", key: "admin", headers: crossSite},
	{op: rotate, status: 404, path: "/api/public/organizations/org_nope/jwt-secret/rotate", key: "admin", valid: true},
	{op: rotate, status: 415, path: acme + "/jwt-secret/rotate", key: "admin", body: `now`, headers: []string{"Content-Type", "text/plain"}},
	{op: rotate, status: 500, path: acme + "/jwt-secret/rotate", key: "admin", broken: true, valid: true},

	{op: signOut, status: 200, path: acme + "/users/Jane@Acme.example/sessions", key: "scoped", valid: true},
	{op: signOut, status: 400, path: acme + "/users/jane/sessions", key: "admin"},
	{op: signOut, status: 401, path: acme + "/users/jane@acme.example/sessions", key: "none"},
	{op: signOut, status: 403, path: acme + "/users/jane@acme.example/sessions", key: "admin", headers: crossSite},
	{op: signOut, status: 404, path: acme + "/users/jane@acme.example/sessions", key: "other", valid: true},
	{op: signOut, status: 500, path: acme + "/users/jane@acme.example/sessions", key: "admin", broken: true, valid: true},
}

func newValidator(t *testing.T) validator.Validator {
	t.Helper()
	doc, err := libopenapi.NewDocument(orgapi.OpenAPIDocument())
	require.NoError(t, err)
	// Strict: a member or header the document does not declare fails. The
	// two headers every answer carries (orgapi's own tests check them) are
	// left out of the document.
	v, errs := validator.NewValidator(doc, config.WithStrictMode(), config.WithFormatAssertions(),
		config.WithStrictIgnoredHeadersExtra("Cache-Control", "X-Content-Type-Options"))
	require.Empty(t, errs)
	return v
}

// The document is valid OpenAPI 3.1.
func TestDocumentIsValidOpenAPI31(t *testing.T) {
	v := newValidator(t)
	ok, errs := v.ValidateDocument()
	for _, e := range errs {
		t.Errorf("%s: %s", e.Message, e.Reason)
	}
	assert.True(t, ok)
	assert.Contains(t, string(orgapi.OpenAPIDocument()), "openapi: 3.1.0")
}

// Every answer of the handler, for each operation and each status the
// document lists, is what the document says; and every status the document
// lists for an operation is one the handler really gives.
func TestAnswersFollowTheDocument(t *testing.T) {
	v := newValidator(t)
	a := orgapitest.NewApp(t, orgapitest.MemoryStores())
	a.CreateAcme(t)
	_, jane := a.Login(t, mustSecret(t, a), "jane@acme.example")
	require.NotNil(t, jane)
	other := a.NewKey(t, orgapi.KeyScope{OrgIDs: []string{"org_other"}})

	broken := orgapitest.MemoryStores()
	broken.Orgs = failingOrgs{&memstore.Store{}}
	b := orgapitest.NewApp(t, broken)

	exercised := map[string]bool{}
	for _, c := range calls {
		name := fmt.Sprintf("%s %d %s", c.op, c.status, c.path)
		t.Run(name, func(t *testing.T) {
			app := a
			if c.broken {
				app = b
			}
			key := map[string]string{"admin": app.Admin, "scoped": app.Scoped, "other": other, "none": ""}[c.key]
			if _, named := map[string]bool{"admin": true, "scoped": true, "other": true, "none": true}[c.key]; !named {
				key = c.key
			}
			method := strings.SplitN(c.op, " ", 2)[0]
			req := request(method, c.path, key, c.body, c.headers)
			w := httptest.NewRecorder()
			app.API.ServeHTTP(w, req)
			require.Equal(t, c.status, w.Code, "body: %s", w.Body)
			exercised[fmt.Sprintf("%s %d", c.op, c.status)] = true

			// The validator reads the request again: give it a fresh one.
			res := w.Result()
			ok, errs := v.ValidateHttpResponse(request(method, c.path, key, c.body, c.headers), res)
			for _, e := range errs {
				t.Errorf("answer: %s: %s", e.Message, e.Reason)
			}
			assert.True(t, ok, "answer: %s", w.Body)
			if c.valid {
				ok, errs := v.ValidateHttpRequest(request(method, c.path, key, c.body, c.headers))
				for _, e := range errs {
					t.Errorf("request: %s: %s", e.Message, e.Reason)
				}
				assert.True(t, ok)
			}
		})
	}

	doc, err := libopenapi.NewDocument(orgapi.OpenAPIDocument())
	require.NoError(t, err)
	model, err := doc.BuildV3Model()
	require.NoError(t, err)
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			for status := range op.Responses.Codes.KeysFromOldest() {
				k := fmt.Sprintf("%s %s %s", strings.ToUpper(method), path, status)
				assert.True(t, exercised[k], "the document lists %s, which no call exercised", k)
			}
		}
	}
}

func mustSecret(t *testing.T, a *orgapitest.App) string {
	t.Helper()
	org, err := a.Stores.Orgs.FindOrg(context.Background(), "org_acme")
	require.NoError(t, err)
	return org.Secrets[0].Value
}

func request(method, path, key, body string, headers []string) *http.Request {
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
		r.Header.Set(headers[i], headers[i+1])
	}
	return r
}
