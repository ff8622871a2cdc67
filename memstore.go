package embedsso

import (
	"context"
	"sync"
	"time"
)

// MemoryOrgStore is an [OrgStore] held in memory, safe for concurrent use.
// The zero value is empty and ready to use.
type MemoryOrgStore struct {
	mu   sync.RWMutex
	orgs map[string]Org
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
	return o
}

// MemoryUserStore is a [UserStore] held in memory, safe for concurrent use.
// The zero value is ready to use.
type MemoryUserStore struct {
	// Now stamps CreatedAt and UpdatedAt. Default: time.Now.
	Now func() time.Time

	mu    sync.Mutex
	users map[userKey]User
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
		s.users = make(map[userKey]User)
	}
	u, ok := s.users[k]
	if !ok {
		u = User{ID: "usr_" + randomHex(12), OrgID: p.OrgID, Email: k.email, CreatedAt: now}
	}
	u.FirstName, u.LastName, u.Role, u.UpdatedAt = p.FirstName, p.LastName, p.Role, now
	s.users[k] = u
	return u, nil
}

// Users returns a snapshot of every stored user, for tests and tools.
func (s *MemoryUserStore) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u)
	}
	return out
}

// MemorySessionStore is a [SessionStore] held in memory, safe for concurrent
// use. It forgets sessions some time after they expire. The zero value is
// ready to use.
type MemorySessionStore struct {
	mu        sync.Mutex
	sessions  map[string]Session
	nextPurge time.Time
}

// CreateSession implements [SessionStore].
func (s *MemorySessionStore) CreateSession(_ context.Context, sess Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions == nil {
		s.sessions = make(map[string]Session)
	}
	// A new session's creation time is the store's clock: purging at most
	// once a minute of it keeps the map to the live sessions.
	if sess.CreatedAt.After(s.nextPurge) {
		s.purgeLocked(sess.CreatedAt)
		s.nextPurge = sess.CreatedAt.Add(time.Minute)
	}
	s.sessions[sess.IDHash] = sess
	return nil
}

// FindSession implements [SessionStore].
func (s *MemorySessionStore) FindSession(_ context.Context, idHash string, now time.Time) (Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[idHash]
	if !ok || !sess.ExpiresAt.After(now) {
		return Session{}, ErrSessionNotFound
	}
	return sess, nil
}

// RevokeSession implements [SessionStore].
func (s *MemorySessionStore) RevokeSession(_ context.Context, idHash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, idHash)
	return nil
}

// RevokeUserSessions implements [SessionStore].
func (s *MemorySessionStore) RevokeUserSessions(_ context.Context, orgID, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, sess := range s.sessions {
		if sess.User.OrgID == orgID && sess.User.ID == userID {
			delete(s.sessions, k)
		}
	}
	return nil
}

// PurgeExpired implements [Purger].
func (s *MemorySessionStore) PurgeExpired(_ context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.purgeLocked(now), nil
}

func (s *MemorySessionStore) purgeLocked(now time.Time) int {
	n := 0
	for k, sess := range s.sessions {
		if !sess.ExpiresAt.After(now) {
			delete(s.sessions, k)
			n++
		}
	}
	return n
}

// Len reports how many sessions are stored, expired ones included.
func (s *MemorySessionStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// MemoryReplayStore is a [ReplayStore] held in memory, safe for concurrent
// use. It forgets ids once they expire. The zero value is ready to use.
type MemoryReplayStore struct {
	mu        sync.Mutex
	used      map[replayKey]time.Time
	nextPurge time.Time
}

type replayKey struct{ org, id string }

// UseTokenID implements [ReplayStore].
func (s *MemoryReplayStore) UseTokenID(_ context.Context, orgID, tokenID string, expiresAt, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used == nil {
		s.used = make(map[replayKey]time.Time)
	}
	// Purging at most once a minute keeps the map bounded by the ids of the
	// last few token lifetimes without scanning it on every login.
	if now.After(s.nextPurge) {
		s.purgeLocked(now)
		s.nextPurge = now.Add(time.Minute)
	}
	k := replayKey{orgID, tokenID}
	if exp, ok := s.used[k]; ok && exp.After(now) {
		return ErrTokenReplayed
	}
	s.used[k] = expiresAt
	return nil
}

// PurgeExpired implements [Purger].
func (s *MemoryReplayStore) PurgeExpired(_ context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.purgeLocked(now), nil
}

func (s *MemoryReplayStore) purgeLocked(now time.Time) int {
	n := 0
	for k, exp := range s.used {
		if !exp.After(now) {
			delete(s.used, k)
			n++
		}
	}
	return n
}

// Len reports how many token ids are remembered, expired ones included.
func (s *MemoryReplayStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.used)
}
