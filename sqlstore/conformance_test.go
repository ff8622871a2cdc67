package sqlstore_test

import (
	"context"
	"testing"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/embedssotest"
	"github.com/embedsso/embedsso/sqlstore"
	"github.com/stretchr/testify/require"
)

// The SQL store passes the whole conformance kit on both databases.
func TestConformance(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			store := func(t *testing.T) *sqlstore.Store { return sqlstore.New(newDatabase(t, kind).open(t)) }
			t.Run("OrgStore", func(t *testing.T) {
				embedssotest.TestOrgStore(t, func(t *testing.T, orgs ...embedsso.Org) embedsso.OrgStore {
					s := store(t)
					for _, o := range orgs {
						require.NoError(t, s.PutOrg(context.Background(), o))
					}
					return s
				})
			})
			t.Run("UserStore", func(t *testing.T) {
				embedssotest.TestUserStore(t, func(t *testing.T) embedsso.UserStore { return store(t) })
			})
			t.Run("SessionStore", func(t *testing.T) {
				embedssotest.TestSessionStore(t, func(t *testing.T) (embedsso.SessionStore, embedsso.UserStore) {
					s := store(t)
					return s, s
				})
			})
			t.Run("ReplayStore", func(t *testing.T) {
				embedssotest.TestReplayStore(t, func(t *testing.T) (embedsso.ReplayStore, embedsso.ReplayStore) {
					db := newDatabase(t, kind)
					return sqlstore.New(db.open(t)), sqlstore.New(db.open(t)) // two handles, one database
				})
			})
		})
	}
}
