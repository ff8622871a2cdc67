package memstore_test

import (
	"context"
	"testing"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/embedssotest"
	"github.com/embedsso/embedsso/memstore"
	"github.com/embedsso/embedsso/orgapi"
	"github.com/stretchr/testify/require"
)

// The memory store passes the same conformance kit as any other store, as
// each of the stores it is.
func TestMemoryStoresConform(t *testing.T) {
	t.Parallel()
	t.Run("OrgStore", func(t *testing.T) {
		embedssotest.TestOrgStore(t, func(t *testing.T, orgs ...embedsso.Org) embedsso.OrgStore {
			s := memstore.New()
			for _, o := range orgs {
				require.NoError(t, s.PutOrg(context.Background(), o))
			}
			return s
		})
	})
	t.Run("UserStore", func(t *testing.T) {
		embedssotest.TestUserStore(t, func(*testing.T) embedsso.UserStore { return &memstore.Store{} })
	})
	t.Run("SessionStore", func(t *testing.T) {
		embedssotest.TestSessionStore(t, func(*testing.T) (cookiesession.Store, embedsso.UserStore) {
			s := &memstore.Store{}
			return s, s
		})
	})
	t.Run("ReplayStore", func(t *testing.T) {
		embedssotest.TestReplayStore(t, func(*testing.T) (embedsso.ReplayStore, embedsso.ReplayStore) {
			s := &memstore.Store{}
			return s, s
		})
	})
}

// The memory store's organization API side passes the kit too.
func TestMemoryAdminStoresConform(t *testing.T) {
	t.Parallel()
	t.Run("OrgAdmin", func(t *testing.T) {
		embedssotest.TestOrgAdmin(t, func(*testing.T) (orgapi.OrgAdmin, orgapi.OrgAdmin) {
			s := &memstore.Store{}
			return s, s
		})
	})
	t.Run("SessionRevoker", func(t *testing.T) {
		embedssotest.TestSessionRevoker(t, func(*testing.T) (cookiesession.Store, embedsso.UserStore) {
			s := &memstore.Store{}
			return s, s
		})
	})
	t.Run("APIKeyStore", func(t *testing.T) {
		embedssotest.TestAPIKeyStore(t, func(*testing.T) (orgapi.APIKeyStore, orgapi.APIKeyStore) {
			s := &memstore.Store{}
			return s, s
		})
	})
}
