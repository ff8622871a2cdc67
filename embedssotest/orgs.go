package embedssotest

import (
	"context"
	"errors"
	"testing"

	"github.com/embedsso/embedsso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOrgStore checks an [embedsso.OrgStore]. newStore returns a store that
// holds exactly orgs.
func TestOrgStore(t *testing.T, newStore func(t *testing.T, orgs ...embedsso.Org) embedsso.OrgStore) {
	ctx := context.Background()
	full := embedsso.Org{
		ID: "org_full", EmbeddingEnabled: true,
		Secrets:        []embedsso.Secret{{KeyID: "2026", Value: "secret-one-0123456789-abcdefghijklmnopqrst"}, {Value: "secret-two-0123456789-abcdefghijklmnopqrst"}},
		AllowedOrigins: []string{"https://a.example", "https://*.b.example"},
		AllowedRoles:   []string{"ADMIN", "MEMBER"},
		DashboardURL:   "/dash",
		Epoch:          7,
	}
	bare := embedsso.Org{ID: "org_bare", Secrets: []embedsso.Secret{{Value: "secret-three-0123456789-abcdefghijklmnopq"}}}

	t.Run("an unknown id is ErrOrgNotFound", func(t *testing.T) {
		s := newStore(t, full)
		_, err := s.FindOrg(ctx, "org_nope")
		require.Error(t, err)
		assert.True(t, errors.Is(err, embedsso.ErrOrgNotFound), "got %v", err)
	})
	t.Run("a stored org comes back whole, secrets in order", func(t *testing.T) {
		s := newStore(t, full, bare)
		got, err := s.FindOrg(ctx, full.ID)
		require.NoError(t, err)
		assert.Equal(t, full, got)
	})
	t.Run("an org with nothing optional comes back with empty lists", func(t *testing.T) {
		s := newStore(t, full, bare)
		got, err := s.FindOrg(ctx, bare.ID)
		require.NoError(t, err)
		assert.Equal(t, bare.ID, got.ID)
		assert.False(t, got.EmbeddingEnabled)
		assert.Equal(t, bare.Secrets, got.Secrets)
		assert.Empty(t, got.AllowedOrigins)
		assert.Empty(t, got.AllowedRoles)
	})
	t.Run("ids are case-sensitive", func(t *testing.T) {
		s := newStore(t, full)
		_, err := s.FindOrg(ctx, "ORG_FULL")
		assert.True(t, errors.Is(err, embedsso.ErrOrgNotFound), "got %v", err)
	})
}
