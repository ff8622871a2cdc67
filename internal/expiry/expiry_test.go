package expiry

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testKey puts itself in the shard it names, so tests can fill one shard or
// spread over all of them.
type testKey struct {
	shardNo uint64
	name    string
}

func (k testKey) Shard() uint64 { return k.shardNo }

type testValue struct{ exp time.Time }

func (v testValue) Expiry() time.Time { return v.exp }

var t0 = time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)

func key(shardNo int, name string) testKey { return testKey{uint64(shardNo), name} }

func TestExpiringPurge(t *testing.T) {
	t.Parallel()
	t.Run("purge deletes exactly the entries expired at or before now, across shards and chunks", func(t *testing.T) {
		t.Parallel()
		var e Map[testKey, testValue]
		rng := rand.New(rand.NewPCG(1, 2))
		cut := t0.Add(30 * time.Minute)
		wantGone := 0
		// 10 shards get far more than PurgeChunk expired entries each.
		for i := range 20_000 {
			exp := t0.Add(time.Duration(1+rng.IntN(60)) * time.Minute) // none expired at t0, when it is put
			if !exp.After(cut) {
				wantGone++
			}
			e.Put(key(i%10, strconv.Itoa(i)), testValue{exp}, t0, false)
		}
		require.Greater(t, wantGone/10, PurgeChunk)
		n := e.Purge(cut)
		assert.Equal(t, wantGone, n)
		assert.Equal(t, 20_000-wantGone, e.Len())
		for i := range e.shards {
			for k, v := range e.shards[i].m {
				assert.True(t, v.exp.After(cut), "%v survived the purge but expired at %v", k, v.exp)
			}
		}
		assert.Zero(t, e.Purge(cut), "a second purge finds nothing")
	})
	t.Run("purge releases the shard's lock after every chunk, so others get in between", func(t *testing.T) {
		t.Parallel()
		var e Map[testKey, testValue]
		// 256 per lock hold, as memstore.Store's doc and docs/performance.md say.
		for i := range 3*256 + 1 {
			e.Put(key(6, strconv.Itoa(i)), testValue{t0.Add(time.Minute)}, t0, false)
		}
		e.Put(key(6, "live"), testValue{t0.Add(time.Hour)}, t0, false)
		chunks := 0
		e.AfterChunk = func(shard int) {
			if shard != 6 {
				return
			}
			chunks++
			// Both would deadlock if purge still held the lock.
			_, ok := e.Get(key(6, "live"))
			assert.True(t, ok)
			e.Put(key(6, "during-"+strconv.Itoa(chunks)), testValue{t0.Add(time.Hour)}, t0, false)
		}
		assert.Equal(t, 3*256+1, e.Purge(t0.Add(2*time.Minute)))
		assert.Equal(t, 4, chunks)
		assert.Equal(t, 5, e.Len(), "the live entry and the four written between chunks")
	})
	t.Run("keys spread over 64 shards", func(t *testing.T) {
		t.Parallel()
		var e Map[testKey, testValue]
		assert.Equal(t, 64, len(e.shards))
		e.Put(key(64+6, "a"), testValue{t0.Add(time.Hour)}, t0, false)
		assert.Len(t, e.shards[6].m, 1)
	})
	t.Run("lookups share a shard's lock", func(t *testing.T) {
		t.Parallel()
		var e Map[testKey, testValue]
		e.Put(key(8, "a"), testValue{t0.Add(time.Hour)}, t0, false)
		// Another reader holds shard 8: a lookup still gets in (with an
		// exclusive lock it would deadlock here).
		e.shards[8].mu.RLock()
		_, ok := e.Get(key(8, "a"))
		e.shards[8].mu.RUnlock()
		assert.True(t, ok)
	})
	t.Run("an entry replaced by a later one survives the purge of its first expiry", func(t *testing.T) {
		t.Parallel()
		var e Map[testKey, testValue]
		k := key(3, "a")
		e.Put(k, testValue{t0.Add(time.Minute)}, t0, false)
		e.Put(k, testValue{t0.Add(time.Hour)}, t0, false)
		assert.Zero(t, e.Purge(t0.Add(2*time.Minute)))
		_, ok := e.Get(k)
		assert.True(t, ok)
		assert.Equal(t, 1, e.Purge(t0.Add(time.Hour)))
		_, ok = e.Get(k)
		assert.False(t, ok)
	})
	t.Run("an entry replaced by an earlier one is purged at the earlier time, and counted once", func(t *testing.T) {
		t.Parallel()
		var e Map[testKey, testValue]
		k := key(3, "a")
		e.Put(k, testValue{t0.Add(time.Hour)}, t0, false)
		e.Put(k, testValue{t0.Add(time.Minute)}, t0, false)
		assert.Equal(t, 1, e.Purge(t0.Add(2*time.Minute)))
		assert.Zero(t, e.Purge(t0.Add(2*time.Hour)))
		assert.Zero(t, e.Len())
	})
	t.Run("the heap item a deleted entry leaves behind deletes nothing", func(t *testing.T) {
		t.Parallel()
		var e Map[testKey, testValue]
		k := key(5, "a")
		e.Put(k, testValue{t0.Add(time.Minute)}, t0, false)
		e.Remove(k)
		e.Put(k, testValue{t0.Add(time.Hour)}, t0, false)
		assert.Zero(t, e.Purge(t0.Add(2*time.Minute)))
		_, ok := e.Get(k)
		assert.True(t, ok)
	})
	t.Run("a write deletes expired entries of its own shard as it goes", func(t *testing.T) {
		t.Parallel()
		var e Map[testKey, testValue]
		e.Put(key(7, "old"), testValue{t0.Add(time.Minute)}, t0, false)
		e.Put(key(7, "new"), testValue{t0.Add(time.Hour)}, t0.Add(2*time.Minute), false)
		_, ok := e.Get(key(7, "old"))
		assert.False(t, ok)
		assert.Equal(t, 1, e.Len())
	})
	t.Run("a write deletes expired entries of other shards once a sweep interval has passed", func(t *testing.T) {
		t.Parallel()
		var e Map[testKey, testValue]
		e.Put(key(1, "old"), testValue{t0.Add(time.Second)}, t0, false) // the first write sweeps: next at t0+60s
		e.Put(key(2, "early"), testValue{t0.Add(time.Hour)}, t0.Add(30*time.Second), false)
		_, ok := e.Get(key(1, "old"))
		assert.True(t, ok, "no sweep before the interval")
		e.Put(key(2, "late"), testValue{t0.Add(time.Hour)}, t0.Add(sweepEvery*time.Second), false)
		_, ok = e.Get(key(1, "old"))
		assert.False(t, ok, "the sweep reached shard 1")
		assert.Equal(t, 2, e.Len())
	})
	t.Run("an as-you-go sweep deletes at most sweepChunk entries of a shard", func(t *testing.T) {
		t.Parallel()
		var e Map[testKey, testValue]
		for i := range 3 * sweepChunk {
			e.Put(key(1, strconv.Itoa(i)), testValue{t0.Add(time.Second)}, t0, false)
		}
		e.Put(key(2, "x"), testValue{t0.Add(2 * time.Hour)}, t0.Add(time.Hour), false)
		assert.Equal(t, 2*sweepChunk+1, e.Len())
	})
}

func TestExpiringPut(t *testing.T) {
	t.Parallel()
	t.Run("put refuses a key whose entry is live and changes nothing", func(t *testing.T) {
		t.Parallel()
		var e Map[testKey, testValue]
		k := key(4, "jti")
		require.True(t, e.Put(k, testValue{t0.Add(time.Hour)}, t0, true))
		assert.False(t, e.Put(k, testValue{t0.Add(2 * time.Hour)}, t0, true))
		v, _ := e.Get(k)
		assert.Equal(t, t0.Add(time.Hour), v.exp)
		assert.Len(t, e.shards[4].heap, 1, "a refused put pushes nothing")
	})
	t.Run("put replaces an entry that expired at now", func(t *testing.T) {
		t.Parallel()
		var e Map[testKey, testValue]
		k := key(4, "jti")
		require.True(t, e.Put(k, testValue{t0.Add(time.Hour)}, t0, true))
		assert.True(t, e.Put(k, testValue{t0.Add(2 * time.Hour)}, t0.Add(time.Hour), true))
		v, _ := e.Get(k)
		assert.Equal(t, t0.Add(2*time.Hour), v.exp)
	})
	t.Run("of racing puts for one key that keep live entries, exactly one succeeds", func(t *testing.T) {
		t.Parallel()
		var e Map[testKey, testValue]
		var wg sync.WaitGroup
		wins := make([]bool, 50)
		for i := range wins {
			wg.Go(func() { wins[i] = e.Put(key(9, "race"), testValue{t0.Add(time.Hour)}, t0, true) })
		}
		wg.Wait()
		n := 0
		for _, w := range wins {
			if w {
				n++
			}
		}
		assert.Equal(t, 1, n)
	})
}

func TestExpiringRemoveWhere(t *testing.T) {
	t.Parallel()
	var e Map[testKey, testValue]
	for i := range 1000 {
		e.Put(key(i, strconv.Itoa(i)), testValue{t0.Add(time.Duration(i) * time.Second)}, t0, false)
	}
	e.RemoveWhere(func(v testValue) bool { return v.exp.Sub(t0)%(2*time.Second) == 0 })
	assert.Equal(t, 500, e.Len())
	for i := range e.shards {
		for _, v := range e.shards[i].m {
			assert.NotZero(t, v.exp.Sub(t0)%(2*time.Second), "an even entry survived")
		}
	}
}

func TestExpiryHeap(t *testing.T) {
	t.Parallel()
	t.Run("items come off in expiry order", func(t *testing.T) {
		t.Parallel()
		var h expiryHeap[int]
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range 5000 {
			h.push(heapItem[int]{exp: UnixNanos(t0.Add(time.Duration(rng.IntN(1000)) * time.Second)), key: i})
		}
		prev := h.pop().exp
		for len(h) > 0 {
			it := h.pop()
			require.GreaterOrEqual(t, it.exp, prev, "%v came after %v", it.exp, prev)
			prev = it.exp
		}
	})
	t.Run("a purge gives the heap's memory back once most items are gone", func(t *testing.T) {
		t.Parallel()
		var e Map[testKey, testValue]
		for i := range 100_000 {
			e.Put(key(0, strconv.Itoa(i)), testValue{t0.Add(time.Duration(i + 1))}, t0, false)
		}
		assert.Equal(t, 99_000, e.Purge(t0.Add(99_000)))
		assert.Len(t, e.shards[0].heap, 1000)
		assert.Less(t, cap(e.shards[0].heap), 100_000/4)
	})
}

// Not parallel: testing.AllocsPerRun refuses to run beside parallel tests.
func TestPoppingTheHeapNeverAllocates(t *testing.T) {
	var h expiryHeap[int]
	for i := range 100_000 {
		h.push(heapItem[int]{exp: int64(i), key: i})
	}
	// popExpired runs under a shard's lock; an allocation there could make
	// the goroutine help the garbage collector while others wait.
	// AllocsPerRun calls the function 11 times (a warm-up and 10 runs) and
	// divides the process's allocations by 10, rounding down: a stray one
	// elsewhere in the runtime (seen once under load) is not counted, while
	// a pop that allocated would count 9,000 a run.
	allocs := testing.AllocsPerRun(10, func() {
		for range 9_000 {
			h.pop()
		}
	})
	assert.Zero(t, allocs)
	assert.Len(t, h, 1000, "the heap is down to 1% of its items, and kept its array")
}

// Writers, readers, purges and revocations at once: the race detector
// watches, and afterwards every entry left is one that should be.
func TestExpiringConcurrentUse(t *testing.T) {
	t.Parallel()
	var e Map[testKey, testValue]
	var wg sync.WaitGroup
	const writers, perWriter = 4, 2000
	cut := t0.Add(time.Hour)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				exp := t0.Add(time.Minute) // expired at cut
				if i%2 == 1 {
					exp = t0.Add(2 * time.Hour)
				}
				k := key(i, strconv.Itoa(w)+"-"+strconv.Itoa(i))
				e.Put(k, testValue{exp}, t0, false)
				e.Get(k)
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 20 {
				e.Purge(cut)
				e.RemoveWhere(func(v testValue) bool { return false })
			}
		})
	}
	wg.Wait()
	e.Purge(cut)
	assert.Equal(t, writers*perWriter/2, e.Len())
}

// Not parallel: it sets GOMAXPROCS to 1, so that another goroutine runs
// during a purge only if the purge lets it.
func TestAPurgeLetsOtherGoroutinesRunBetweenChunks(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var e Map[testKey, testValue]
	for i := range 4 * PurgeChunk {
		e.Put(key(0, strconv.Itoa(i)), testValue{t0.Add(time.Minute)}, t0, false)
	}
	var ran atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				ran.Add(1)
				runtime.Gosched()
			}
		}
	}()
	var seen []int64
	e.AfterChunk = func(int) { seen = append(seen, ran.Load()) }
	require.Equal(t, 4*PurgeChunk, e.Purge(t0.Add(time.Hour)))
	close(stop)
	<-done
	require.GreaterOrEqual(t, len(seen), 4)
	// The scheduler may hand the processor to a runtime goroutine instead
	// now and then; without the yield the other goroutine would not run at
	// all before the purge ends, well within one 10 ms time slice.
	ranBetween := 0
	for i := 1; i < len(seen); i++ {
		if seen[i] > seen[i-1] {
			ranBetween++
		}
	}
	assert.Greater(t, ranBetween, (len(seen)-1)/2, "the other goroutine ran between %d of %d pairs of chunks", ranBetween, len(seen)-1)
}

func TestExpiriesPastTheNanosecondRangeSortLast(t *testing.T) {
	t.Parallel()
	var e Map[testKey, testValue]
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	e.Put(key(0, "far"), testValue{far}, t0, false)
	e.Put(key(0, "soon"), testValue{t0.Add(time.Minute)}, t0, false)
	e.Put(key(0, "past"), testValue{time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)}, t0, false)
	assert.Equal(t, 2, e.Purge(t0.Add(time.Hour)), "the year-1000 and the one-minute entries go")
	_, ok := e.Get(key(0, "far"))
	assert.True(t, ok, "the year-9999 entry stays")
	assert.Equal(t, 1, e.Purge(far), "and goes once its time has come")
}

// Digests (SHA-256 outputs) spread evenly over the shards, and the spread
// depends on the process's seed, not only on the digest.
func TestDigestsSpreadOverTheShards(t *testing.T) {
	const perShard = 1000
	var counts [shardCount]int
	for i := range shardCount * perShard {
		k := Digest(sha256.Sum256(binary.AppendUvarint(nil, uint64(i))))
		counts[k.Shard()%shardCount]++
	}
	for i, n := range counts {
		assert.InDelta(t, perShard, n, perShard/5, "shard %d", i)
	}
	var k Digest
	saved := digestSeed
	t.Cleanup(func() { digestSeed = saved })
	moved := 0
	for seed := range uint64(64) {
		digestSeed = seed * 0x9e3779b97f4a7c15
		before := k.Shard() % shardCount
		digestSeed++
		if k.Shard()%shardCount != before {
			moved++
		}
	}
	assert.Greater(t, moved, 0, "the seed chooses the shard")
}
