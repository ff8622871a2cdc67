package memstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
)

// The memory store's benchmarks call only the methods its sessions and token
// ids had as exported stores (MemorySessionStore and MemoryReplayStore,
// before the package's Store joined them), so the same file measures any
// version of them: the sessions part here returns a session's user as it
// was stored, as a MemorySessionStore without Users did. The stall benchmark fills a million
// sessions per iteration; run it with a fixed count:
//
//	go test -run '^$' -bench MemorySessionStoreStall -benchtime 3x -count 6
//	go test -run '^$' -bench 'MemorySessionStoreParallel|MemoryReplayStoreParallel|MemorySessionStoreScale' -benchmem -count 6
//	go test -run '^$' -bench MemorySessionStoreMark -benchtime 5x -count 6

var (
	benchT0   = time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	benchUser = embedsso.User{ID: "usr_0123456789abcdef01234567", OrgID: "org_abc123", Email: "jane@example.com",
		FirstName: "Jane", LastName: "Doe", Role: "MEMBER", CreatedAt: benchT0, UpdatedAt: benchT0}
)

// sessionKeys returns n distinct session id hashes, shaped like real ones
// (hex SHA-256), starting at index from.
func sessionKeys(from, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		sum := sha256.Sum256(strconv.AppendInt(nil, int64(from+i), 10))
		keys[i] = hex.EncodeToString(sum[:])
	}
	return keys
}

func fillSessions(b *testing.B, s *sessionStore, keys []string, expiresAt time.Time) {
	ctx := context.Background()
	for _, k := range keys {
		if err := s.CreateSession(ctx, embedsso.Session{IDHash: k, User: benchUser, CreatedAt: benchT0, ExpiresAt: expiresAt}); err != nil {
			b.Fatal(err)
		}
	}
}

// waits records how long each call took.
type waits []time.Duration

func (w waits) report(b *testing.B, name string) {
	if len(w) == 0 {
		b.Fatalf("no %s call was measured", name)
	}
	slices.Sort(w)
	b.ReportMetric(float64(w[len(w)-1].Nanoseconds()), name+"-max-ns")
	b.ReportMetric(float64(w[len(w)*99/100].Nanoseconds()), name+"-p99-ns")
}

// BenchmarkMemorySessionStoreStall measures how long logins (CreateSession)
// and authenticated requests (FindSession) wait while a million expired
// sessions are deleted: by PurgeExpired running beside them ("purge"), or by
// the store's own purge-as-you-go, which a login past the store's purge
// interval triggers ("as-you-go"). Each iteration fills a new store with 1M
// expired and 10k live sessions, then times every call of one finder and one
// creator goroutine until the purge is over. It reports the longest and the
// 99th-percentile wait of each kind of call, over all iterations. "none" is
// the control: the same calls for one second with no purge, whose longest
// waits are the machine's own noise (the scheduler, the garbage collector).
func BenchmarkMemorySessionStoreStall(b *testing.B) {
	const expired, live, creates = 1_000_000, 10_000, 200_000
	expiredKeys := sessionKeys(0, expired)
	liveKeys := sessionKeys(expired, live)
	newKeys := sessionKeys(expired+live, creates)
	purgeAt := benchT0.Add(10 * time.Minute)

	for _, mode := range []string{"none", "purge", "as-you-go"} {
		b.Run(mode, func(b *testing.B) {
			var finds, creates waits
			var purge time.Duration
			for range b.N {
				b.StopTimer()
				s := &sessionStore{}
				fillSessions(b, s, expiredKeys, benchT0.Add(time.Minute))
				fillSessions(b, s, liveKeys, benchT0.Add(8*time.Hour))
				runtime.GC()
				b.StartTimer()

				ctx := context.Background()
				done := make(chan struct{})
				var stop atomic.Bool
				var wg sync.WaitGroup
				var f, c waits
				wg.Go(func() { // an authenticated request per loop
					for i := 0; !stop.Load(); i++ {
						t := time.Now()
						_, err := s.FindSession(ctx, liveKeys[i%live], purgeAt, nil)
						f = append(f, time.Since(t))
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
				wg.Go(func() { // a login per loop
					createdAt := benchT0 // the store's clock stays before its next purge
					if mode == "as-you-go" {
						createdAt = purgeAt // the first login runs the store's purge
						defer close(done)
					}
					for i := 0; !stop.Load() && i < len(newKeys); i++ {
						sess := embedsso.Session{IDHash: newKeys[i], User: benchUser, CreatedAt: createdAt, ExpiresAt: purgeAt.Add(8 * time.Hour)}
						t := time.Now()
						err := s.CreateSession(ctx, sess)
						c = append(c, time.Since(t))
						if err != nil {
							b.Error(err)
							return
						}
						// As-you-go purging may be spread over later logins:
						// run this mode until the expired sessions are gone
						// or the keys run out.
						if mode == "as-you-go" && i%1000 == 0 && s.Len() <= live+i+1 {
							return
						}
					}
				})
				switch mode {
				case "none":
					time.Sleep(time.Second)
				case "purge":
					t := time.Now()
					n, err := s.PurgeExpired(ctx, purgeAt)
					purge += time.Since(t)
					if err != nil || n < expired {
						b.Fatalf("purged %d, %v", n, err)
					}
				default:
					<-done
				}
				stop.Store(true)
				wg.Wait()
				b.StopTimer()
				finds, creates = append(finds, f...), append(creates, c...)
				b.StartTimer()
			}
			finds.report(b, "find")
			creates.report(b, "create")
			if mode == "purge" {
				b.ReportMetric(float64(purge.Nanoseconds())/float64(b.N), "purge-ns")
			}
		})
	}
}

// BenchmarkMemorySessionStoreParallel measures the two calls of a session
// store on the request path from every core at once.
func BenchmarkMemorySessionStoreParallel(b *testing.B) {
	ctx := context.Background()
	b.Run("FindSession", func(b *testing.B) {
		const n = 100_000
		keys := sessionKeys(0, n)
		s := &sessionStore{}
		fillSessions(b, s, keys, benchT0.Add(8*time.Hour))
		var next atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(7919)) // each goroutine its own walk through the keys
			for pb.Next() {
				if _, err := s.FindSession(ctx, keys[i%n], benchT0, nil); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
	b.Run("CreateSession", func(b *testing.B) {
		keys := sessionKeys(0, b.N)
		s := &sessionStore{}
		var next atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				k := keys[next.Add(1)-1]
				if err := s.CreateSession(ctx, embedsso.Session{IDHash: k, User: benchUser, CreatedAt: benchT0, ExpiresAt: benchT0.Add(8 * time.Hour)}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkMemoryReplayStoreParallel measures UseTokenID, one call per login
// and one per cookie check, from every core at once.
func BenchmarkMemoryReplayStoreParallel(b *testing.B) {
	ctx := context.Background()
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = fmt.Sprintf("jti-%016x", i)
	}
	s := &Store{}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.UseTokenID(ctx, "org_abc123", ids[next.Add(1)-1], benchT0.Add(10*time.Minute), benchT0); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkMemorySessionStoreScale measures FindSession, one goroutine, in
// stores of 1, 1k and 1M sessions, each lookup a different session of the
// store in a scattered order. Beside it, store=map does the same lookups in
// a plain map[string]Session under one RWMutex: the floor of any map-based
// store, whose rise from 1 to 1M is the CPU caches', not the store's.
func BenchmarkMemorySessionStoreScale(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1, 1_000, 1_000_000} {
		keys := sessionKeys(0, n)
		// A stride coprime with n visits every key, far from the last.
		stride := 1
		if n > 1 {
			stride = 7919
		}
		b.Run("store=memory/sessions="+strconv.Itoa(n), func(b *testing.B) {
			s := &sessionStore{}
			fillSessions(b, s, keys, benchT0.Add(8*time.Hour))
			runtime.GC()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := s.FindSession(ctx, keys[i], benchT0, nil); err != nil {
					b.Fatal(err)
				}
				i = (i + stride) % n
			}
		})
		b.Run("store=map/sessions="+strconv.Itoa(n), func(b *testing.B) {
			var mu sync.RWMutex
			m := make(map[string]embedsso.Session)
			for _, k := range keys {
				m[k] = embedsso.Session{IDHash: k, User: benchUser, CreatedAt: benchT0, ExpiresAt: benchT0.Add(8 * time.Hour)}
			}
			runtime.GC()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				mu.RLock()
				sess, ok := m[keys[i]]
				mu.RUnlock()
				if !ok || !sess.ExpiresAt.After(benchT0) {
					b.Fatal("not found")
				}
				i = (i + stride) % n
			}
		})
	}
}

// BenchmarkMemorySessionStoreMark measures what one garbage collection costs
// with 1M sessions stored, reported per session (mark-ns/session) beside the
// heap each session takes (heap-B/session). Every collection marks every
// stored session, and a server collects about once per live heap's worth of
// allocation, so this is the share of each request that the store adds to the
// collector's work. store=map keeps the same sessions as map[string]Session
// values under one lock, as a store that holds a Session as it is given would.
// With attributes=yes each session's user has two attributes and a group, in
// a map and a slice of its own, as the handler makes them at each sign-in.
func BenchmarkMemorySessionStoreMark(b *testing.B) {
	const n = 1_000_000
	keys := sessionKeys(0, n)
	measure := func(b *testing.B, hold func() any) {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		kept := hold()
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ResetTimer()
		for b.Loop() {
			runtime.GC()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "mark-ns/session")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/session")
		runtime.KeepAlive(kept)
	}
	for _, attrs := range []bool{false, true} {
		user := func() embedsso.User {
			u := benchUser
			if attrs {
				u.Attributes, u.Groups = map[string]any{"team": "blue", "level": 3.0}, []string{"eng"}
			}
			return u
		}
		suffix := "/attributes=no"
		if attrs {
			suffix = "/attributes=yes"
		}
		b.Run("store=memory"+suffix, func(b *testing.B) {
			measure(b, func() any {
				s := &sessionStore{}
				ctx := context.Background()
				for _, k := range keys {
					if err := s.CreateSession(ctx, embedsso.Session{IDHash: k, User: user(), CreatedAt: benchT0, ExpiresAt: benchT0.Add(8 * time.Hour)}); err != nil {
						b.Fatal(err)
					}
				}
				return s
			})
		})
		b.Run("store=map"+suffix, func(b *testing.B) {
			measure(b, func() any {
				m := make(map[string]embedsso.Session, n)
				for _, k := range keys {
					m[k] = embedsso.Session{IDHash: k, User: user(), CreatedAt: benchT0, ExpiresAt: benchT0.Add(8 * time.Hour)}
				}
				return m
			})
		})
	}
	// Every session a user of its own, as sqlstore's BenchmarkCacheMark
	// users=each: the sessions' users are then what the collector marks.
	b.Run("store=memory/attributes=no,users=each", func(b *testing.B) {
		measure(b, func() any {
			s := &sessionStore{}
			ctx := context.Background()
			for i, k := range keys {
				u := benchUser
				u.ID, u.Email = fmt.Sprintf("usr_%024x", i), fmt.Sprintf("user-%d@example.com", i)
				if err := s.CreateSession(ctx, embedsso.Session{IDHash: k, User: u, CreatedAt: benchT0, ExpiresAt: benchT0.Add(8 * time.Hour)}); err != nil {
					b.Fatal(err)
				}
			}
			return s
		})
	})
}
