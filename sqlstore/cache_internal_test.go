package sqlstore

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/stretchr/testify/assert"
)

var cacheT0 = time.Unix(1_900_000_000, 0).UTC()

var cacheOrg = embedsso.Org{ID: "org_cache", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{Value: "0123456789abcdef0123456789abcdef"}},
	AllowedOrigins: []string{"https://app.example.com"}}

// cachedSession is the i-th of many sessions, each of a user of its own.
func cachedSession(i int) embedsso.Session {
	return embedsso.Session{
		IDHash: fmt.Sprintf("%064x", i),
		User: embedsso.User{ID: fmt.Sprintf("usr_%024x", i), OrgID: cacheOrg.ID, Email: fmt.Sprintf("user-%d@example.com", i),
			FirstName: "Pat", LastName: "Lee", Role: "MEMBER", CreatedAt: cacheT0, UpdatedAt: cacheT0},
		CreatedAt: cacheT0, ExpiresAt: cacheT0.Add(8 * time.Hour), IdleExpiresAt: cacheT0.Add(30 * time.Minute),
	}
}

// The cache holds at most MaxSessions sessions (rounded up to a multiple of
// its shards) and as many users, however many sessions it is given, and
// keeps serving the sessions it holds.
func TestTheCacheStaysWithinItsBound(t *testing.T) {
	for _, max := range []int{64, 1000, 4096} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			c := newCache(CacheOptions{MaxSessions: max}.withDefaults())
			c.trustAlways.Store(true) // this test is about the bound, not the feed
			org := cacheOrg
			for i := range 10 * max {
				c.putSession(c.begin(), cachedSession(i), &org)
			}
			sessions, users, orgs := c.size()
			assert.LessOrEqual(t, sessions, (max+cacheShards-1)/cacheShards*cacheShards)
			assert.LessOrEqual(t, users, max)
			assert.Equal(t, 1, orgs)
			assert.Greater(t, sessions, max/2, "it does fill up")
			last := cachedSession(10*max - 1)
			got, _, ok := c.session(last.IDHash)
			assert.True(t, ok, "the latest session is held")
			assert.Equal(t, last.User, got.User)
		})
	}
}

// A fill whose database read began before a change is not kept: the change
// may have come after the read.
func TestTheCacheKeepsNoFillThatAChangeOvertook(t *testing.T) {
	c := newCache(CacheOptions{}.withDefaults())
	c.trustAlways.Store(true)
	org := cacheOrg
	s := cachedSession(1)
	for _, change := range []string{"s:" + s.IDHash, "u:" + s.User.ID, "o:" + org.ID, "t:" + s.IDHash + ":5", "x:unknown"} {
		seq := c.begin()
		c.change(change)
		c.putSession(seq, s, &org)
		_, _, ok := c.session(s.IDHash)
		assert.False(t, ok, change)
	}
}

// BenchmarkCacheMark measures what one garbage collection costs with the
// cache given a million sessions, reported per session held
// (mark-ns/session) beside the heap each takes (heap-B/session) and how many
// it holds (sessions). max=default is the default bound, which a million
// sessions do not pass; max=1M holds them all. users=each gives every
// session a user of its own, users=one gives them all the same user, as
// memstore's BenchmarkMemorySessionStoreMark does: compare with it.
func BenchmarkCacheMark(b *testing.B) {
	const n = 1_000_000
	for _, bound := range []struct {
		name string
		max  int
	}{{"default", 0}, {"1M", n}} {
		for _, users := range []string{"each", "one"} {
			b.Run("max="+bound.name+"/users="+users, func(b *testing.B) {
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				c := newCache(CacheOptions{MaxSessions: bound.max}.withDefaults())
				c.heardAt(c.clock())
				org := cacheOrg
				one := cachedSession(0).User
				for i := range n {
					s := cachedSession(i)
					if users == "one" {
						s.User = one
					}
					c.putSession(c.begin(), s, &org)
				}
				runtime.GC()
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				held, _, _ := c.size()
				b.ResetTimer()
				for b.Loop() {
					runtime.GC()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(held), "mark-ns/session")
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(held), "heap-B/session")
				b.ReportMetric(float64(held), "sessions")
				runtime.KeepAlive(c)
			})
		}
	}
}
