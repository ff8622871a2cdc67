package embedsso_test

import (
	"testing"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/embedssotest"
	"github.com/stretchr/testify/require"
)

// The in-memory stores pass the same conformance kit as any other store.
func TestMemoryStoresConform(t *testing.T) {
	t.Parallel()
	t.Run("OrgStore", func(t *testing.T) {
		embedssotest.TestOrgStore(t, func(t *testing.T, orgs ...embedsso.Org) embedsso.OrgStore {
			s, err := embedsso.NewMemoryOrgStore(orgs...)
			require.NoError(t, err)
			return s
		})
	})
	t.Run("UserStore", func(t *testing.T) {
		embedssotest.TestUserStore(t, func(*testing.T) embedsso.UserStore { return &embedsso.MemoryUserStore{} })
	})
	t.Run("SessionStore", func(t *testing.T) {
		embedssotest.TestSessionStore(t, func(*testing.T) (embedsso.SessionStore, embedsso.UserStore) {
			users := &embedsso.MemoryUserStore{}
			return &embedsso.MemorySessionStore{Users: users}, users
		})
	})
	t.Run("ReplayStore", func(t *testing.T) {
		embedssotest.TestReplayStore(t, func(*testing.T) (embedsso.ReplayStore, embedsso.ReplayStore) {
			s := &embedsso.MemoryReplayStore{}
			return s, s
		})
	})
}

// The in-memory stores' organization API side passes the kit too.
func TestMemoryAdminStoresConform(t *testing.T) {
	t.Parallel()
	t.Run("OrgAdmin", func(t *testing.T) {
		embedssotest.TestOrgAdmin(t, func(*testing.T) (embedsso.OrgAdmin, embedsso.OrgAdmin) {
			s := &embedsso.MemoryOrgStore{}
			return s, s
		})
	})
	t.Run("SessionRevoker", func(t *testing.T) {
		embedssotest.TestSessionRevoker(t, func(*testing.T) (embedsso.SessionStore, embedsso.UserStore) {
			return &embedsso.MemorySessionStore{}, &embedsso.MemoryUserStore{}
		})
	})
	t.Run("APIKeyStore", func(t *testing.T) {
		embedssotest.TestAPIKeyStore(t, func(*testing.T) (embedsso.APIKeyStore, embedsso.APIKeyStore) {
			s := &embedsso.MemoryAPIKeyStore{}
			return s, s
		})
	})
}
