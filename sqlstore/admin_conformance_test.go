package sqlstore_test

import (
	"testing"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/embedssotest"
	"github.com/embedsso/embedsso/orgapi"
	"github.com/embedsso/embedsso/orgapi/orgapitest"
)

// The organization API's side of the store passes its rules of the kit on
// both databases, SQLite opened for a server (OpenSQLite) included, through
// two handles on one database.
func TestAdminConformance(t *testing.T) {
	for _, v := range variants {
		if v.onlySignIn {
			continue
		}
		t.Run(v.name, func(t *testing.T) {
			t.Run("OrgAdmin", func(t *testing.T) {
				embedssotest.TestOrgAdmin(t, func(t *testing.T) (orgapi.OrgAdmin, orgapi.OrgAdmin) {
					db := newDatabase(t, v.kind)
					return v.store(t, db), v.store(t, db)
				})
			})
			t.Run("SessionRevoker", func(t *testing.T) {
				embedssotest.TestSessionRevoker(t, func(t *testing.T) (embedsso.SessionStore, embedsso.UserStore) {
					s := v.store(t, newDatabase(t, v.kind))
					return s, s
				})
			})
			t.Run("APIKeyStore", func(t *testing.T) {
				embedssotest.TestAPIKeyStore(t, func(t *testing.T) (orgapi.APIKeyStore, orgapi.APIKeyStore) {
					db := newDatabase(t, v.kind)
					return v.store(t, db), v.store(t, db)
				})
			})
		})
	}
}

// The organization API works end to end on both databases: an organization
// created through it signs its users in with the returned secret; rotation,
// disabling, signing a user out and refused inputs behave as on memory.
func TestOrganizationAPI(t *testing.T) {
	for _, v := range variants {
		if v.onlySignIn {
			continue
		}
		t.Run(v.name, func(t *testing.T) {
			orgapitest.TestFlows(t, func(t *testing.T) orgapitest.Stores {
				s := v.store(t, newDatabase(t, v.kind))
				return orgapitest.Stores{Orgs: s, Keys: s, Sessions: s, Users: s}
			})
		})
	}
}
