package memstore

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/internal/expiry"
)

// sessionStore is the sessions of a [Store]. The zero value is ready to
// use.
//
// It is split into 64 shards, each with its own read-write lock: lookups
// share a shard's lock, and a write holds only its own shard's. Each shard
// keeps its sessions' expiry times in a min-heap, so PurgeExpired takes
// expired sessions in order of expiry instead of scanning every session, and
// holds a shard's lock for at most 256 of them at a time.
//
// A stored session holds two pointers, one to its user's strings, which all
// sessions of one user share, and one to its attributes and groups, nil
// without them, so that a garbage collection has little to mark per session
// (BenchmarkMemorySessionStoreMark). Its times come back as the same
// instants, without the monotonic clock reading, as from a database: in
// time.Local if stored so, otherwise in UTC.
type sessionStore struct {
	sessions expiry.Map[expiry.Digest, storedSession]
}

// sessionDigest is the key of the session whose IDHash is idHash. The
// handler's IDHash is the lowercase hex of a SHA-256, which is decoded; any
// other string a caller may use is hashed, behind a prefix byte that no
// decoding starts the input with, so the two kinds of key cannot meet short
// of a SHA-256 preimage.
func sessionDigest(idHash string) expiry.Digest {
	var k expiry.Digest
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

// CreateSession stores sess.
func (s *sessionStore) CreateSession(_ context.Context, sess embedsso.Session) error {
	// A new session's creation time is the store's clock for purging as it
	// goes. The id hash is the key; FindSession gives back the caller's.
	s.sessions.Put(sessionDigest(sess.IDHash), storeSession(&sess), sess.CreatedAt, false)
	return nil
}

// FindSession returns the session whose IDHash is idHash. With users, the
// session's user is as users holds it now, and a session of a user users
// does not have is not found; without, the user is as it was at sign-in.
func (s *sessionStore) FindSession(_ context.Context, idHash string, now time.Time, users *userStore) (sess embedsso.Session, err error) {
	stored, ok := s.sessions.Get(sessionDigest(idHash))
	// The end is checked on the stored numbers, before a Session is built
	// for a lookup that will not return it; the Session is built in place
	// in the result, which a 280-byte struct makes worth it
	// (BenchmarkMemorySessionStoreScale).
	if !ok || stored.endedAt(now) {
		return embedsso.Session{}, embedsso.ErrSessionNotFound
	}
	stored.fill(&sess, idHash)
	if users != nil {
		u, ok := users.byID(sess.User.OrgID, sess.User.ID)
		if !ok {
			return embedsso.Session{}, embedsso.ErrSessionNotFound
		}
		sess.User = u
	}
	return sess, nil
}

// TouchSession sets the session's idle expiry.
func (s *sessionStore) TouchSession(_ context.Context, idHash string, idleExpiresAt time.Time) error {
	s.sessions.Update(sessionDigest(idHash), func(sess *storedSession) { sess.setTime(timeIdle, idleExpiresAt) })
	return nil
}

// RevokeSession deletes one session.
func (s *sessionStore) RevokeSession(_ context.Context, idHash string) error {
	s.sessions.Remove(sessionDigest(idHash))
	return nil
}

// RevokeUserSessions deletes every session of one user. It scans the shards
// one at a time.
func (s *sessionStore) RevokeUserSessions(_ context.Context, orgID, userID string) error {
	s.revokeWhere(func(u embedsso.User) bool { return u.OrgID == orgID && u.ID == userID })
	return nil
}

// RevokeOrgSessions deletes every session of the organization's users.
func (s *sessionStore) RevokeOrgSessions(_ context.Context, orgID string) (int, error) {
	return s.revokeWhere(func(u embedsso.User) bool { return u.OrgID == orgID }), nil
}

// RevokeEmailSessions deletes every session of the user (orgID, email).
func (s *sessionStore) RevokeEmailSessions(_ context.Context, orgID, email string) (int, error) {
	return s.revokeWhere(func(u embedsso.User) bool { return u.OrgID == orgID && u.Email == email }), nil
}

func (s *sessionStore) revokeWhere(match func(embedsso.User) bool) int {
	return s.sessions.RemoveWhere(func(st storedSession) bool { return match(st.userStrings()) })
}

// PurgeExpired deletes the sessions that ended at or before now.
func (s *sessionStore) PurgeExpired(_ context.Context, now time.Time) (int, error) {
	return s.sessions.Purge(now), nil
}

// Len reports how many sessions are stored, expired ones included.
func (s *sessionStore) Len() int { return s.sessions.Len() }
