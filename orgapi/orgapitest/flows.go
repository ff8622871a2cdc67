package orgapitest

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/orgapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFlows runs the organization API's rules end to end over the stores
// newStores returns (new and empty for each call), one subtest per rule.
func TestFlows(t *testing.T, newStores func(t *testing.T) Stores) {
	ctx := context.Background()

	t.Run("an org created through the API signs its users in with the returned secret", func(t *testing.T) {
		a := NewApp(t, newStores(t))
		o := a.CreateAcme(t)
		assert.Equal(t, "org_acme", o.ID)
		assert.True(t, o.FullEmbedEnabled)
		assert.Equal(t, []string{Customer}, o.EmbedAllowedOrigins)
		status, cookie := a.Login(t, o.JWTSecret, "jane@acme.example")
		require.Equal(t, http.StatusFound, status, "refused: %s", a.LastCode())
		require.NotNil(t, cookie)
		assert.True(t, a.SignedIn(t, cookie))
	})

	t.Run("the secret is in an answer only when asked for with include=jwtSecret", func(t *testing.T) {
		a := NewApp(t, newStores(t))
		w := a.Call("POST", "/api/public/organizations", a.Admin, AcmeBody)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		assert.NotContains(t, w.Body.String(), `"jwtSecret"`)
		stored, err := a.Stores.Orgs.FindOrg(ctx, "org_acme")
		require.NoError(t, err)
		require.Len(t, stored.Secrets, 1)
		secret := stored.Secrets[0].Value
		for _, c := range []struct{ method, path, body string }{
			{"GET", "/api/public/organizations/org_acme", ""},
			{"PATCH", "/api/public/organizations/org_acme", `{"name":"Acme 2"}`},
		} {
			w := a.Call(c.method, c.path, a.Admin, c.body)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.NotContains(t, w.Body.String(), `"jwtSecret"`, "%s without include", c.method)
			assert.NotContains(t, w.Body.String(), secret, "%s without include", c.method)
			w = a.Call(c.method, c.path+"?include=jwtSecret", a.Admin, c.body)
			assert.Equal(t, secret, Data(t, w, http.StatusOK).JWTSecret, "%s with include", c.method)
		}
	})

	t.Run("a rotation keeps both secrets working for the grace period, then only the new one, and the old one leaves the store", func(t *testing.T) {
		a := NewApp(t, newStores(t))
		old := a.CreateAcme(t).JWTSecret
		rotated := Data(t, a.Call("POST", "/api/public/organizations/org_acme/jwt-secret/rotate", a.Admin, ""), http.StatusOK)
		require.NotEmpty(t, rotated.JWTSecret)
		require.NotEqual(t, old, rotated.JWTSecret)
		require.Len(t, rotated.JWTSecrets, 2)
		assert.Equal(t, rotated.JWTSecretKeyID, rotated.JWTSecrets[0].KeyID)
		assert.Nil(t, rotated.JWTSecrets[0].ExpiresAt, "the new secret is current")
		require.NotNil(t, rotated.JWTSecrets[1].ExpiresAt)
		assert.Equal(t, Start.Add(orgapi.DefaultRotationGrace), rotated.JWTSecrets[1].ExpiresAt.UTC())

		a.Advance(orgapi.DefaultRotationGrace - time.Second)
		for name, s := range map[string]string{"old": old, "new": rotated.JWTSecret} {
			status, _ := a.Login(t, s, "jane@acme.example")
			assert.Equal(t, http.StatusFound, status, "the %s secret during the grace period: %s", name, a.LastCode())
		}
		a.Advance(time.Second)
		status, _ := a.Login(t, old, "jane@acme.example")
		assert.Equal(t, http.StatusUnauthorized, status)
		assert.Equal(t, "signature_invalid", a.LastCode())
		status, _ = a.Login(t, rotated.JWTSecret, "jane@acme.example")
		assert.Equal(t, http.StatusFound, status, a.LastCode())

		got := Data(t, a.Call("GET", "/api/public/organizations/org_acme", a.Admin, ""), http.StatusOK)
		assert.Len(t, got.JWTSecrets, 1)
		stored, err := a.Stores.Orgs.FindOrg(ctx, "org_acme")
		require.NoError(t, err)
		require.Len(t, stored.Secrets, 1, "the expired secret is gone from the store")
		assert.Equal(t, rotated.JWTSecret, stored.Secrets[0].Value)
	})

	t.Run("disabling embedding makes the next login 403 and ends the organization's sessions", func(t *testing.T) {
		a := NewApp(t, newStores(t))
		secret := a.CreateAcme(t).JWTSecret
		_, jane := a.Login(t, secret, "jane@acme.example")
		_, sam := a.Login(t, secret, "sam@acme.example")
		require.True(t, a.SignedIn(t, jane))
		require.True(t, a.SignedIn(t, sam))

		o := Data(t, a.Call("PATCH", "/api/public/organizations/org_acme", a.Admin, `{"fullEmbedEnabled":false}`), http.StatusOK)
		assert.False(t, o.FullEmbedEnabled)
		status, cookie := a.Login(t, secret, "jane@acme.example")
		assert.Equal(t, http.StatusForbidden, status)
		assert.Equal(t, "embedding_disabled", a.LastCode())
		assert.Nil(t, cookie)
		assert.False(t, a.SignedIn(t, jane), "jane's session ended")
		assert.False(t, a.SignedIn(t, sam), "sam's session ended")

		Data(t, a.Call("PATCH", "/api/public/organizations/org_acme", a.Admin, `{"fullEmbedEnabled":true}`), http.StatusOK)
		status, _ = a.Login(t, secret, "jane@acme.example")
		assert.Equal(t, http.StatusFound, status, "enabled again: %s", a.LastCode())
	})

	testEpochFlows(t, newStores)

	t.Run("DELETE users/{email}/sessions signs that user out everywhere and no one else", func(t *testing.T) {
		a := NewApp(t, newStores(t))
		secret := a.CreateAcme(t).JWTSecret
		_, laptop := a.Login(t, secret, "jane@acme.example")
		_, phone := a.Login(t, secret, "jane@acme.example")
		_, sam := a.Login(t, secret, "sam@acme.example")
		w := a.Call("DELETE", "/api/public/organizations/org_acme/users/Jane@ACME.example/sessions", a.Scoped, "")
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.JSONEq(t, `{"data":{"orgId":"org_acme","email":"jane@acme.example","sessionsRevoked":2}}`, w.Body.String())
		assert.False(t, a.SignedIn(t, laptop))
		assert.False(t, a.SignedIn(t, phone))
		assert.True(t, a.SignedIn(t, sam))
	})

	t.Run("a key scoped to one organization manages it and sees no other", func(t *testing.T) {
		a := NewApp(t, newStores(t))
		a.CreateAcme(t)
		Data(t, a.Call("POST", "/api/public/organizations", a.Admin, `{"id":"org_other","name":"Other"}`), http.StatusCreated)
		before, err := a.Stores.Orgs.FindOrgRecord(ctx, "org_other")
		require.NoError(t, err)

		Data(t, a.Call("GET", "/api/public/organizations/org_acme", a.Scoped, ""), http.StatusOK)
		Data(t, a.Call("PATCH", "/api/public/organizations/org_acme", a.Scoped, `{"name":"Acme Corp"}`), http.StatusOK)
		unknown := a.Call("GET", "/api/public/organizations/org_nope", a.Scoped, "")
		for _, c := range []struct{ method, path, body string }{
			{"GET", "/api/public/organizations/org_other", ""},
			{"PATCH", "/api/public/organizations/org_other", `{"name":"Taken over"}`},
			{"POST", "/api/public/organizations/org_other/jwt-secret/rotate", ""},
			{"DELETE", "/api/public/organizations/org_other/users/jane@acme.example/sessions", ""},
		} {
			w := a.Call(c.method, c.path, a.Scoped, c.body)
			assert.Equal(t, http.StatusNotFound, w.Code, "%s %s", c.method, c.path)
			assert.Equal(t, unknown.Body.String(), w.Body.String(), "the same answer as for an unknown id")
		}
		w := a.Call("POST", "/api/public/organizations", a.Scoped, `{"id":"org_mine","name":"Mine"}`)
		assert.Equal(t, http.StatusForbidden, w.Code)
		after, err := a.Stores.Orgs.FindOrgRecord(ctx, "org_other")
		require.NoError(t, err)
		assert.Equal(t, before, after, "nothing about org_other changed")
		_, err = a.Stores.Orgs.FindOrgRecord(ctx, "org_mine")
		assert.True(t, errors.Is(err, embedsso.ErrOrgNotFound), "got %v", err)
	})

	t.Run("a revoked key is refused at once", func(t *testing.T) {
		a := NewApp(t, newStores(t))
		a.CreateAcme(t)
		require.Equal(t, http.StatusOK, a.Call("GET", "/api/public/organizations/org_acme", a.Scoped, "").Code)
		id := strings.SplitN(strings.TrimPrefix(a.Scoped, "esk_"), "_", 2)[0]
		require.NoError(t, a.Stores.Keys.RevokeAPIKey(ctx, id))
		assert.Equal(t, http.StatusUnauthorized, a.Call("GET", "/api/public/organizations/org_acme", a.Scoped, "").Code)
	})

	t.Run("a path id with a NUL, invalid UTF-8 or a control character is answered 400, logs no error and reaches no store", func(t *testing.T) {
		s := newStores(t)
		a := NewApp(t, s)
		a.CreateAcme(t)
		// An API of its own over the same stores, whose organization and
		// session stores record every id they are asked about, and whose
		// log the test reads.
		spy := &idSpy{OrgAdmin: s.Orgs, Sessions: s.Sessions}
		var log lockedBuffer
		api, err := orgapi.New(orgapi.Config{Orgs: spy, Keys: s.Keys, Sessions: spy, Now: a.Now,
			Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		require.NoError(t, err)
		ids := map[string]string{
			"a NUL":                               "a%00b",
			"a lone 0xff byte":                    "%ff",
			"an overlong NUL":                     "a%c0%80b",
			"a newline":                           "a%0Ab",
			"DEL":                                 "a%7Fb",
			"a right-to-left override":            "a%E2%80%AEb",
			"257 bytes":                           strings.Repeat("a", 257),
			"a NUL in the id of an org a key has": "org_acme%00",
		}
		routes := []struct{ method, path, body string }{
			{"GET", "/api/public/organizations/%s", ""},
			{"PATCH", "/api/public/organizations/%s", `{"name":"x"}`},
			{"POST", "/api/public/organizations/%s/jwt-secret/rotate", ""},
			{"DELETE", "/api/public/organizations/%s/users/jane@acme.example/sessions", ""},
		}
		for name, id := range ids {
			for _, rt := range routes {
				for keyName, key := range map[string]string{"admin": a.Admin, "scoped": a.Scoped} {
					path := strings.Replace(rt.path, "%s", id, 1)
					r := httptest.NewRequest(rt.method, path, strings.NewReader(rt.body))
					if rt.body != "" {
						r.Header.Set("Content-Type", "application/json")
					}
					r.Header.Set("Authorization", "Bearer "+key)
					w := httptest.NewRecorder()
					api.ServeHTTP(w, r)
					assert.Equal(t, http.StatusBadRequest, w.Code, "%s %s (%s, %s key): %s", rt.method, path, name, keyName, w.Body.String())
					var e struct{ Error struct{ Code string } }
					if assert.NoError(t, json.Unmarshal(w.Body.Bytes(), &e), w.Body.String()) {
						assert.Equal(t, "invalid_parameter", e.Error.Code, "%s %s", rt.method, path)
					}
				}
			}
		}
		assert.Empty(t, spy.seen(), "ids a store was asked about")
		assert.NotContains(t, log.String(), "level=ERROR")
		after, err := s.Orgs.FindOrgRecord(ctx, "org_acme")
		require.NoError(t, err)
		assert.Equal(t, "Acme", after.Name, "org_acme unchanged")
		// The same routes with a good id still reach the store.
		w := a.Call("GET", "/api/public/organizations/org_acme", a.Scoped, "")
		assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	})

	t.Run("refused inputs are answered 400 and write nothing", func(t *testing.T) {
		a := NewApp(t, newStores(t))
		a.CreateAcme(t)
		before, err := a.Stores.Orgs.FindOrgRecord(ctx, "org_acme")
		require.NoError(t, err)
		for _, c := range BadInputs {
			method, path, body := "POST", "/api/public/organizations", `{"id":"org_bad",`+c.Body
			if c.Patch {
				method, path, body = "PATCH", "/api/public/organizations/org_acme", "{"+c.Body
			}
			if c.Raw != "" {
				body = c.Raw
			}
			t.Run(c.Name, func(t *testing.T) {
				w := a.Call(method, path, a.Admin, body)
				assert.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
				var e struct{ Error struct{ Code string } }
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e), w.Body.String())
				assert.Equal(t, c.Code, e.Error.Code, w.Body.String())
				_, err := a.Stores.Orgs.FindOrgRecord(ctx, "org_bad")
				assert.True(t, errors.Is(err, embedsso.ErrOrgNotFound), "created: %v", err)
				after, err := a.Stores.Orgs.FindOrgRecord(ctx, "org_acme")
				require.NoError(t, err)
				assert.Equal(t, before, after, "org_acme changed")
			})
		}
	})
}

// BadInput is a request body the API must refuse with 400 and Code. Body
// continues a create body after `{"id":"org_bad",` (a PATCH body after
// `{` when Patch is set); Raw, when set, is the whole body.
type BadInput struct {
	Name  string
	Patch bool
	Body  string
	Raw   string
	Code  string
}

// BadInputs are the refused bodies of [TestFlows].
var BadInputs = []BadInput{
	{Name: "a name that is a number", Body: `"name":5}`, Code: "invalid_field"},
	{Name: "a null name", Body: `"name":null}`, Code: "invalid_field"},
	{Name: "no name on create", Body: `"fullEmbedEnabled":true}`, Code: "invalid_field"},
	{Name: "an empty name", Body: `"name":"  "}`, Code: "invalid_field"},
	{Name: "a name with a control character", Body: `"name":"A\u0000B"}`, Code: "invalid_field"},
	{Name: "fullEmbedEnabled as a string", Body: `"name":"x","fullEmbedEnabled":"yes"}`, Code: "invalid_field"},
	{Name: "origins as a string, not an array", Body: `"name":"x","embedAllowedOrigins":"https://a.example"}`, Code: "invalid_field"},
	{Name: "an origin that is a number", Body: `"name":"x","embedAllowedOrigins":[1]}`, Code: "invalid_field"},
	{Name: "roles as an object", Body: `"name":"x","embedAllowedRoles":{"a":1}}`, Code: "invalid_field"},
	{Name: "an unknown field", Body: `"name":"x","jwt_secret":"0123456789abcdef0123456789abcdef"}`, Code: "unknown_field"},
	{Name: "a field name in another case", Body: `"Name":"x"}`, Code: "unknown_field"},
	{Name: "a member given twice", Body: `"name":"a","name":"b"}`, Code: "invalid_json"},
	{Name: "trailing data after the object", Body: `"name":"x"} {}`, Code: "invalid_json"},
	{Name: "truncated JSON", Body: `"name":`, Code: "invalid_json"},
	{Name: "an array instead of an object", Raw: `[{"id":"org_bad","name":"x"}]`, Code: "invalid_json"},
	{Name: "a 100 KB body", Body: `"name":"` + strings.Repeat("a", 100_000) + `"}`, Code: "body_too_large"},
	{Name: "10,000 origins", Body: `"name":"x","embedAllowedOrigins":[` + strings.TrimSuffix(strings.Repeat(`"https://a.example",`, 10_000), ",") + `]}`, Code: "body_too_large"},
	{Name: "101 origins", Body: `"name":"x","embedAllowedOrigins":[` + manyOrigins(101) + `]}`, Code: "invalid_field"},
	{Name: "an origin with a path", Body: `"name":"x","embedAllowedOrigins":["https://a.example/app"]}`, Code: "invalid_field"},
	{Name: "an origin with userinfo", Body: `"name":"x","embedAllowedOrigins":["https://user:pw@a.example"]}`, Code: "invalid_field"},
	{Name: "a javascript: origin", Body: `"name":"x","embedAllowedOrigins":["javascript:alert(1)"]}`, Code: "invalid_field"},
	{Name: "a bare wildcard origin", Body: `"name":"x","embedAllowedOrigins":["*"]}`, Code: "invalid_field"},
	{Name: "a wildcard over a top-level domain", Body: `"name":"x","embedAllowedOrigins":["https://*.com"]}`, Code: "invalid_field"},
	{Name: "an origin that would break the CSP header", Body: `"name":"x","embedAllowedOrigins":["https://a.example; script-src *"]}`, Code: "invalid_field"},
	{Name: "a javascript: dashboard URL", Body: `"name":"x","embedDashboardUrl":"javascript:alert(1)"}`, Code: "invalid_field"},
	{Name: "a dashboard URL on another site", Body: `"name":"x","embedDashboardUrl":"https://evil.example/phish"}`, Code: "invalid_field"},
	{Name: "a protocol-relative dashboard URL", Body: `"name":"x","embedDashboardUrl":"//evil.example"}`, Code: "invalid_field"},
	{Name: "a dashboard URL that dot segments take off-site", Body: `"name":"x","embedDashboardUrl":"/.//evil.example"}`, Code: "invalid_field"},
	{Name: "a dashboard URL with a backslash", Body: `"name":"x","embedDashboardUrl":"/\\evil.example"}`, Code: "invalid_field"},
	{Name: "a login URL that is not https", Body: `"name":"x","embedAllowedOrigins":["http://portal.example"],"embedLoginUrl":"http://portal.example/sso"}`, Code: "invalid_field"},
	{Name: "a login URL off the allowed origins", Body: `"name":"x","embedAllowedOrigins":["https://portal.example"],"embedLoginUrl":"https://evil.example/sso"}`, Code: "invalid_field"},
	{Name: "a login URL without any allowed origin", Body: `"name":"x","embedLoginUrl":"https://portal.example/sso"}`, Code: "invalid_field"},
	{Name: "a javascript: login URL", Body: `"name":"x","embedAllowedOrigins":["https://portal.example"],"embedLoginUrl":"javascript:alert(1)"}`, Code: "invalid_field"},
	{Name: "a login URL with user info", Body: `"name":"x","embedAllowedOrigins":["https://portal.example"],"embedLoginUrl":"https://a@portal.example/sso"}`, Code: "invalid_field"},
	{Name: "a secret shorter than 32 bytes", Body: `"name":"x","jwtSecret":"too-short-secret"}`, Code: "invalid_field"},
	{Name: "a secret with a trailing newline", Body: `"name":"x","jwtSecret":"0123456789abcdef0123456789abcdef\n"}`, Code: "invalid_field"},
	{Name: "an empty group", Body: `"name":"x","embedAllowedGroups":["finance","  "]}`, Code: "invalid_field"},
	{Name: "101 groups", Body: `"name":"x","embedAllowedGroups":[` + strings.TrimSuffix(strings.Repeat(`"g",`, 101), ",") + `]}`, Code: "invalid_field"},
	{Name: "a role with a space", Body: `"name":"x","embedAllowedRoles":["SUPER USER"]}`, Code: "invalid_field"},
	{Name: "an empty role", Body: `"name":"x","embedAllowedRoles":[""]}`, Code: "invalid_field"},
	{Name: "an id with a slash", Raw: `{"id":"a/b","name":"x"}`, Code: "invalid_field"},
	{Name: "an id of 65 bytes", Raw: `{"id":"` + strings.Repeat("a", 65) + `","name":"x"}`, Code: "invalid_field"},

	{Name: "a PATCH with a wrong type", Patch: true, Body: `"fullEmbedEnabled":1}`, Code: "invalid_field"},
	{Name: "a PATCH with an unknown field", Patch: true, Body: `"enabled":false}`, Code: "unknown_field"},
	{Name: "a PATCH that changes the id", Patch: true, Body: `"id":"org_bad"}`, Code: "invalid_field"},
	{Name: "a PATCH with an origin with a path, after a valid change", Patch: true, Body: `"name":"Renamed","embedAllowedOrigins":["https://a.example/x"]}`, Code: "invalid_field"},
	{Name: "a PATCH with a javascript: dashboard URL", Patch: true, Body: `"embedDashboardUrl":"javascript:alert(1)"}`, Code: "invalid_field"},
	{Name: "a PATCH with a short secret", Patch: true, Body: `"jwtSecret":"short"}`, Code: "invalid_field"},
	{Name: "a PATCH of 100 KB", Patch: true, Body: `"name":"` + strings.Repeat("a", 100_000) + `"}`, Code: "body_too_large"},
	{Name: "a PATCH with null origins", Patch: true, Body: `"embedAllowedOrigins":null}`, Code: "invalid_field"},
}

func manyOrigins(n int) string {
	l := make([]string, n)
	for i := range l {
		l[i] = `"https://o` + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + `.example"`
	}
	return strings.Join(l, ",")
}

// idSpy records the organization ids its stores are asked about.
type idSpy struct {
	orgapi.OrgAdmin
	Sessions
	mu  sync.Mutex
	ids []string
}

func (s *idSpy) saw(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids = append(s.ids, id)
}

func (s *idSpy) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ids...)
}

func (s *idSpy) FindOrg(ctx context.Context, id string) (embedsso.Org, error) {
	s.saw(id)
	return s.OrgAdmin.FindOrg(ctx, id)
}

func (s *idSpy) FindOrgRecord(ctx context.Context, id string) (orgapi.OrgRecord, error) {
	s.saw(id)
	return s.OrgAdmin.FindOrgRecord(ctx, id)
}

func (s *idSpy) UpdateOrg(ctx context.Context, id string, change func(*orgapi.OrgRecord) error) (orgapi.OrgRecord, error) {
	s.saw(id)
	return s.OrgAdmin.UpdateOrg(ctx, id, change)
}

func (s *idSpy) RevokeOrgSessions(ctx context.Context, orgID string) (int, error) {
	s.saw(orgID)
	return s.Sessions.RevokeOrgSessions(ctx, orgID)
}

func (s *idSpy) RevokeEmailSessions(ctx context.Context, orgID, email string) (int, error) {
	s.saw(orgID)
	return s.Sessions.RevokeEmailSessions(ctx, orgID, email)
}

// lockedBuffer is a log destination that concurrent requests may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
