package sqlstore_test

import (
	"context"
	"testing"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/embedssotest"
	"github.com/embedsso/embedsso/sqlstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// variant is one way to build a Store over a database.
type variant struct {
	name, kind string
	store      func(t testing.TB, db database) *sqlstore.Store
	onlySignIn bool // it differs from another variant only in SignIn
}

var variants = []variant{
	{name: "postgres", kind: "postgres", store: func(t testing.TB, db database) *sqlstore.Store { return sqlstore.New(db.open(t)) }},
	{name: "postgres-transaction", kind: "postgres", onlySignIn: true,
		store: func(t testing.TB, db database) *sqlstore.Store { return sqlstore.NewPortable(db.open(t)) }},
	{name: "sqlite", kind: "sqlite", store: func(t testing.TB, db database) *sqlstore.Store { return sqlstore.New(db.open(t)) }},
	{name: "sqlite-one-writer", kind: "sqlite", store: openSQLite},
}

func openSQLite(t testing.TB, db database) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenSQLite(context.Background(), db.driver, db.dsn, sqlstore.SQLiteOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// The SQL store passes the whole conformance kit on both databases, and
// SQLite opened for a server (OpenSQLite) passes it too.
func TestConformance(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			store := func(t *testing.T) *sqlstore.Store { return v.store(t, newDatabase(t, v.kind)) }
			t.Run("SignInStore", func(t *testing.T) {
				embedssotest.TestSignInStore(t, func(t *testing.T) (embedssotest.SignInStores, embedssotest.ListUsers) {
					db := newDatabase(t, v.kind)
					return v.store(t, db), listUsers(t, db)
				})
			})
			if v.onlySignIn {
				return
			}
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
				embedssotest.TestSessionStore(t, func(t *testing.T) (cookiesession.Store, embedsso.UserStore) {
					s := store(t)
					return s, s
				})
			})
			t.Run("ReplayStore", func(t *testing.T) {
				embedssotest.TestReplayStore(t, func(t *testing.T) (embedsso.ReplayStore, embedsso.ReplayStore) {
					db := newDatabase(t, v.kind)
					return v.store(t, db), v.store(t, db) // two handles, one database
				})
			})
		})
	}
}

// listUsers reads the users table straight, for the kit.
func listUsers(t *testing.T, db database) embedssotest.ListUsers {
	admin := db.open(t)
	return func(ctx context.Context, orgID string) ([]embedsso.User, error) {
		rows, err := admin.QueryContext(ctx, `SELECT id, org_id, email, first_name, last_name, role FROM embedsso_users WHERE org_id = $1`, orgID)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []embedsso.User
		for rows.Next() {
			var u embedsso.User
			if err := rows.Scan(&u.ID, &u.OrgID, &u.Email, &u.FirstName, &u.LastName, &u.Role); err != nil {
				return nil, err
			}
			out = append(out, u)
		}
		return out, rows.Err()
	}
}

// New recognizes pgx as PostgreSQL and SignIn then writes in one statement;
// SQLite gets the transaction.
func TestSignInUsesOneStatementOnPostgreSQL(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s := v.store(t, newDatabase(t, v.kind))
			assert.Equal(t, v.name == "postgres", sqlstore.SignsInWithOneStatement(s))
		})
	}
}
