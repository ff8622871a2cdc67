package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	mathrand "math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScaleFill runs BenchmarkScale's fill and ops at small sizes, so that
// the benchmark cannot rot: the rows are where the keys computed in Go say,
// and each op, timed in rounds over two sizes as the benchmark times it,
// does what its name says and gets its metrics.
func TestScaleFill(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		storage string
	}{
		{"on PostgreSQL", "postgres"},
		{"on SQLite", "sqlite-normal"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sizes := []int{1, 300}
			dbs := make([]*scaleDB, len(sizes))
			for i, n := range sizes {
				dbs[i] = openScaleDB(t, c.storage, n, false)
				assert.Equal(t, map[string]int{"embedsso_orgs": n, "embedsso_org_records": n, "embedsso_users": n,
					"embedsso_sessions": n, "embedsso_used_tokens": 0}, tableCounts(t, dbs[i].write), "size %d", n)
			}

			t.Run("every session, user and organization is found by the key Go computes for it", func(t *testing.T) {
				for _, s := range dbs {
					for i := range s.n {
						sess, err := s.store.FindSession(ctx, scaleSessionHash(i), time.Now())
						require.NoError(t, err, i)
						assert.Equal(t, scaleUserID(i), sess.User.ID)
						assert.Equal(t, scaleOrgID(i), sess.User.OrgID)
						assert.Equal(t, scaleEmail(i), sess.User.Email)
						assert.True(t, sess.ExpiresAt.After(time.Now().Add(29*24*time.Hour)), "a session lasts 30 days")
						o, err := s.store.FindOrg(ctx, scaleOrgID(i))
						require.NoError(t, err, i)
						assert.True(t, o.EmbeddingEnabled)
						require.Len(t, o.Secrets, 1)
						assert.Equal(t, scaleSecret, o.Secrets[0].Value)
					}
				}
			})

			for _, want := range []struct {
				op                    string
				newUsers, newSessions int
			}{
				{"login-new", 1, 1},
				{"login-existing", 0, 1},
				{"find-session", 0, 0},
				{"find-org", 0, 0},
			} {
				name := fmt.Sprintf("%s makes %d new users and %d new sessions a call, at each size, and gets a p50 and p99 at each", want.op, want.newUsers, want.newSessions)
				t.Run(name, func(t *testing.T) {
					i := slices.IndexFunc(scaleOps, func(o scaleOp) bool { return o.name == want.op })
					require.GreaterOrEqual(t, i, 0, "BenchmarkScale has no op %q", want.op)
					const k = 5
					r := mathrand.New(mathrand.NewPCG(1, 2))
					calls := make([][]func(context.Context) error, len(dbs))
					before := make([]map[string]int, len(dbs))
					for j, s := range dbs {
						calls[j], before[j] = scaleOps[i].prepare(s, k, r), tableCounts(t, s.write)
					}
					lat, err := timeRounds(ctx, calls)
					require.NoError(t, err)
					for j, s := range dbs {
						require.Len(t, lat[j], k, "one time per call")
						for _, d := range lat[j] {
							assert.Positive(t, d)
						}
						after := tableCounts(t, s.write)
						assert.Equal(t, before[j]["embedsso_users"]+k*want.newUsers, after["embedsso_users"], "size %d", s.n)
						assert.Equal(t, before[j]["embedsso_sessions"]+k*want.newSessions, after["embedsso_sessions"], "size %d", s.n)
						assert.Equal(t, before[j]["embedsso_used_tokens"]+k*want.newSessions, after["embedsso_used_tokens"], "a login spends one token id")
						assert.Equal(t, s.n, after["embedsso_orgs"], "no op makes an organization")
					}
					if dbs[0].sql.walPosition != "" {
						wal, err := walPerCall(ctx, dbs[1], scaleOps[i], r, k)
						require.NoError(t, err)
						if want.newSessions > 0 {
							assert.Greater(t, wal, 100.0, "a login writes its rows to the write-ahead log")
						} else {
							assert.GreaterOrEqual(t, wal, 0.0)
						}
					}
					m := scaleMetrics(sizes, lat)
					assert.ElementsMatch(t, []string{"p50-us@1", "p99-us@1", "p50-us@300", "p99-us@300", "p50-ratio@300", "p99-ratio@300"}, slices.Collect(maps.Keys(m)))
					for unit, v := range m {
						assert.Positive(t, v, unit)
					}
				})
			}
		})
	}
}

func tableCounts(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"embedsso_orgs", "embedsso_org_records", "embedsso_users", "embedsso_sessions", "embedsso_used_tokens"} {
		var n int
		require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM "+table).Scan(&n))
		out[table] = n
	}
	return out
}

func TestScaleKeysAreUniqueAndScattered(t *testing.T) {
	for _, c := range []struct {
		name string
		key  func(int) string
	}{
		{"organization ids", scaleOrgID},
		{"user ids", scaleUserID},
		{"session id hashes", scaleSessionHash},
	} {
		t.Run(c.name, func(t *testing.T) {
			const n = 10_000
			keys := make([]string, n)
			for i := range keys {
				keys[i] = c.key(i)
			}
			sorted := slices.Clone(keys)
			slices.Sort(sorted)
			assert.Len(t, slices.Compact(slices.Clone(sorted)), n, "unique")
			assert.NotEqual(t, keys, sorted, "not in the order of i: rows land all over an index, as random keys do")
			assert.Len(t, keys[0], len(keys[n-1]), "one width")
		})
	}
	assert.Len(t, scaleSessionHash(0), 64, "as long as a SHA-256 in hex")
	assert.Len(t, scaleUserID(0), len("usr_")+24, "as long as the user ids sqlstore makes")
}

func TestScaleSizes(t *testing.T) {
	for _, c := range []struct {
		name string
		max  int
		want []int
	}{
		{"the default measures 1 and 1000", 1000, []int{1, 1000}},
		{"a million measures 1, 1000 and a million", 1_000_000, []int{1, 1000, 1_000_000}},
		{"a size under 1000 measures 1 and it", 50, []int{1, 50}},
		{"1 measures 1 alone", 1, []int{1}},
	} {
		t.Run(c.name, func(t *testing.T) { assert.Equal(t, c.want, scaleSizes(c.max)) })
	}
}

func TestQuantile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i + 1)
	}
	for _, c := range []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"the median of 1…100 is 50", hundred, 0.50, 50},
		{"the 99th percentile of 1…100 is 99", hundred, 0.99, 99},
		{"the 99th percentile of two values is the larger", []time.Duration{1, 2}, 0.99, 2},
		{"the median of two values is the smaller", []time.Duration{1, 2}, 0.50, 1},
		{"any quantile of one value is it", []time.Duration{7}, 0.99, 7},
		{"no values give 0", nil, 0.5, 0},
	} {
		t.Run(c.name, func(t *testing.T) { assert.Equal(t, c.want, quantile(c.sorted, c.q)) })
	}
}

func TestScaleMetrics(t *testing.T) {
	us := time.Microsecond
	for _, c := range []struct {
		name  string
		sizes []int
		lat   [][]time.Duration
		want  map[string]float64
	}{
		{"each size gets its p50 and p99, and the largest its ratios to the smallest",
			[]int{1, 1000}, [][]time.Duration{{3 * us, 1 * us, 2 * us}, {2 * us, 6 * us, 4 * us}},
			map[string]float64{"p50-us@1": 2, "p99-us@1": 3, "p50-us@1000": 4, "p99-us@1000": 6, "p50-ratio@1000": 2, "p99-ratio@1000": 2}},
		{"the ratios are of the largest size, not the middle one",
			[]int{1, 1000, 1_000_000}, [][]time.Duration{{10 * us}, {20 * us}, {15 * us}},
			map[string]float64{"p50-us@1": 10, "p99-us@1": 10, "p50-us@1000": 20, "p99-us@1000": 20, "p50-us@1000000": 15, "p99-us@1000000": 15,
				"p50-ratio@1000000": 1.5, "p99-ratio@1000000": 1.5}},
		{"one size has no ratio", []int{1}, [][]time.Duration{{5 * us}}, map[string]float64{"p50-us@1": 5, "p99-us@1": 5}},
	} {
		t.Run(c.name, func(t *testing.T) { assert.Equal(t, c.want, scaleMetrics(c.sizes, c.lat)) })
	}
}

func TestTimeRoundsStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	var made []string
	call := func(name string, err error) func(context.Context) error {
		return func(context.Context) error { made = append(made, name); return err }
	}
	lat, err := timeRounds(context.Background(), [][]func(context.Context) error{
		{call("a0", nil), call("a1", nil)},
		{call("b0", nil), call("b1", boom)},
	})
	assert.ErrorIs(t, err, boom)
	assert.Nil(t, lat)
	assert.Equal(t, []string{"a0", "b0", "b1"}, made, "round 1 starts at the second size, and the error ends it")
}
