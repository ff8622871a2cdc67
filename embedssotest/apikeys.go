package embedssotest

import (
	"context"
	"errors"
	"testing"

	"github.com/embedsso/embedsso/orgapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAPIKeyStore checks an [orgapi.APIKeyStore]. newStores returns two
// handles on the same empty database (for an in-memory store, the same value
// twice): a key revoked through one must stop working through the other at
// once.
func TestAPIKeyStore(t *testing.T, newStores func(t *testing.T) (a, b orgapi.APIKeyStore)) {
	ctx := context.Background()
	scoped := orgapi.APIKey{ID: "0123456789abcdef", Hash: hashOf("scoped"), Name: "back office",
		OrgIDs: []string{"org_a", "org_b"}, CreatedAt: epoch}
	admin := orgapi.APIKey{ID: "fedcba9876543210", Hash: hashOf("admin"), Admin: true, CreatedAt: epoch}
	notFound := func(t *testing.T, err error) {
		t.Helper()
		require.Error(t, err)
		assert.True(t, errors.Is(err, orgapi.ErrAPIKeyNotFound), "got %v", err)
	}

	t.Run("a created key is found whole by its id through both handles", func(t *testing.T) {
		a, b := newStores(t)
		require.NoError(t, a.CreateAPIKey(ctx, scoped))
		require.NoError(t, a.CreateAPIKey(ctx, admin))
		for _, s := range []orgapi.APIKeyStore{a, b} {
			got, err := s.FindAPIKey(ctx, scoped.ID)
			require.NoError(t, err)
			assert.Equal(t, scoped, got)
			got, err = s.FindAPIKey(ctx, admin.ID)
			require.NoError(t, err)
			assert.True(t, got.Admin)
			assert.Empty(t, got.OrgIDs)
		}
	})
	t.Run("an unknown id is ErrAPIKeyNotFound", func(t *testing.T) {
		a, _ := newStores(t)
		require.NoError(t, a.CreateAPIKey(ctx, scoped))
		_, err := a.FindAPIKey(ctx, "0123456789ABCDEF")
		notFound(t, err)
		_, err = a.FindAPIKey(ctx, "")
		notFound(t, err)
	})
	t.Run("a taken id is ErrAPIKeyExists and changes nothing", func(t *testing.T) {
		a, b := newStores(t)
		require.NoError(t, a.CreateAPIKey(ctx, scoped))
		evil := scoped
		evil.Hash, evil.Admin = hashOf("evil"), true
		err := b.CreateAPIKey(ctx, evil)
		require.Error(t, err)
		assert.True(t, errors.Is(err, orgapi.ErrAPIKeyExists), "got %v", err)
		got, err := a.FindAPIKey(ctx, scoped.ID)
		require.NoError(t, err)
		assert.Equal(t, scoped, got)
	})
	t.Run("a revoked key stops being found at once through both handles", func(t *testing.T) {
		a, b := newStores(t)
		require.NoError(t, a.CreateAPIKey(ctx, scoped))
		require.NoError(t, a.CreateAPIKey(ctx, admin))
		_, err := b.FindAPIKey(ctx, scoped.ID) // a handle that has seen the key
		require.NoError(t, err)
		require.NoError(t, a.RevokeAPIKey(ctx, scoped.ID))
		_, err = b.FindAPIKey(ctx, scoped.ID)
		notFound(t, err)
		_, err = a.FindAPIKey(ctx, scoped.ID)
		notFound(t, err)
		notFound(t, b.RevokeAPIKey(ctx, scoped.ID))
		_, err = b.FindAPIKey(ctx, admin.ID)
		assert.NoError(t, err, "other keys stay")
	})
}
