// Package replay remembers used token ids in memory: the handler's default
// replay store, and the memory store's (package memstore).
package replay

import (
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/embedsso/embedsso/internal/expiry"
)

// Store remembers used token ids until they expire, safe for concurrent use.
// It forgets ids once they expire. The zero value is ready to use. It is
// split into shards with their own locks (package expiry).
type Store struct {
	used expiry.Map[expiry.Digest, usedUntil]
}

// tokenDigest is the key of orgID's token id: a SHA-256 of both, the org's
// length first so that no two pairs write the same input. The input is
// gathered in a buffer on the stack and hashed in one call, which allocates
// nothing for ids of usual lengths (TestATokenDigestAllocatesNothing); the
// streaming hash.Hash it replaces cost every login and every ticket one
// allocation.
func tokenDigest(orgID, tokenID string) expiry.Digest {
	var buf [256]byte // longer ids go to the heap
	in := binary.AppendUvarint(buf[:0], uint64(len(orgID)))
	in = append(append(in, orgID...), tokenID...)
	return sha256.Sum256(in)
}

// usedUntil is when a recorded token id may be used again, in Unix
// nanoseconds (see expiry.UnixNanos): no pointer, unlike a time.Time.
type usedUntil int64

func (u usedUntil) Expiry() time.Time { return time.Unix(0, int64(u)) }

// Use records tokenID of orgID as used until expiresAt and reports true,
// unless it is already recorded with an expiry after now: then it changes
// nothing and reports false. Of racing calls with one id, one reports true.
func (s *Store) Use(orgID, tokenID string, expiresAt, now time.Time) bool {
	return s.used.Put(tokenDigest(orgID, tokenID), usedUntil(expiry.UnixNanos(expiresAt)), now, true)
}

// Purge deletes the ids that expired at or before now and reports how many.
func (s *Store) Purge(now time.Time) int { return s.used.Purge(now) }

// Len reports how many token ids are remembered, expired ones included.
func (s *Store) Len() int { return s.used.Len() }
