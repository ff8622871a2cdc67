// Package expiry is the sharded map of expiring entries inside the memory
// store's sessions and token ids (package memstore).
package expiry

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Map is the map inside the memory store's sessions and token ids: entries
// that expire, split into shards that each have their own lock and their own
// min-heap of expiry times. So a lookup waits only for writes to its own
// shard, lookups never wait for each other, and deleting expired entries
// takes them off the heap tops in small chunks instead of scanning the whole
// map under one lock. The zero value is empty and ready to use.
//
// Every write pushes the entry's expiry on its shard's heap. Entries that are
// later replaced or deleted leave their heap item behind; such a stale item
// is dropped when it reaches the top, so the heaps hold at most the items of
// one expiry period more than the maps.
type Map[K Key, V Value] struct {
	shards [shardCount]shard[K, V]
	// nextSweep is the Unix second from which a write sweeps every shard.
	nextSweep atomic.Int64
	// ChunkLocked, when set (by benchmarks), runs each time purge has taken
	// a shard's lock for a chunk, so that the hold can be timed exactly.
	ChunkLocked func(shard int)
	// AfterChunk, when set (by tests), runs each time purge has released a
	// shard's lock after a chunk.
	AfterChunk func(shard int)
}

// Key is a map key that knows its shard.
type Key interface {
	comparable
	Shard() uint64
}

// Value is a map value that knows when it expires.
type Value interface{ Expiry() time.Time }

const (
	// shardCount spreads the locks: a million entries make 64 maps of about
	// 16k, each scanned or grown on its own.
	shardCount = 64
	// PurgeChunk bounds how long Purge holds one shard's lock: about
	// a tenth of a millisecond of heap pops and map deletes.
	PurgeChunk = 256
	// Purging as the store goes: every write deletes up to popOnWrite
	// expired entries of its own shard, which keeps up with a steady flow of
	// logins, and a write at most every sweepEvery seconds of the stores'
	// clock deletes up to sweepChunk of every shard, which reaches the
	// shards nobody writes to. Neither makes one write pay for a backlog:
	// Purge is for that.
	popOnWrite = 2
	sweepChunk = 32
	sweepEvery = 60
)

type shard[K Key, V Value] struct {
	mu   sync.RWMutex
	m    map[K]V
	heap expiryHeap[K]
	_    [64]byte // keeps neighbouring shards' locks off one cache line
}

func (e *Map[K, V]) shardOf(k K) *shard[K, V] {
	return &e.shards[k.Shard()%shardCount]
}

// Get returns k's entry, expired or not.
func (e *Map[K, V]) Get(k K) (V, bool) {
	s := e.shardOf(k)
	s.mu.RLock()
	v, ok := s.m[k]
	s.mu.RUnlock()
	return v, ok
}

// Put stores v under k, now being the store's clock. With keepLive, a
// stored entry that has not expired at now stays as it is and Put returns
// false. The check and the write are one step under the shard's lock, so of
// racing keepLive Puts for one key only one succeeds.
func (e *Map[K, V]) Put(k K, v V, now time.Time, keepLive bool) bool {
	s := e.shardOf(k)
	s.mu.Lock()
	s.popExpired(now, popOnWrite)
	if old, ok := s.m[k]; ok && keepLive && old.Expiry().After(now) {
		s.mu.Unlock()
		return false
	}
	if s.m == nil {
		s.m = make(map[K]V)
	}
	s.m[k] = v
	s.heap.push(heapItem[K]{exp: UnixNanos(v.Expiry()), key: k})
	s.mu.Unlock()
	e.maybeSweep(now)
	return true
}

// Update changes k's entry, if any, in place, and files its new expiry on
// the heap (the old item is dropped as stale when it reaches the top).
func (e *Map[K, V]) Update(k K, change func(*V)) {
	s := e.shardOf(k)
	s.mu.Lock()
	if v, ok := s.m[k]; ok {
		change(&v)
		s.m[k] = v
		s.heap.push(heapItem[K]{exp: UnixNanos(v.Expiry()), key: k})
	}
	s.mu.Unlock()
}

// Remove deletes k's entry, if any.
func (e *Map[K, V]) Remove(k K) {
	s := e.shardOf(k)
	s.mu.Lock()
	delete(s.m, k)
	s.mu.Unlock()
}

// RemoveWhere deletes every entry for which match returns true, one shard at
// a time, and reports how many. It looks under the read lock, so lookups go on
// meanwhile, and takes the write lock only to delete what it found.
func (e *Map[K, V]) RemoveWhere(match func(V) bool) int {
	var found []K
	n := 0
	for i := range e.shards {
		s := &e.shards[i]
		found = found[:0]
		s.mu.RLock()
		for k, v := range s.m {
			if match(v) {
				found = append(found, k)
			}
		}
		s.mu.RUnlock()
		if len(found) == 0 {
			continue
		}
		s.mu.Lock()
		for _, k := range found {
			if v, ok := s.m[k]; ok && match(v) {
				delete(s.m, k)
				n++
			}
		}
		s.mu.Unlock()
	}
	return n
}

// Purge deletes every entry that expired at or before now and reports how
// many it deleted. It holds each lock for at most PurgeChunk heap pops.
func (e *Map[K, V]) Purge(now time.Time) int {
	n := 0
	for i := range e.shards {
		s := &e.shards[i]
		for more := true; more; {
			var d int
			s.mu.Lock()
			if e.ChunkLocked != nil {
				e.ChunkLocked(i)
			}
			d, more = s.popExpired(now, PurgeChunk)
			s.mu.Unlock()
			n += d
			if e.AfterChunk != nil {
				e.AfterChunk(i)
			}
			// A purge is background work: between chunks it lets the
			// requests waiting for a processor run, rather than keep one
			// until the scheduler's 10 ms time slice ends.
			runtime.Gosched()
		}
		s.compact()
	}
	return n
}

// maybeSweep deletes up to sweepChunk expired entries of every shard, at
// most once every sweepEvery seconds of now.
func (e *Map[K, V]) maybeSweep(now time.Time) {
	sec := now.Unix()
	next := e.nextSweep.Load()
	if sec < next || !e.nextSweep.CompareAndSwap(next, sec+sweepEvery) {
		return
	}
	for i := range e.shards {
		s := &e.shards[i]
		s.mu.Lock()
		s.popExpired(now, sweepChunk)
		s.mu.Unlock()
		s.compact()
	}
}

// Len reports how many entries are stored, expired ones included.
func (e *Map[K, V]) Len() int {
	n := 0
	for i := range e.shards {
		s := &e.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

// popExpired takes up to max items that expired at or before now off the
// heap, deletes their entries, and reports how many entries it deleted and
// whether expired items remain. The caller holds s.mu.
func (s *shard[K, V]) popExpired(now time.Time, max int) (deleted int, more bool) {
	cut := UnixNanos(now)
	for range max {
		if len(s.heap) == 0 || s.heap[0].exp > cut {
			return deleted, false
		}
		it := s.heap.pop()
		// The entry may have been deleted since, or replaced by one that
		// expires later and has its own heap item.
		if v, ok := s.m[it.key]; ok && !v.Expiry().After(now) {
			delete(s.m, it.key)
			deleted++
		}
	}
	return deleted, len(s.heap) > 0 && s.heap[0].exp <= cut
}

// heapItem is an expiry and the key it belongs to. The expiry is Unix
// nanoseconds rather than a time.Time, whose *Location the garbage collector
// would have to look at: with a key that holds no pointers either (the memory
// stores' keys are fixed-size digests), a heap of a million items is one
// block the collector skips.
type heapItem[K any] struct {
	exp int64
	key K
}

// UnixNanos is t in Unix nanoseconds, held to the int64 range: the heaps
// order expiries, and a time past 2262 (or before 1678) sorts as the last
// (or first) there is.
func UnixNanos(t time.Time) int64 {
	switch {
	case t.After(maxUnixNanos):
		return math.MaxInt64
	case t.Before(minUnixNanos):
		return math.MinInt64
	}
	return t.UnixNano()
}

var (
	maxUnixNanos = time.Unix(0, math.MaxInt64)
	minUnixNanos = time.Unix(0, math.MinInt64)
)

// expiryHeap is a min-heap of expiry times. It is written out rather than
// built on container/heap, whose interface boxes every item pushed or
// popped. Pushes are cheap in practice: sessions are created with one TTL,
// so each new expiry is the latest and stays at the bottom.
type expiryHeap[K any] []heapItem[K]

func (h *expiryHeap[K]) push(it heapItem[K]) {
	*h = append(*h, it)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if q[i].exp >= q[parent].exp {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

func (h *expiryHeap[K]) pop() heapItem[K] {
	q := *h
	last := len(q) - 1
	top := q[0]
	q[0] = q[last]
	q[last] = heapItem[K]{} // let the key be collected
	q = q[:last]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(q) && q[l].exp < q[least].exp {
			least = l
		}
		if r < len(q) && q[r].exp < q[least].exp {
			least = r
		}
		if least == i {
			break
		}
		q[i], q[least] = q[least], q[i]
		i = least
	}
	*h = q
	return top
}

// sparse reports whether the heap holds so few items for its capacity
// that it should give memory back.
func (h expiryHeap[K]) sparse() bool { return cap(h) > 1024 && len(h) < cap(h)/4 }

// compact gives a sparse heap's memory back after a mass expiry, keeping
// room to grow again. The new array is allocated before the lock is taken:
// an allocation is where the garbage collector makes a goroutine help it
// mark, which for a large array can take milliseconds, and no call of the
// shard should wait for that. Under the lock there is only the copy.
func (s *shard[K, V]) compact() {
	s.mu.RLock()
	n, sparse := len(s.heap), s.heap.sparse()
	s.mu.RUnlock()
	if !sparse {
		return
	}
	fresh := make(expiryHeap[K], 0, 2*n)
	s.mu.Lock()
	if s.heap.sparse() && len(s.heap) <= cap(fresh) {
		s.heap = append(fresh, s.heap...)
	}
	s.mu.Unlock()
}

// Digest is the memory store's key: 32 bytes that hold no pointer, so the
// maps and heaps are blocks the garbage collector does not scan, and a key
// costs no allocation of its own.
type Digest [32]byte

// Shard implements [Key]. A Digest is a SHA-256 (of a session token, or of
// an organization and a token id), so its first eight bytes are already
// evenly spread; mixing them with a per-process seed and taking bits from
// the middle of the product means that a shard is not a function of a few
// bits anyone could grind for. It is not maphash.Comparable, which hashes all
// 32 bytes through the runtime's generic path: that was 8% of a lookup's CPU
// (BenchmarkMemorySessionStoreScale).
func (k Digest) Shard() uint64 {
	return ((binary.LittleEndian.Uint64(k[:8]) ^ digestSeed) * 0x9e3779b97f4a7c15) >> 32
}

// digestSeed keys [Digest.Shard]. It is random per process so that nobody
// can choose keys (a token's jti is the customer's) that all land in one
// shard.
var digestSeed = maphash.Comparable(maphash.MakeSeed(), 0)
