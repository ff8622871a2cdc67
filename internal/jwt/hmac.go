package jwt

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
	"sync/atomic"
)

// MACs verifies HS256 signatures with an HMAC keyed once per secret.
//
// Written by hand rather than through jwx's jws.Verifier, which takes the
// key on every call and so runs hmac.New (two SHA-256 blocks of key
// schedule and several allocations) for every token. Here each secret gets
// a pool of keyed HMACs, which are reset and reused; the result is compared
// in constant time with crypto/hmac.Equal, as jwx does. The algorithm is
// pinned to HS256 by the handler's parse, before any key is chosen. Keyed by the secret
// itself, the cache needs no invalidation: a rotated secret is a new entry.
// The zero value is ready to use; it must not be copied after first use.
type MACs struct {
	m sync.Map // secret string → *sync.Pool of hash.Hash
	n atomic.Int64
}

// maxCachedMACs bounds the cache; past it the cache starts over.
const maxCachedMACs = 4096

// Verify reports whether sig is the HMAC-SHA256 of input under secret.
func (c *MACs) Verify(secret string, input, sig []byte) bool {
	p, ok := c.m.Load(secret)
	if !ok {
		key := []byte(secret)
		p = &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}
		if c.n.Add(1) > maxCachedMACs {
			c.m.Clear()
			c.n.Store(1)
		}
		p, _ = c.m.LoadOrStore(secret, p)
	}
	pool := p.(*sync.Pool)
	mac := pool.Get().(hash.Hash)
	mac.Reset()
	mac.Write(input)
	var sum [sha256.Size]byte
	ok = hmac.Equal(mac.Sum(sum[:0]), sig)
	pool.Put(mac)
	return ok
}
