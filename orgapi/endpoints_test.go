package orgapi_test

import (
	"context"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/orgapi"
	"github.com/embedsso/embedsso/orgapi/orgapitest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEndpoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("an org created without an id gets org_ and 24 hex digits, and a Location", func(t *testing.T) {
		a := orgapitest.NewApp(t, orgapitest.MemoryStores())
		w := a.Call("POST", "/api/public/organizations", a.Admin, `{"name":"Beta"}`)
		o := orgapitest.Data(t, w, http.StatusCreated)
		assert.Regexp(t, regexp.MustCompile(`^org_[0-9a-f]{24}$`), o.ID)
		assert.Equal(t, "/api/public/organizations/"+o.ID, w.Header().Get("Location"))
		assert.False(t, o.FullEmbedEnabled, "embedding is off until enabled")
		assert.Equal(t, []string{}, o.EmbedAllowedOrigins)
		require.Len(t, o.JWTSecrets, 1)
		stored, err := a.Stores.Orgs.FindOrg(ctx, o.ID)
		require.NoError(t, err)
		assert.Len(t, stored.Secrets[0].Value, 43, "a GenerateSecret secret")
	})
	t.Run("origins are stored in canonical form without duplicates", func(t *testing.T) {
		a := orgapitest.NewApp(t, orgapitest.MemoryStores())
		o := orgapitest.Data(t, a.Call("POST", "/api/public/organizations", a.Admin,
			`{"name":"x","embedAllowedOrigins":["HTTPS://Portal.Acme.Example:443","https://portal.acme.example/","https://*.Acme.example"]}`), http.StatusCreated)
		assert.Equal(t, []string{"https://portal.acme.example", "https://*.acme.example"}, o.EmbedAllowedOrigins)
	})
	t.Run("roles and groups are stored without duplicates", func(t *testing.T) {
		a := orgapitest.NewApp(t, orgapitest.MemoryStores())
		o := orgapitest.Data(t, a.Call("POST", "/api/public/organizations", a.Admin,
			`{"id":"org_g","name":"G","embedAllowedRoles":["ADMIN","ADMIN","MEMBER"],"embedAllowedGroups":["finance","eu west","finance"]}`), http.StatusCreated)
		assert.Equal(t, []string{"ADMIN", "MEMBER"}, o.EmbedAllowedRoles)
		assert.Equal(t, []string{"finance", "eu west"}, o.EmbedAllowedGroups)
		stored, err := a.Stores.Orgs.FindOrg(ctx, "org_g")
		require.NoError(t, err)
		assert.Equal(t, []string{"finance", "eu west"}, stored.AllowedGroups)
	})
	t.Run("a PATCH changes only the fields it names", func(t *testing.T) {
		a := orgapitest.NewApp(t, orgapitest.MemoryStores())
		a.CreateAcme(t)
		before, err := a.Stores.Orgs.FindOrgRecord(ctx, "org_acme")
		require.NoError(t, err)
		a.Advance(time.Minute)
		orgapitest.Data(t, a.Call("PATCH", "/api/public/organizations/org_acme", a.Admin, `{"embedDashboardUrl":"/reports?tab=1"}`), http.StatusOK)
		after, err := a.Stores.Orgs.FindOrgRecord(ctx, "org_acme")
		require.NoError(t, err)
		want := before
		want.DashboardURL, want.UpdatedAt = "/reports?tab=1", orgapitest.Start.Add(time.Minute)
		assert.Equal(t, want, after)
	})
	t.Run("a PATCH of jwtSecret replaces every secret at once", func(t *testing.T) {
		a := orgapitest.NewApp(t, orgapitest.MemoryStores())
		old := a.CreateAcme(t).JWTSecret
		fresh := "leak-response-secret-0123456789-abcdefghij"
		o := orgapitest.Data(t, a.Call("PATCH", "/api/public/organizations/org_acme?include=jwtSecret", a.Admin, `{"jwtSecret":"`+fresh+`"}`), http.StatusOK)
		assert.Equal(t, fresh, o.JWTSecret)
		assert.Len(t, o.JWTSecrets, 1)
		status, _ := a.Login(t, old, "jane@acme.example")
		assert.Equal(t, http.StatusUnauthorized, status, "the old secret stops at once")
		status, _ = a.Login(t, fresh, "jane@acme.example")
		assert.Equal(t, http.StatusFound, status)
	})
	t.Run("a change of the organization drops a secret whose grace period is over", func(t *testing.T) {
		a := orgapitest.NewApp(t, orgapitest.MemoryStores())
		a.CreateAcme(t)
		orgapitest.Data(t, a.Call("POST", "/api/public/organizations/org_acme/jwt-secret/rotate", a.Admin, ""), http.StatusOK)
		a.Advance(orgapi.DefaultRotationGrace)
		stored, err := a.Stores.Orgs.FindOrg(ctx, "org_acme")
		require.NoError(t, err)
		require.Len(t, stored.Secrets, 2, "expired, not yet deleted")
		orgapitest.Data(t, a.Call("PATCH", "/api/public/organizations/org_acme", a.Admin, `{"name":"Acme 2"}`), http.StatusOK)
		stored, err = a.Stores.Orgs.FindOrg(ctx, "org_acme")
		require.NoError(t, err)
		assert.Len(t, stored.Secrets, 1)
	})
	t.Run("a rotation takes no body or an empty object, and no fields", func(t *testing.T) {
		a := orgapitest.NewApp(t, orgapitest.MemoryStores())
		a.CreateAcme(t)
		orgapitest.Data(t, a.Call("POST", "/api/public/organizations/org_acme/jwt-secret/rotate", a.Admin, `{}`), http.StatusOK)
		w := a.Call("POST", "/api/public/organizations/org_acme/jwt-secret/rotate", a.Admin, `{"grace":"0s"}`)
		assert.Equal(t, http.StatusBadRequest, w.Code)
		o := orgapitest.Data(t, a.Call("GET", "/api/public/organizations/org_acme", a.Admin, ""), http.StatusOK)
		assert.Len(t, o.JWTSecrets, 2, "one rotation happened, the refused one did not")
	})
	t.Run("Config.RotationGrace sets the grace period", func(t *testing.T) {
		s := orgapitest.MemoryStores()
		a := orgapitest.NewApp(t, s)
		a.CreateAcme(t)
		h, err := orgapi.New(orgapi.Config{Orgs: s.Orgs, Keys: s.Keys, Sessions: s.Sessions, RotationGrace: time.Hour, Now: a.Now})
		require.NoError(t, err)
		a.API = h
		o := orgapitest.Data(t, a.Call("POST", "/api/public/organizations/org_acme/jwt-secret/rotate", a.Admin, ""), http.StatusOK)
		require.NotNil(t, o.JWTSecrets[1].ExpiresAt)
		assert.Equal(t, orgapitest.Start.Add(time.Hour), o.JWTSecrets[1].ExpiresAt.UTC())
	})
	t.Run("New refuses a config without stores or with a negative grace", func(t *testing.T) {
		s := orgapitest.MemoryStores()
		for name, cfg := range map[string]orgapi.Config{
			"no orgs":        {Keys: s.Keys, Sessions: s.Sessions},
			"no keys":        {Orgs: s.Orgs, Sessions: s.Sessions},
			"no sessions":    {Orgs: s.Orgs, Keys: s.Keys},
			"negative grace": {Orgs: s.Orgs, Keys: s.Keys, Sessions: s.Sessions, RotationGrace: -time.Second},
		} {
			_, err := orgapi.New(cfg)
			assert.Error(t, err, name)
		}
	})
	t.Run("the stored org is what the SSO handler reads", func(t *testing.T) {
		a := orgapitest.NewApp(t, orgapitest.MemoryStores())
		a.CreateAcme(t)
		org, err := a.Stores.Orgs.FindOrg(ctx, "org_acme")
		require.NoError(t, err)
		assert.Equal(t, embedsso.Org{ID: "org_acme", EmbeddingEnabled: true, Secrets: org.Secrets,
			AllowedOrigins: []string{orgapitest.Customer}, AllowedRoles: []string{"ADMIN", "MEMBER"}}, org)
	})
}

func TestLoginURL(t *testing.T) {
	t.Parallel()
	a := orgapitest.NewApp(t, orgapitest.MemoryStores())
	a.CreateAcme(t)
	o := orgapitest.Data(t, a.Call("PATCH", "/api/public/organizations/org_acme", a.Admin,
		`{"embedLoginUrl":"`+orgapitest.Customer+`/sso/embed-login?app=chartly"}`), http.StatusOK)
	assert.Equal(t, orgapitest.Customer+"/sso/embed-login?app=chartly", o.EmbedLoginURL)

	t.Run("dropping the origin a login URL needs is refused and writes nothing", func(t *testing.T) {
		w := a.Call("PATCH", "/api/public/organizations/org_acme", a.Admin, `{"embedAllowedOrigins":["https://other.example"]}`)
		assert.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
		org, err := a.Stores.Orgs.FindOrg(context.Background(), "org_acme")
		require.NoError(t, err)
		assert.Equal(t, []string{orgapitest.Customer}, org.AllowedOrigins)
	})
	t.Run("origins and login URL change together in one PATCH", func(t *testing.T) {
		o := orgapitest.Data(t, a.Call("PATCH", "/api/public/organizations/org_acme", a.Admin,
			`{"embedAllowedOrigins":["http://localhost:3000"],"embedLoginUrl":"http://localhost:3000/sso"}`), http.StatusOK)
		assert.Equal(t, "http://localhost:3000/sso", o.EmbedLoginURL)
	})
	t.Run("an empty login URL removes it", func(t *testing.T) {
		o := orgapitest.Data(t, a.Call("PATCH", "/api/public/organizations/org_acme", a.Admin, `{"embedLoginUrl":""}`), http.StatusOK)
		assert.Empty(t, o.EmbedLoginURL)
	})
}
