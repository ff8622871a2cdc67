package embedsso

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"hash/maphash"
	"maps"
	"slices"
	"sync"
	"time"
)

// MemoryOrgStore is an [OrgStore] held in memory, safe for concurrent use.
// The zero value is empty and ready to use.
type MemoryOrgStore struct {
	mu   sync.RWMutex
	orgs map[string]Org
	meta map[string]orgMeta // what OrgAdmin adds to an Org (memadmin.go)
}

// NewMemoryOrgStore returns a store holding orgs. It fails, holding none,
// if one does not pass [Org.Validate].
func NewMemoryOrgStore(orgs ...Org) (*MemoryOrgStore, error) {
	s := &MemoryOrgStore{}
	for _, o := range orgs {
		if err := s.Put(o); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Put adds or replaces an organization. An org that does not pass
// [Org.Validate] is refused with its error and not stored.
func (s *MemoryOrgStore) Put(o Org) error {
	if err := o.Validate(); err != nil {
		return err
	}
	o = cloneOrg(o)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.orgs == nil {
		s.orgs = make(map[string]Org)
	}
	s.orgs[o.ID] = o
	return nil
}

// FindOrg implements [OrgStore].
func (s *MemoryOrgStore) FindOrg(_ context.Context, id string) (Org, error) {
	s.mu.RLock()
	o, ok := s.orgs[id]
	s.mu.RUnlock()
	if !ok {
		return Org{}, ErrOrgNotFound
	}
	// The slices are never mutated after Put, so sharing them is safe.
	return o, nil
}

func cloneOrg(o Org) Org {
	o.Secrets = append([]Secret(nil), o.Secrets...)
	o.AllowedOrigins = append([]string(nil), o.AllowedOrigins...)
	o.AllowedRoles = append([]string(nil), o.AllowedRoles...)
	o.AllowedGroups = append([]string(nil), o.AllowedGroups...)
	return o
}

// MemoryUserStore is a [UserStore] held in memory, safe for concurrent use.
// The zero value is ready to use.
type MemoryUserStore struct {
	// Now stamps CreatedAt and UpdatedAt. Default: time.Now.
	Now func() time.Time

	mu    sync.RWMutex
	users map[userKey]User
	ids   map[[2]string]userKey // (org, user id) → key, for sessions' current users
}

type userKey struct{ org, email string }

// UpsertUser implements [UserStore]. It keys users on p.Email byte for byte,
// as the handler normalized it ([NormalizeEmail]); folding it again here
// could merge two users the normalization keeps apart.
func (s *MemoryUserStore) UpsertUser(_ context.Context, p Profile) (User, error) {
	now := nowFunc(s.Now)()
	k := userKey{p.OrgID, p.Email}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users == nil {
		s.users, s.ids = make(map[userKey]User), make(map[[2]string]userKey)
	}
	u, ok := s.users[k]
	if !ok {
		u = User{ID: "usr_" + randomHex(12), OrgID: p.OrgID, Email: k.email, CreatedAt: now}
		s.ids[[2]string{u.OrgID, u.ID}] = k
	}
	u.FirstName, u.LastName, u.Role, u.UpdatedAt = p.FirstName, p.LastName, p.Role, now
	// Copies: the caller's map and slice stay the caller's, and a returned
	// user shares nothing with the stored one.
	u.Attributes, u.Groups = maps.Clone(p.Attributes), slices.Clone(p.Groups)
	s.users[k] = u
	u.Attributes, u.Groups = maps.Clone(u.Attributes), slices.Clone(u.Groups)
	return u, nil
}

// byID returns the user orgID/id as stored now.
func (s *MemoryUserStore) byID(orgID, id string) (User, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.ids[[2]string{orgID, id}]
	if !ok {
		return User{}, false
	}
	u, ok := s.users[k]
	u.Attributes, u.Groups = maps.Clone(u.Attributes), slices.Clone(u.Groups)
	return u, ok
}

// Users returns a snapshot of every stored user, for tests and tools.
func (s *MemoryUserStore) Users() []User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u)
	}
	return out
}

// MemorySessionStore is a [SessionStore] held in memory, safe for concurrent
// use. It forgets sessions some time after they expire. The zero value is
// ready to use.
//
// It is split into 64 shards, each with its own read-write lock: lookups
// share a shard's lock, and a write holds only its own shard's. Each shard
// keeps its sessions' expiry times in a min-heap, so
// [MemorySessionStore.PurgeExpired] takes expired sessions in order of expiry
// instead of scanning every session, and holds a shard's lock for at most
// 256 of them at a time.
//
// A stored session holds two pointers, one to its user's strings, which all
// sessions of one user share, and one to its attributes and groups, nil
// without them, so that a garbage collection has little to mark per session
// (BenchmarkMemorySessionStoreMark). Its times come back as the same
// instants, without the monotonic clock reading, as from a database: in
// time.Local if stored so, otherwise in UTC.
type MemorySessionStore struct {
	// Users is the store the sessions' users live in: FindSession returns
	// each session's user as Users holds it now, and no session of a user
	// Users no longer has, as [SessionStore] requires. Set it whenever
	// sessions and users are kept apart; nil returns the user as it was at
	// sign-in.
	Users *MemoryUserStore

	sessions expiring[digest, storedSession]
}

// digest is a memory store's key: 32 bytes that hold no pointer, so the
// stores' maps and heaps are blocks the garbage collector does not scan, and
// a key costs no allocation of its own.
type digest [sha256.Size]byte

func (k digest) shard() uint64 { return maphash.Comparable(shardSeed, k) }

// sessionDigest is the key of the session whose IDHash is idHash. The
// handler's IDHash is the lowercase hex of a SHA-256, which is decoded; any
// other string a caller may use is hashed, behind a prefix byte that no
// decoding starts the input with, so the two kinds of key cannot meet short
// of a SHA-256 preimage.
func sessionDigest(idHash string) digest {
	var k digest
	if len(idHash) == 2*len(k) && decodeLowerHex(k[:], idHash) {
		return k
	}
	h := sha256.New()
	h.Write([]byte{0})
	h.Write([]byte(idHash))
	h.Sum(k[:0])
	return k
}

// decodeLowerHex decodes s, lowercase hex of twice len(dst) digits, into dst
// and reports whether every digit was one. Written out rather than
// encoding/hex, which also takes upper case (two spellings of one key) and
// so would need a second pass to refuse it: this is one pass of table
// lookups with one branch at the end, because random digits make a branch
// per byte mispredict about every other byte (200 ns per lookup in
// BenchmarkMemorySessionStoreScale when it did).
func decodeLowerHex(dst []byte, s string) bool {
	var bad byte
	for i := range dst {
		hi, lo := lowerHexValue[s[2*i]], lowerHexValue[s[2*i+1]]
		bad |= hi | lo
		dst[i] = hi<<4 | lo&0x0f
	}
	return bad&0xf0 == 0
}

// lowerHexValue maps a lowercase hex digit to its value and any other byte
// to 0xff.
var lowerHexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range []byte("0123456789abcdef") {
		t[c] = byte(i)
	}
	return t
}()

// CreateSession implements [SessionStore].
func (s *MemorySessionStore) CreateSession(_ context.Context, sess Session) error {
	// A new session's creation time is the store's clock for purging as it
	// goes. The id hash is the key; FindSession gives back the caller's.
	s.sessions.put(sessionDigest(sess.IDHash), storeSession(&sess), sess.CreatedAt, false)
	return nil
}

// FindSession implements [SessionStore].
func (s *MemorySessionStore) FindSession(_ context.Context, idHash string, now time.Time) (Session, error) {
	stored, ok := s.sessions.get(sessionDigest(idHash))
	if !ok {
		return Session{}, ErrSessionNotFound
	}
	sess := stored.session(idHash)
	if sess.ended(now) {
		return Session{}, ErrSessionNotFound
	}
	if s.Users != nil {
		u, ok := s.Users.byID(sess.User.OrgID, sess.User.ID)
		if !ok {
			return Session{}, ErrSessionNotFound
		}
		sess.User = u
	}
	return sess, nil
}

// TouchSession implements [SessionStore].
func (s *MemorySessionStore) TouchSession(_ context.Context, idHash string, idleExpiresAt time.Time) error {
	s.sessions.update(sessionDigest(idHash), func(sess *storedSession) { sess.setTime(timeIdle, idleExpiresAt) })
	return nil
}

// RevokeSession implements [SessionStore].
func (s *MemorySessionStore) RevokeSession(_ context.Context, idHash string) error {
	s.sessions.remove(sessionDigest(idHash))
	return nil
}

// RevokeUserSessions implements [SessionStore]. It scans the shards one at a
// time.
func (s *MemorySessionStore) RevokeUserSessions(_ context.Context, orgID, userID string) error {
	s.revokeWhere(func(u User) bool { return u.OrgID == orgID && u.ID == userID })
	return nil
}

// PurgeExpired implements [Purger].
func (s *MemorySessionStore) PurgeExpired(_ context.Context, now time.Time) (int, error) {
	return s.sessions.purge(now), nil
}

// Len reports how many sessions are stored, expired ones included.
func (s *MemorySessionStore) Len() int { return s.sessions.len() }

// MemoryReplayStore is a [ReplayStore] held in memory, safe for concurrent
// use. It forgets ids once they expire. The zero value is ready to use. Like
// [MemorySessionStore], it is split into shards with their own locks.
type MemoryReplayStore struct {
	used expiring[digest, usedUntil]
}

// tokenDigest is the key of orgID's token id: a SHA-256 of both, the org's
// length first so that no two pairs write the same input.
func tokenDigest(orgID, tokenID string) digest {
	var k digest
	h := sha256.New()
	h.Write(binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64), uint64(len(orgID))))
	h.Write([]byte(orgID))
	h.Write([]byte(tokenID))
	h.Sum(k[:0])
	return k
}

// usedUntil is when a recorded token id may be used again, in Unix
// nanoseconds (see unixNanos): no pointer, unlike a time.Time.
type usedUntil int64

func (u usedUntil) expiry() time.Time { return time.Unix(0, int64(u)) }

// UseTokenID implements [ReplayStore].
func (s *MemoryReplayStore) UseTokenID(_ context.Context, orgID, tokenID string, expiresAt, now time.Time) error {
	if !s.used.put(tokenDigest(orgID, tokenID), usedUntil(unixNanos(expiresAt)), now, true) {
		return ErrTokenReplayed
	}
	return nil
}

// PurgeExpired implements [Purger].
func (s *MemoryReplayStore) PurgeExpired(_ context.Context, now time.Time) (int, error) {
	return s.used.purge(now), nil
}

// Len reports how many token ids are remembered, expired ones included.
func (s *MemoryReplayStore) Len() int { return s.used.len() }
