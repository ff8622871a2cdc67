package sqlstore_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/sqlstore"
)

// BenchmarkLogin is one whole login through the real handler (httptest
// recorder, no network), with each kind of storage. The request and its
// recorder are part of the measure, as they are of a real login.
//
//	go test -run '^$' -bench Login -benchmem -count 6 ./sqlstore/ | benchstat -
func BenchmarkLogin(b *testing.B) {
	type stores struct {
		orgs     embedsso.OrgStore
		users    embedsso.UserStore
		sessions embedsso.SessionStore
		replay   embedsso.ReplayStore
	}
	for _, kind := range []string{"memory", "sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			var s stores
			if kind == "memory" {
				s = stores{embedsso.NewMemoryOrgStore(scaleOrg), &embedsso.MemoryUserStore{}, &embedsso.MemorySessionStore{}, &embedsso.MemoryReplayStore{}}
			} else {
				st := sqlstore.New(newDatabase(b, kind).open(b))
				if err := st.PutOrg(context.Background(), scaleOrg); err != nil {
					b.Fatal(err)
				}
				s = stores{st, st, st, st}
			}
			sessions, err := embedsso.NewCookieSessions(embedsso.CookieConfig{Store: s.sessions})
			if err != nil {
				b.Fatal(err)
			}
			h, err := embedsso.New(embedsso.Config{Orgs: s.orgs, Users: s.users, Sessions: sessions, Replay: s.replay})
			if err != nil {
				b.Fatal(err)
			}
			// A new token (a new jti) per iteration, so the replay store
			// really writes; minted before the clock starts.
			signer := embedsso.Signer{Secret: scaleOrg.Secrets[0].Value, TokenID: true}
			tokens := make([]string, b.N)
			for i := range tokens {
				if tokens[i], err = signer.Sign(embedsso.Claims{Email: "bench@example.com", OrgID: scaleOrg.ID, Role: "MEMBER"}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for _, tok := range tokens {
				r := httptest.NewRequest(http.MethodGet, "/api/sso/jwt?jwt="+tok, nil)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusFound {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}

// signInWay is one way to make a login's writes.
type signInWay struct {
	name string
	do   func(ctx context.Context, s *sqlstore.Store, w embedsso.SignInWrite) error
}

var (
	// separately is the login without SignIn: three writes, three commits.
	separately = signInWay{"separate", func(ctx context.Context, s *sqlstore.Store, w embedsso.SignInWrite) error {
		if err := s.UseTokenID(ctx, w.Profile.OrgID, w.TokenID, w.TokenExpiresAt, w.Now); err != nil {
			return err
		}
		u, err := s.UpsertUser(ctx, w.Profile)
		if err != nil {
			return err
		}
		w.Session.User = u
		return s.CreateSession(ctx, w.Session)
	}}
	// atOnce is SignIn: on PostgreSQL, one statement unless the Store was
	// made with NewPortable, whose SignIn is one transaction.
	atOnce = signInWay{"signin", func(ctx context.Context, s *sqlstore.Store, w embedsso.SignInWrite) error {
		_, err := s.SignIn(ctx, w)
		return err
	}}
)

// logins numbers the benchmark logins, so every token id and session is new.
var logins atomic.Int64

// nextLogin is a login of one of 1000 users, with a new token id and a new
// session. Many users, as in a real app: logins of one user would queue on
// its row.
func nextLogin() embedsso.SignInWrite {
	i := logins.Add(1)
	now := time.Now()
	return embedsso.SignInWrite{
		Profile:        embedsso.Profile{OrgID: "org_bench", Email: fmt.Sprintf("user-%d@example.com", i%1000), FirstName: "Bench", Role: "MEMBER"},
		TokenID:        fmt.Sprintf("jti-%d", i),
		TokenExpiresAt: now.Add(5 * time.Minute),
		Now:            now,
		Session:        embedsso.Session{IDHash: fmt.Sprintf("%064d", i), CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)},
	}
}

// benchStorage is a database and how a Store is made over it.
type benchStorage struct {
	name  string
	store func(b *testing.B) *sqlstore.Store
}

// benchStorages are SQLite opened for a server (FULL: SQLite's default, a
// disk flush per commit; NORMAL: none), SQLite through New with a pool of
// connections that all write (as before OpenSQLite), the tests' PostgreSQL
// (fsync off: round trips and queries only) and one with durable commits.
// For PostgreSQL, "-transaction" makes SignIn one transaction of three
// statements, as for a driver sqlstore does not recognize.
func benchStorages(names ...string) []benchStorage {
	sqlite := func(extra string) func(b *testing.B) *sqlstore.Store {
		return func(b *testing.B) *sqlstore.Store {
			db := newBareDatabase(b, "sqlite")
			s, err := sqlstore.OpenSQLite(context.Background(), db.driver, db.dsn+extra, sqlstore.SQLiteOptions{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			return s
		}
	}
	all := map[string]func(b *testing.B) *sqlstore.Store{
		"sqlite-full":   sqlite(""),
		"sqlite-normal": sqlite("&_pragma=synchronous(NORMAL)"),
		"sqlite-pool-full": func(b *testing.B) *sqlstore.Store {
			return sqlstore.New(newDatabase(b, "sqlite").open(b))
		},
		"postgres":             func(b *testing.B) *sqlstore.Store { return sqlstore.New(newDatabase(b, "postgres").open(b)) },
		"postgres-transaction": func(b *testing.B) *sqlstore.Store { return sqlstore.NewPortable(newDatabase(b, "postgres").open(b)) },
		"postgres-durable":     func(b *testing.B) *sqlstore.Store { return sqlstore.New(newDatabase(b, "postgres-durable").open(b)) },
		"postgres-durable-transaction": func(b *testing.B) *sqlstore.Store {
			return sqlstore.NewPortable(newDatabase(b, "postgres-durable").open(b))
		},
	}
	out := make([]benchStorage, len(names))
	for i, n := range names {
		out[i] = benchStorage{n, all[n]}
	}
	return out
}

// BenchmarkSignIn is a login's writes at the store, one after another:
// three separate writes (three commits) against one SignIn (one commit).
//
//	go test -run '^$' -bench 'SignIn$' -benchmem -count 6 ./sqlstore/ | benchstat -
func BenchmarkSignIn(b *testing.B) {
	ctx := context.Background()
	for _, st := range benchStorages("sqlite-full", "sqlite-normal", "postgres", "postgres-transaction", "postgres-durable", "postgres-durable-transaction") {
		b.Run(st.name, func(b *testing.B) {
			s := st.store(b)
			for _, way := range []signInWay{separately, atOnce} {
				if strings.HasSuffix(st.name, "-transaction") && way.name == "separate" {
					continue // the same as without the suffix
				}
				b.Run(way.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if err := way.do(ctx, s, nextLogin()); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkSignInParallel is 32 goroutines signing in at once (16 per
// core on the 2-core machine), reporting each sign-in's latency beside the
// time per sign-in: with SQLite's one writer the slowest sign-in stays near
// the queue's length in sign-ins, where connections that all write sleep in
// SQLite's busy handler and some starve.
//
//	go test -run '^$' -bench 'SignInParallel' -count 6 ./sqlstore/ | benchstat -
func BenchmarkSignInParallel(b *testing.B) {
	ctx := context.Background()
	for _, st := range benchStorages("sqlite-pool-full", "sqlite-full", "sqlite-normal", "postgres", "postgres-durable") {
		b.Run(st.name, func(b *testing.B) {
			s := st.store(b)
			for _, way := range []signInWay{separately, atOnce} {
				b.Run(way.name, func(b *testing.B) {
					// Fill the connection pools first: connecting is not
					// what is measured.
					var warm sync.WaitGroup
					for range 64 {
						warm.Go(func() { _ = way.do(ctx, s, nextLogin()) })
					}
					warm.Wait()
					var mu sync.Mutex
					var lat []time.Duration
					b.SetParallelism(16)
					b.ResetTimer()
					b.RunParallel(func(pb *testing.PB) {
						var mine []time.Duration
						for pb.Next() {
							start := time.Now()
							if err := way.do(ctx, s, nextLogin()); err != nil {
								b.Error(err)
								return
							}
							mine = append(mine, time.Since(start))
						}
						mu.Lock()
						lat = append(lat, mine...)
						mu.Unlock()
					})
					slices.Sort(lat)
					if len(lat) > 0 {
						ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
						b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
						b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
						b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
					}
				})
			}
		})
	}
}
