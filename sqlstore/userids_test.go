package sqlstore_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/sqlstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// userIDShape is the shape of every user id sqlstore has made: "usr_" and
// 24 hex digits.
var userIDShape = regexp.MustCompile(`^usr_[0-9a-f]{24}$`)

// TestUserIDsSortInTheOrderTheyWereMade checks the ids of new users, made
// by each way a Store creates users, on each database: ids of later
// milliseconds sort after earlier ones, ids of one millisecond differ, and
// they keep the shape of the random ids of earlier versions.
func TestUserIDsSortInTheOrderTheyWereMade(t *testing.T) {
	ctx := context.Background()
	ways := []struct {
		name string
		make func(st *sqlstore.Store, p embedsso.Profile) (embedsso.User, error)
	}{
		{"UpsertUser", func(st *sqlstore.Store, p embedsso.Profile) (embedsso.User, error) { return st.UpsertUser(ctx, p) }},
		{"SignIn", func(st *sqlstore.Store, p embedsso.Profile) (embedsso.User, error) {
			return st.SignIn(ctx, scaleLogin(p))
		}},
		{"SignIn without a token id", func(st *sqlstore.Store, p embedsso.Profile) (embedsso.User, error) {
			w := scaleLogin(p)
			w.TokenID = ""
			return st.SignIn(ctx, w)
		}},
	}
	for _, kind := range kinds {
		for _, way := range ways {
			t.Run(way.name+" on "+kind, func(t *testing.T) {
				db := newDatabase(t, kind).open(t)
				stores := map[string]*sqlstore.Store{"New": sqlstore.New(db), "portable": sqlstore.NewPortable(db)}
				for name, st := range stores {
					t.Run("later milliseconds sort after earlier ones, through "+name, func(t *testing.T) {
						t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
						var now time.Time
						sqlstore.SetClock(st, func() time.Time { return now })
						var ids []string
						for i, d := range []time.Duration{0, time.Millisecond, 2 * time.Millisecond, time.Second, time.Hour, 24 * time.Hour, 75 * 365 * 24 * time.Hour} {
							now = t0.Add(d)
							u, err := way.make(st, embedsso.Profile{OrgID: "org_a", Email: fmt.Sprintf("%s-%d@example.com", name, i), Role: "MEMBER"})
							require.NoError(t, err)
							assert.Regexp(t, userIDShape, u.ID)
							assert.Equal(t, fmt.Sprintf("usr_%012x", now.UnixMilli()), u.ID[:16], "the milliseconds come first")
							ids = append(ids, u.ID)
						}
						assert.True(t, slices.IsSorted(ids), "%v", ids)
					})
					t.Run("ids of one millisecond differ, through "+name, func(t *testing.T) {
						now := time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC)
						sqlstore.SetClock(st, func() time.Time { return now })
						seen := map[string]bool{}
						for i := range 20 {
							u, err := way.make(st, embedsso.Profile{OrgID: "org_b", Email: fmt.Sprintf("%s-%d@example.com", name, i), Role: "MEMBER"})
							require.NoError(t, err)
							assert.False(t, seen[u.ID], "id %s made twice", u.ID)
							seen[u.ID] = true
						}
					})
				}
			})
		}
	}
}

func TestAUserIDBeforeTheEpochIsTheEpochs(t *testing.T) {
	st := sqlstore.New(newDatabase(t, "sqlite").open(t))
	sqlstore.SetClock(st, func() time.Time { return time.Unix(-3600, 0) })
	u, err := st.UpsertUser(context.Background(), embedsso.Profile{OrgID: "org_a", Email: "old@example.com", Role: "MEMBER"})
	require.NoError(t, err)
	assert.Regexp(t, `^usr_000000000000[0-9a-f]{12}$`, u.ID)
}
