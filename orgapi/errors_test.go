package orgapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/embedsso/embedsso/memstore"
	"github.com/embedsso/embedsso/orgapi"
	"github.com/embedsso/embedsso/orgapi/orgapitest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// brokenOrgs is an org store whose database is down; its error text holds
// what must never reach a client.
type brokenOrgs struct{ *memstore.Store }

var errDatabaseDown = errors.New("dial tcp 10.0.0.7:5432: password=hunter2 refused")

func (brokenOrgs) FindOrgRecord(context.Context, string) (orgapi.OrgRecord, error) {
	return orgapi.OrgRecord{}, errDatabaseDown
}

// Every error status the API answers with, each with its exact body.
func TestErrorAnswers(t *testing.T) {
	t.Parallel()
	a := orgapitest.NewApp(t, orgapitest.MemoryStores())
	a.CreateAcme(t)
	other := a.NewKey(t, orgapi.KeyScope{OrgIDs: []string{"org_other"}})
	revoked := a.NewKey(t, orgapi.KeyScope{Admin: true})
	require.NoError(t, a.Stores.Keys.RevokeAPIKey(context.Background(), strings.Split(revoked, "_")[1]))
	wrongSecret := a.Admin[:len(a.Admin)-4] + "AAAA"

	broken := orgapitest.MemoryStores()
	broken.Orgs = brokenOrgs{&memstore.Store{}}
	b := orgapitest.NewApp(t, broken)

	const (
		orgs     = "/api/public/organizations"
		acme     = orgs + "/org_acme"
		badJSON  = `{"error":{"code":"invalid_json","message":"The body is not valid JSON."}}`
		unauth   = `{"error":{"code":"unauthorized","message":"A valid API key is required in the header Authorization: Bearer esk_…"}}`
		notFound = `{"error":{"code":"not_found","message":"No organization with this id."}}`
		notJSON  = `{"error":{"code":"unsupported_media_type","message":"The body must be application/json."}}`
	)
	for _, tc := range []struct {
		name       string
		app        *orgapitest.App
		method     string
		path, key  string
		body       string
		headers    []string
		status     int
		want       string
		wantHeader []string // name, value
	}{
		{name: "malformed JSON is 400 invalid_json", method: "POST", path: orgs, key: "admin", body: `{"name":`,
			status: 400, want: badJSON},
		{name: "an unknown field is 400 unknown_field", method: "POST", path: orgs, key: "admin", body: `{"name":"x","color":"red"}`,
			status: 400, want: `{"error":{"code":"unknown_field","message":"Unknown field \"color\"."}}`},
		{name: "a field of the wrong type is 400 invalid_field", method: "PATCH", path: acme, key: "admin", body: `{"embedAllowedRoles":"ADMIN"}`,
			status: 400, want: `{"error":{"code":"invalid_field","message":"embedAllowedRoles must be an array of strings."}}`},
		{name: "an invalid origin is 400 invalid_field", method: "POST", path: orgs, key: "admin", body: `{"name":"x","embedAllowedOrigins":["https://a.example/app"]}`,
			status: 400, want: `{"error":{"code":"invalid_field","message":"embedAllowedOrigins[0] \"https://a.example/app\" is not an origin (scheme://host[:port], or https://*.domain): not a bare scheme://host[:port]."}}`},
		{name: "a secret too short is 400 invalid_field", method: "POST", path: orgs, key: "admin", body: `{"name":"x","jwtSecret":"short"}`,
			status: 400, want: `{"error":{"code":"invalid_field","message":"jwtSecret is 5 bytes; HS256 needs at least 32."}}`},
		{name: "a body over 64 KiB is 400 body_too_large", method: "POST", path: orgs, key: "admin", body: `{"name":"` + strings.Repeat("x", 70_000) + `"}`,
			status: 400, want: `{"error":{"code":"body_too_large","message":"The body is larger than 65536 bytes."}}`},
		{name: "an unknown include is 400 invalid_parameter", method: "GET", path: acme + "?include=everything", key: "admin",
			status: 400, want: `{"error":{"code":"invalid_parameter","message":"include accepts only jwtSecret."}}`},
		{name: "an invalid email in the path is 400 invalid_parameter", method: "DELETE", path: acme + "/users/not-an-email/sessions", key: "admin",
			status: 400, want: `{"error":{"code":"invalid_parameter","message":"The email in the path is not a valid address."}}`},

		{name: "no key is 401", method: "GET", path: acme, status: 401, want: unauth,
			wantHeader: []string{"WWW-Authenticate", `Bearer realm="embedsso"`}},
		{name: "another scheme is 401", method: "GET", path: acme, headers: []string{"Authorization", "Basic YWRtaW46YWRtaW4="}, status: 401, want: unauth},
		{name: "a malformed key is 401", method: "GET", path: acme, key: "esk_not-a-key", status: 401, want: unauth},
		{name: "a key with an unknown id is 401", method: "GET", path: acme, key: "esk_0000000000000000_" + strings.Repeat("A", 43), status: 401, want: unauth},
		{name: "a known id with the wrong secret is 401", method: "GET", path: acme, key: wrongSecret, status: 401, want: unauth},
		{name: "a revoked key is 401", method: "GET", path: acme, key: revoked, status: 401, want: unauth},

		{name: "a cross-site browser request is 403", method: "POST", path: orgs, key: "admin", body: `{"name":"x"}`,
			headers: []string{"Sec-Fetch-Site", "cross-site"}, status: 403,
			want: `{"error":{"code":"cross_origin_request","message":"This API is for servers: cross-site browser requests are refused."}}`},
		{name: "a request from another origin without Sec-Fetch-Site is 403", method: "PATCH", path: acme, key: "admin", body: `{"name":"x"}`,
			headers: []string{"Origin", "https://evil.example"}, status: 403,
			want: `{"error":{"code":"cross_origin_request","message":"This API is for servers: cross-site browser requests are refused."}}`},
		{name: "a cross-site GET is 403: it would read a secret", method: "GET", path: acme + "?include=jwtSecret", key: "admin",
			headers: []string{"Sec-Fetch-Site", "cross-site"}, status: 403,
			want: `{"error":{"code":"cross_origin_request","message":"This API is for servers: cross-site browser requests are refused."}}`},
		{name: "a same-site GET from another origin is 403", method: "GET", path: acme, key: "admin",
			headers: []string{"Sec-Fetch-Site", "same-site"}, status: 403,
			want: `{"error":{"code":"cross_origin_request","message":"This API is for servers: cross-site browser requests are refused."}}`},
		{name: "a cross-site HEAD is 403", method: "HEAD", path: acme, key: "admin",
			headers: []string{"Sec-Fetch-Site", "cross-site"}, status: 403,
			want: `{"error":{"code":"cross_origin_request","message":"This API is for servers: cross-site browser requests are refused."}}`},
		{name: "a GET from another origin without Sec-Fetch-Site is 403", method: "GET", path: acme, key: "admin",
			headers: []string{"Origin", "https://evil.example"}, status: 403,
			want: `{"error":{"code":"cross_origin_request","message":"This API is for servers: cross-site browser requests are refused."}}`},
		{name: "a cross-site OPTIONS is 403", method: "OPTIONS", path: acme, key: "admin",
			headers: []string{"Sec-Fetch-Site", "cross-site"}, status: 403,
			want: `{"error":{"code":"cross_origin_request","message":"This API is for servers: cross-site browser requests are refused."}}`},
		{name: "a NUL in the path's id is 400 invalid_parameter", method: "GET", path: orgs + "/a%00b", key: "admin", status: 400,
			want: `{"error":{"code":"invalid_parameter","message":"The organization id in the path must be at most 256 bytes of UTF-8 text without control characters."}}`},
		{name: "creating with a key scoped to organizations is 403", method: "POST", path: orgs, key: other, body: `{"name":"x"}`,
			status: 403, want: `{"error":{"code":"forbidden","message":"Only an instance admin key can create organizations."}}`},

		{name: "an unknown organization is 404", method: "GET", path: orgs + "/org_nope", key: "admin", status: 404, want: notFound},
		{name: "another organization than the key's is 404", method: "GET", path: acme, key: other, status: 404, want: notFound},
		{name: "an unknown path is 404", method: "GET", path: "/api/public/widgets", key: "admin", status: 404,
			want: `{"error":{"code":"not_found","message":"No such endpoint."}}`},

		{name: "a method the endpoint does not accept is 405", method: "PUT", path: acme, key: "admin", body: `{"name":"x"}`,
			status: 405, want: `{"error":{"code":"method_not_allowed","message":"This endpoint accepts GET, HEAD, PATCH."}}`,
			wantHeader: []string{"Allow", "GET, HEAD, PATCH"}},
		{name: "GET on the rotation endpoint is 405", method: "GET", path: acme + "/jwt-secret/rotate", key: "admin",
			status: 405, want: `{"error":{"code":"method_not_allowed","message":"This endpoint accepts POST."}}`,
			wantHeader: []string{"Allow", "POST"}},

		{name: "an id that exists is 409", method: "POST", path: orgs, key: "admin", body: `{"id":"org_acme","name":"Again"}`,
			status: 409, want: `{"error":{"code":"org_exists","message":"An organization with this id exists."}}`},

		{name: "text/plain is 415", method: "POST", path: orgs, key: "admin", body: `{"name":"x"}`,
			headers: []string{"Content-Type", "text/plain"}, status: 415, want: notJSON},
		{name: "a form is 415", method: "PATCH", path: acme, key: "admin", body: `name=x`,
			headers: []string{"Content-Type", "application/x-www-form-urlencoded"}, status: 415, want: notJSON},
		{name: "no content type is 415", method: "POST", path: orgs, key: "admin", body: `{"name":"x"}`,
			headers: []string{"Content-Type", ""}, status: 415, want: notJSON},
		{name: "JSON in another charset is 415", method: "POST", path: orgs, key: "admin", body: `{"name":"x"}`,
			headers: []string{"Content-Type", "application/json; charset=iso-8859-1"}, status: 415, want: notJSON},
		{name: "a rotation with a text body is 415", method: "POST", path: acme + "/jwt-secret/rotate", key: "admin", body: `now`,
			headers: []string{"Content-Type", "text/plain"}, status: 415, want: notJSON},

		{name: "a store failure is 500 and says nothing of it", app: b, method: "GET", path: acme, key: "admin",
			status: 500, want: `{"error":{"code":"internal","message":"Something went wrong on our side. Please try again."}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := a
			if tc.app != nil {
				app = tc.app
			}
			key := tc.key
			if key == "admin" {
				key = app.Admin
			}
			w := app.Call(tc.method, tc.path, key, tc.body, tc.headers...)
			assert.Equal(t, tc.status, w.Code)
			assert.Equal(t, tc.want+"\n", w.Body.String())
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
			for i := 0; i+1 < len(tc.wantHeader); i += 2 {
				assert.Equal(t, tc.wantHeader[i+1], w.Header().Get(tc.wantHeader[i]))
			}
		})
	}
	after, err := a.Stores.Orgs.FindOrgRecord(context.Background(), "org_acme")
	require.NoError(t, err)
	assert.Equal(t, "Acme", after.Name, "no refused request changed org_acme")
}

// A 500's cause reaches the log, never the answer; keys never reach either.
func TestStoreFailureIsLoggedNotShown(t *testing.T) {
	t.Parallel()
	var log strings.Builder
	s := orgapitest.MemoryStores()
	key, rec, err := orgapi.NewKey("ops", orgapi.KeyScope{Admin: true}, orgapitest.Start)
	require.NoError(t, err)
	require.NoError(t, s.Keys.CreateAPIKey(context.Background(), rec))
	h, err := orgapi.New(orgapi.Config{Orgs: brokenOrgs{&memstore.Store{}}, Keys: s.Keys, Sessions: s.Sessions,
		Logger: newTextLogger(&log)})
	require.NoError(t, err)
	r := httptest.NewRequest("GET", "/api/public/organizations/org_acme", nil)
	r.Header.Set("Authorization", "Bearer "+key)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.NotContains(t, w.Body.String(), "hunter2")
	assert.Contains(t, log.String(), "hunter2", "the cause is logged")
	assert.Contains(t, log.String(), "code=internal")
	assert.NotContains(t, log.String(), key)
}

// A refused request's log line holds at most maxLogged bytes of its path
// and method, however long they are: the line is written before the key is
// checked.
func TestRefusedRequestLogIsBounded(t *testing.T) {
	t.Parallel()
	var log strings.Builder
	s := orgapitest.MemoryStores()
	h, err := orgapi.New(orgapi.Config{Orgs: s.Orgs, Keys: s.Keys, Sessions: s.Sessions, Logger: newTextLogger(&log)})
	require.NoError(t, err)
	long := "/api/public/organizations/" + strings.Repeat("é", 500_000) // 1 MB
	r := httptest.NewRequest("GET", long, nil)
	r.Method = strings.Repeat("X", 100_000)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	require.Len(t, lines, 1)
	assert.Less(t, len(lines[0]), 1024, "the line is bounded")
	assert.Contains(t, lines[0], "(1000026 bytes)", "the line says how long the path was")
	assert.Contains(t, lines[0], "(100000 bytes)", "and the method")
	assert.Contains(t, lines[0], "code=unauthorized")
}

// The stores' error kinds are matched with errors.Is, wrapped or not, and
// keep the text they had as embedsso kinds.
func TestStoreErrorKinds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind orgapi.Kind
		text string
	}{
		{orgapi.ErrOrgExists, "embedsso: org_exists"},
		{orgapi.ErrAPIKeyNotFound, "embedsso: api_key_not_found"},
		{orgapi.ErrAPIKeyExists, "embedsso: api_key_exists"},
	} {
		assert.Equal(t, tc.text, tc.kind.Error())
		wrapped := fmt.Errorf("store: %w", tc.kind)
		assert.True(t, errors.Is(wrapped, tc.kind), tc.text)
		for _, other := range []orgapi.Kind{orgapi.ErrOrgExists, orgapi.ErrAPIKeyNotFound, orgapi.ErrAPIKeyExists} {
			if other != tc.kind {
				assert.False(t, errors.Is(wrapped, other), "%s is not %s", tc.text, other)
			}
		}
	}
}
