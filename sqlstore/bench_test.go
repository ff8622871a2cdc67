package sqlstore_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
	"github.com/embedsso/embedsso/signer"
	"github.com/embedsso/embedsso/sqlstore"
)

// BenchmarkLogin is one whole login through the real handler (httptest
// recorder, no network), with each kind of storage. The request and its
// recorder are part of the measure, as they are of a real login. With one
// sqlstore.Store as every store and as cookiesession.Config.SignIns the
// handler writes with SignIn (way=signin); way=separate leaves SignIns unset
// (and hands the issuer the session store wrapped in another value), so it
// writes one step at a time, as it did before SignIn.
//
//	go test -run '^$' -bench Login -benchmem -count 6 ./sqlstore/ | benchstat -col /way -
func BenchmarkLogin(b *testing.B) {
	type stores struct {
		orgs     embedsso.OrgStore
		users    embedsso.UserStore
		sessions cookiesession.Store
		replay   embedsso.ReplayStore
	}
	for _, c := range []struct{ kind, way string }{
		{"memory", "separate"},
		{"sqlite", "separate"}, {"sqlite", "signin"},
		{"sqlite-normal", "separate"}, {"sqlite-normal", "signin"},
		{"postgres", "separate"}, {"postgres", "signin"},
	} {
		b.Run("store="+c.kind+"/way="+c.way, func(b *testing.B) {
			var s stores
			switch c.kind {
			case "memory":
				st := memstore.New()
				if err := st.PutOrg(context.Background(), scaleOrg); err != nil {
					b.Fatal(err)
				}
				s = stores{st, st, st, st}
			default:
				var st *sqlstore.Store
				if c.kind == "sqlite-normal" { // as the example opens its file
					st = benchStorages("sqlite-normal")[0].stores(b).s
				} else {
					st = sqlstore.New(newDatabase(b, c.kind).open(b))
				}
				if err := st.PutOrg(context.Background(), scaleOrg); err != nil {
					b.Fatal(err)
				}
				s = stores{st, st, st, st}
				if c.way == "separate" {
					s.sessions = separateSessions{st}
				}
			}
			cc := cookiesession.Config{Store: s.sessions}
			if c.way == "signin" {
				cc.SignIns = s.users.(cookiesession.SignInStore)
			}
			sessions, err := cookiesession.New(cc)
			if err != nil {
				b.Fatal(err)
			}
			h, err := embedsso.New(embedsso.Config{Orgs: s.orgs, Users: s.users, Sessions: sessions, Replay: s.replay})
			if err != nil {
				b.Fatal(err)
			}
			// A new token (a new jti) per iteration, so the replay store
			// really writes; minted before the clock starts.
			sg := signer.Signer{Secret: scaleOrg.Secrets[0].Value, TokenID: true}
			tokens := make([]string, b.N)
			for i := range tokens {
				if tokens[i], err = sg.Sign(signer.Claims{Email: "bench@example.com", OrgID: scaleOrg.ID, Role: "MEMBER"}); err != nil {
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

// separateSessions is a Store's session store as another value, as the
// way without SignIn had it before SignIns was a choice of its own.
type separateSessions struct{ cookiesession.Store }

// signInWay is one way to make a login's writes.
type signInWay struct {
	name string
	do   func(ctx context.Context, st benchStores, w cookiesession.SignInWrite) error
}

// benchStores are the Stores over one benchmark database: s as New (or
// OpenSQLite) makes it, and portable, whose SignIn is one transaction even
// on PostgreSQL (as for a driver sqlstore does not recognize).
type benchStores struct{ s, portable *sqlstore.Store }

var (
	// separately is the login without SignIn: three writes, three commits.
	separately = signInWay{"separate", func(ctx context.Context, st benchStores, w cookiesession.SignInWrite) error {
		if err := st.s.UseTokenID(ctx, w.Profile.OrgID, w.TokenID, w.TokenExpiresAt, w.Now); err != nil {
			return err
		}
		u, err := st.s.UpsertUser(ctx, w.Profile)
		if err != nil {
			return err
		}
		w.Session.User = u
		return st.s.CreateSession(ctx, w.Session)
	}}
	// inTransaction is SignIn as one transaction of three statements.
	inTransaction = signInWay{"transaction", func(ctx context.Context, st benchStores, w cookiesession.SignInWrite) error {
		_, err := st.portable.SignIn(ctx, w)
		return err
	}}
	// inStatement is SignIn as one statement, on PostgreSQL.
	inStatement = signInWay{"statement", func(ctx context.Context, st benchStores, w cookiesession.SignInWrite) error {
		_, err := st.s.SignIn(ctx, w)
		return err
	}}
)

// logins numbers the benchmark logins, so every token id and session is new.
var logins atomic.Int64

// nextLogin is a login of one of 1000 users, with a new token id and a new
// session. Many users, as in a real app: logins of one user would queue on
// its row.
func nextLogin() cookiesession.SignInWrite {
	i := logins.Add(1)
	now := time.Now()
	return cookiesession.SignInWrite{
		Profile:        embedsso.Profile{OrgID: "org_bench", Email: fmt.Sprintf("user-%d@example.com", i%1000), FirstName: "Bench", Role: "MEMBER"},
		TokenID:        fmt.Sprintf("jti-%d", i),
		TokenExpiresAt: now.Add(5 * time.Minute),
		Now:            now,
		Session:        embedsso.Session{IDHash: fmt.Sprintf("%064d", i), CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)},
	}
}

// benchStorage is a kind of database, how its Stores are made, and the
// ways of signing in that it has.
type benchStorage struct {
	name   string
	stores func(b *testing.B) benchStores
	ways   []signInWay
}

// benchStorages are SQLite opened for a server (FULL: SQLite's default, a
// disk flush per commit; NORMAL: none), SQLite through New with a pool of
// connections that all write (as before OpenSQLite), the tests' PostgreSQL
// (fsync off: round trips and queries only) and one with durable commits.
func benchStorages(names ...string) []benchStorage {
	sqlite := func(extra string) func(b *testing.B) benchStores {
		return func(b *testing.B) benchStores {
			db := newBareDatabase(b, "sqlite")
			s, err := sqlstore.OpenSQLite(context.Background(), db.driver, db.dsn+extra, sqlstore.SQLiteOptions{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			return benchStores{s, s}
		}
	}
	over := func(kind string) func(b *testing.B) benchStores {
		return func(b *testing.B) benchStores {
			db := newDatabase(b, kind).open(b)
			return benchStores{sqlstore.New(db), sqlstore.NewPortable(db)}
		}
	}
	sqliteWays := []signInWay{separately, inTransaction}
	pgWays := []signInWay{separately, inTransaction, inStatement}
	all := map[string]benchStorage{
		"sqlite-full":      {stores: sqlite(""), ways: sqliteWays},
		"sqlite-normal":    {stores: sqlite("&_pragma=synchronous(NORMAL)"), ways: sqliteWays},
		"sqlite-pool-full": {stores: over("sqlite"), ways: sqliteWays},
		"postgres":         {stores: over("postgres"), ways: pgWays},
		"postgres-durable": {stores: over("postgres-durable"), ways: pgWays},
	}
	out := make([]benchStorage, len(names))
	for i, n := range names {
		out[i] = all[n]
		out[i].name = n
	}
	return out
}

// BenchmarkSignIn is a login's writes at the store, one after another:
// three separate writes (three commits) against one SignIn (one commit), as
// one transaction and, on PostgreSQL, as one statement.
//
//	go test -run '^$' -bench 'SignIn$' -benchmem -count 6 ./sqlstore/ | benchstat -col /way -
func BenchmarkSignIn(b *testing.B) {
	ctx := context.Background()
	for _, st := range benchStorages("sqlite-full", "sqlite-normal", "postgres", "postgres-durable") {
		b.Run("store="+st.name, func(b *testing.B) {
			stores := st.stores(b)
			for _, way := range st.ways {
				b.Run("way="+way.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if err := way.do(ctx, stores, nextLogin()); err != nil {
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
// time per sign-in: with SQLite's one writer the slowest sign-in waits about
// as long as the queue ahead of it, where connections that all write sleep
// in SQLite's busy handler and some starve.
//
//	go test -run '^$' -bench 'SignInParallel' -count 6 ./sqlstore/ | benchstat -col /way -
func BenchmarkSignInParallel(b *testing.B) {
	ctx := context.Background()
	for _, st := range benchStorages("sqlite-pool-full", "sqlite-full", "sqlite-normal", "postgres", "postgres-durable") {
		b.Run("store="+st.name, func(b *testing.B) {
			stores := st.stores(b)
			for _, way := range st.ways {
				b.Run("way="+way.name, func(b *testing.B) {
					// Fill the connection pools first: connecting is not
					// what is measured.
					var warm sync.WaitGroup
					for range 64 {
						warm.Go(func() { _ = way.do(ctx, stores, nextLogin()) })
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
							if err := way.do(ctx, stores, nextLogin()); err != nil {
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
