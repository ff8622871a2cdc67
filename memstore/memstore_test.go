package memstore_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
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

const secret = "q3Jv9xPpA1mS7cT0bW2eY5uK8hN4dF6gL1zR0sV3wXa"

var t0 = time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)

func TestMemoryOrgStoreRefusesAnInvalidOrg(t *testing.T) {
	t.Parallel()
	weak := embedsso.Org{ID: "org_weak", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{Value: "12345"}}}

	t.Run("Put returns the error and stores nothing", func(t *testing.T) {
		t.Parallel()
		s := &memstore.Store{}
		err := s.PutOrg(context.Background(), weak)
		require.Error(t, err)
		assert.True(t, errors.Is(err, embedsso.ErrOrgInvalid))
		_, err = s.FindOrg(context.Background(), "org_weak")
		assert.True(t, errors.Is(err, embedsso.ErrOrgNotFound), "got %v", err)
	})
	t.Run("Put keeps the previous version of a replaced org", func(t *testing.T) {
		t.Parallel()
		s := &memstore.Store{}
		require.NoError(t, s.PutOrg(context.Background(), embedsso.Org{ID: "org_weak", Secrets: []embedsso.Secret{{Value: secret}}}))
		require.Error(t, s.PutOrg(context.Background(), weak))
		got, err := s.FindOrg(context.Background(), "org_weak")
		require.NoError(t, err)
		assert.Equal(t, secret, got.Secrets[0].Value)
	})
	t.Run("CreateOrg returns the error and stores nothing", func(t *testing.T) {
		t.Parallel()
		s := memstore.New()
		err := s.CreateOrg(context.Background(), orgapi.OrgRecord{Org: weak})
		assert.True(t, errors.Is(err, embedsso.ErrOrgInvalid), "got %v", err)
		_, err = s.FindOrg(context.Background(), "org_weak")
		assert.True(t, errors.Is(err, embedsso.ErrOrgNotFound), "got %v", err)
	})
}

// The zero value is every store at once, with nothing to set up: a handler
// over it signs a user in, and the session it finds carries the user as the
// store holds it now.
func TestTheZeroValueIsEveryStoreReadyToUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var s memstore.Store
	s.Now = func() time.Time { return t0 }
	require.NoError(t, s.PutOrg(ctx, embedsso.Org{ID: "org_a", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{Value: secret}}}))

	u, err := s.UpsertUser(ctx, embedsso.Profile{OrgID: "org_a", Email: "jane@example.com", Role: "MEMBER"})
	require.NoError(t, err)
	assert.Equal(t, t0, u.CreatedAt, "Now stamps the user")
	require.NoError(t, s.CreateSession(ctx, embedsso.Session{IDHash: "h1", User: u, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	_, err = s.UpsertUser(ctx, embedsso.Profile{OrgID: "org_a", Email: "jane@example.com", Role: "ADMIN"})
	require.NoError(t, err)
	got, err := s.FindSession(ctx, "h1", t0)
	require.NoError(t, err)
	assert.Equal(t, "ADMIN", got.User.Role, "the session's user is as the store holds it now")

	_, err = s.FindSession(ctx, "h1", t0.Add(time.Hour))
	assert.ErrorIs(t, err, embedsso.ErrSessionNotFound, "an expired session is not found")
	require.NoError(t, s.CreateSession(ctx, embedsso.Session{IDHash: "h2", User: embedsso.User{ID: "usr_gone", OrgID: "org_a"},
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	_, err = s.FindSession(ctx, "h2", t0)
	assert.ErrorIs(t, err, embedsso.ErrSessionNotFound, "a session of a user the store does not hold is not found")

	require.NoError(t, s.UseTokenID(ctx, "org_a", "jti", t0.Add(time.Minute), t0))
	assert.ErrorIs(t, s.UseTokenID(ctx, "org_a", "jti", t0.Add(time.Minute), t0), embedsso.ErrTokenReplayed)
	require.NoError(t, s.CreateAPIKey(ctx, orgapi.APIKey{ID: "k1", Admin: true}))
	assert.ErrorIs(t, s.CreateAPIKey(ctx, orgapi.APIKey{ID: "k1"}), orgapi.ErrAPIKeyExists)
	assert.ErrorIs(t, s.CreateOrg(ctx, orgapi.OrgRecord{Org: embedsso.Org{ID: "org_a", Secrets: []embedsso.Secret{{Value: secret}}}}), orgapi.ErrOrgExists)

	assert.Equal(t, 2, s.SessionCount())
	assert.Equal(t, 1, s.TokenIDCount())
	assert.Len(t, s.Users(), 1)
}

// PurgeExpired purges every kind of entry that expires, and adds up what
// it deleted.
func TestPurgeExpiredPurgesSessionsTokenIDsAndSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := memstore.New()
	require.NoError(t, s.PutOrg(ctx, embedsso.Org{ID: "org_a", Secrets: []embedsso.Secret{
		{KeyID: "new", Value: secret}, {KeyID: "old", Value: secret, ExpiresAt: t0.Add(time.Minute)}}}))
	u, err := s.UpsertUser(ctx, embedsso.Profile{OrgID: "org_a", Email: "jane@example.com"})
	require.NoError(t, err)
	require.NoError(t, s.CreateSession(ctx, embedsso.Session{IDHash: "h", User: u, CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}))
	require.NoError(t, s.UseTokenID(ctx, "org_a", "jti", t0.Add(time.Minute), t0))

	n, err := s.PurgeExpired(ctx, t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 3, n, "a session, a token id and a secret")
	assert.Zero(t, s.SessionCount())
	assert.Zero(t, s.TokenIDCount())
	o, err := s.FindOrg(ctx, "org_a")
	require.NoError(t, err)
	assert.Equal(t, []embedsso.Secret{{KeyID: "new", Value: secret}}, o.Secrets)
}

// A whole sign-in through one value passed as every store.
func TestOneStoreServesAHandler(t *testing.T) {
	t.Parallel()
	s := memstore.New()
	require.NoError(t, s.PutOrg(context.Background(), embedsso.Org{ID: "org_a", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{Value: secret}}}))
	cookies, err := cookiesession.New(cookiesession.Config{Store: s})
	require.NoError(t, err)
	h, err := embedsso.New(embedsso.Config{Orgs: s, Users: s, Sessions: cookies, Replay: s, DisableCookieCheck: true})
	require.NoError(t, err)

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/sso/jwt?jwt="+token(t), nil))
	require.Equal(t, http.StatusFound, w.Code, w.Body.String())
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", strings.SplitN(w.Header().Get("Set-Cookie"), ";", 2)[0])
	sess, err := cookies.Session(httptest.NewRecorder(), r)
	require.NoError(t, err)
	assert.Equal(t, "jane@example.com", sess.User.Email)
	assert.Equal(t, 1, s.SessionCount())
	assert.Equal(t, 1, s.TokenIDCount(), "the token's jti was spent in the same store")
}

// token is a fresh single-use token for jane of org_a.
func token(t *testing.T) string {
	t.Helper()
	tok, err := signer.Signer{Secret: secret, TokenID: true}.Sign(signer.Claims{Email: "jane@example.com", OrgID: "org_a"})
	require.NoError(t, err)
	return tok
}
