package embedsso_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/signer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// userOf signs claims in with secret and returns the user the session
// carries, as the app's pages see it.
func (f *fixture) userOf(t *testing.T, claims map[string]any, secret string) embedsso.User {
	t.Helper()
	w := f.get(loginURL(rawToken(hs256, claims, secret)), nil)
	require.Equal(t, http.StatusFound, w.Code, w.Body.String())
	var got embedsso.User
	f.h.RequireUser(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got, _ = embedsso.UserFromContext(r.Context())
	})).ServeHTTP(httptest.NewRecorder(), func() *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", cookiePair(sessionCookie(w)))
		return r
	}())
	require.NotEmpty(t, got.ID, "signed in")
	return got
}

func TestAttributesAndGroupsArriveWithTheUser(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.userOf(t, with(f.claims(), "tenantId", 9007199254740993, "region", "eu-west", "beta", true,
		"cost.center", "CC-12", "groups", []string{"finance", "analysts", "finance"}), secretABC)
	assert.Equal(t, map[string]any{"tenantId": json.Number("9007199254740993"), "region": "eu-west", "beta": true, "cost.center": "CC-12"},
		u.Attributes, "numbers keep every digit")
	assert.Equal(t, []string{"analysts", "finance"}, u.Groups, "sorted, without duplicates")

	// The next sign-in replaces them: what it leaves out is gone.
	u = f.userOf(t, with(f.claims(), "region", "us-east"), secretABC)
	assert.Equal(t, map[string]any{"region": "us-east"}, u.Attributes)
	assert.Empty(t, u.Groups)
	u = f.userOf(t, f.claims(), secretABC)
	assert.Empty(t, u.Attributes)
}

func TestRegisteredClaimsAreNotAttributes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.userOf(t, with(f.claims(), "iss", "https://customer.example", "aud", "chartly", "sub", "42", "jti", "j-1", "nbf", f.now.Unix()), secretABC)
	assert.Empty(t, u.Attributes)
}

func TestAllowedGroupsAdmitListedGroups(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.userOf(t, with(f.claims(), "orgId", "org_groups", "groups", []string{"analysts"}), secretOpen)
	assert.Equal(t, []string{"analysts"}, u.Groups)
}

func TestTheSignerSendsAttributesAndGroups(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := signer.Signer{Secret: secretABC, Now: func() time.Time { return f.now }}
	tok, err := s.Sign(signer.Claims{Email: "jane@example.com", OrgID: "org_abc123", Role: "MEMBER",
		Attributes: map[string]any{"region": "eu-west", "seats": 12}, Groups: []string{"finance"}})
	require.NoError(t, err)
	w := f.get(loginURL(tok), nil)
	require.Equal(t, http.StatusFound, w.Code, w.Body.String())
	u := f.store.Users()[0]
	assert.Equal(t, map[string]any{"region": "eu-west", "seats": json.Number("12")}, u.Attributes)
	assert.Equal(t, []string{"finance"}, u.Groups)

	for _, name := range []string{"email", "exp", "bad name", ""} {
		_, err := s.Sign(signer.Claims{Email: "jane@example.com", OrgID: "org_abc123", Attributes: map[string]any{name: "x"}})
		assert.Error(t, err, "attribute name %q", name)
	}
}
