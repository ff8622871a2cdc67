package embedssotest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/internal/email"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUserStore checks an [embedsso.UserStore]. newStore returns a store
// over an empty database.
func TestUserStore(t *testing.T, newStore func(t *testing.T) embedsso.UserStore) {
	ctx := context.Background()
	jane := embedsso.Profile{OrgID: "org_a", Email: "jane@example.com", FirstName: "Jane", LastName: "Doe", Role: "MEMBER"}

	t.Run("a new user is created with an id and the profile", func(t *testing.T) {
		u, err := newStore(t).UpsertUser(ctx, jane)
		require.NoError(t, err)
		assert.NotEmpty(t, u.ID)
		assert.Equal(t, jane, profileOf(u))
		assert.False(t, u.CreatedAt.IsZero())
	})
	t.Run("create then update keeps one user and updates names and role", func(t *testing.T) {
		s := newStore(t)
		first, err := s.UpsertUser(ctx, jane)
		require.NoError(t, err)
		changed := jane
		changed.FirstName, changed.LastName, changed.Role = "Janet", "Smith", "ADMIN"
		second, err := s.UpsertUser(ctx, changed)
		require.NoError(t, err)
		assert.Equal(t, first.ID, second.ID)
		assert.Equal(t, changed, profileOf(second))
		assert.WithinDuration(t, first.CreatedAt, second.CreatedAt, 0, "created_at survives an update")
		assert.False(t, second.UpdatedAt.Before(first.UpdatedAt))
	})
	t.Run("attributes and groups are stored, and replaced whole at every upsert", func(t *testing.T) {
		s := newStore(t)
		with := jane
		with.Attributes = map[string]any{"region": "eu-west", "tenantId": json.Number("9007199254740993"), "beta": true}
		with.Groups = []string{"analysts", "finance"}
		first, err := s.UpsertUser(ctx, with)
		require.NoError(t, err)
		assert.Equal(t, with, profileOf(first))

		fewer := jane
		fewer.Attributes = map[string]any{"region": "us-east"}
		second, err := s.UpsertUser(ctx, fewer)
		require.NoError(t, err)
		assert.Equal(t, fewer, profileOf(second), "an attribute the new profile lacks is gone, and so are the groups")

		none, err := s.UpsertUser(ctx, jane)
		require.NoError(t, err)
		assert.Nil(t, none.Attributes, "no attributes is nil")
		assert.Nil(t, none.Groups, "no groups is nil")
	})
	t.Run("emails are matched byte for byte, never case-mapped", func(t *testing.T) {
		// Each of these is another user: the handler's normalization keeps
		// them apart, and a store that folds or maps them again (Unicode
		// lower-casing, a case-insensitive collation) would sign one person
		// in as another.
		emails := []string{
			"kate@example.com", "\u212Aate@example.com", // KELVIN SIGN
			"ian@example.com", "\u0130an@example.com", // dotted capital I
			"strasse@example.com", "stra\u00dfe@example.com", "stra\u1E9Ee@example.com", // ß, ẞ
			"\uff4bate@example.com", "\uff2bate@example.com", // fullwidth k, K
			"jane@xn--bcher-kva.example",
		}
		s := newStore(t)
		byID := map[string]string{}
		for _, e := range emails {
			n, err := email.Normalize(e)
			require.NoError(t, err)
			require.Equal(t, e, n, "the kit passes only emails the handler could pass")
			p := jane
			p.Email = e
			u, err := s.UpsertUser(ctx, p)
			require.NoError(t, err)
			assert.Equal(t, e, u.Email, "the stored email is not Profile.Email")
			if other, ok := byID[u.ID]; ok {
				t.Errorf("%q and %q became one user", other, e)
			}
			byID[u.ID] = e
		}
	})
	t.Run("the same email in two orgs is two users", func(t *testing.T) {
		s := newStore(t)
		a, err := s.UpsertUser(ctx, jane)
		require.NoError(t, err)
		other := jane
		other.OrgID = "org_b"
		b, err := s.UpsertUser(ctx, other)
		require.NoError(t, err)
		assert.NotEqual(t, a.ID, b.ID)
		assert.Equal(t, "org_b", b.OrgID)
	})
	t.Run("50 racing logins of one new user make exactly one user and no error", func(t *testing.T) {
		s := newStore(t)
		ids := make([]string, racers)
		errs := make([]error, racers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				u, err := s.UpsertUser(ctx, jane)
				ids[i], errs[i] = u.ID, err
			}()
		}
		close(start)
		wg.Wait()
		for i := range racers {
			require.NoError(t, errs[i], "login %d", i)
			assert.Equal(t, ids[0], ids[i], "login %d got another user", i)
		}
		// The user they all got is the one stored, not one of several rows.
		again, err := s.UpsertUser(ctx, jane)
		require.NoError(t, err)
		assert.Equal(t, ids[0], again.ID)
	})
}

func profileOf(u embedsso.User) embedsso.Profile {
	return embedsso.Profile{OrgID: u.OrgID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Role: u.Role,
		Attributes: u.Attributes, Groups: u.Groups}
}
