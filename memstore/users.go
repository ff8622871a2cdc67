package memstore

import (
	"crypto/rand"
	"encoding/hex"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/embedsso/embedsso"
)

// userStore is the users of a [Store]. The zero value is ready to use.
type userStore struct {
	mu    sync.RWMutex
	users map[userKey]embedsso.User
	ids   map[[2]string]userKey // (org, user id) → key, for sessions' current users
}

type userKey struct{ org, email string }

// UpsertUser creates or updates the user (p.OrgID, p.Email), stamped at
// now. It keys users on p.Email byte for byte, as the handler normalized it;
// folding it again here could merge two users the normalization keeps
// apart.
func (s *userStore) UpsertUser(p embedsso.Profile, now time.Time) embedsso.User {
	k := userKey{p.OrgID, p.Email}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users == nil {
		s.users, s.ids = make(map[userKey]embedsso.User), make(map[[2]string]userKey)
	}
	u, ok := s.users[k]
	if !ok {
		u = embedsso.User{ID: "usr_" + randomHex(12), OrgID: p.OrgID, Email: k.email, CreatedAt: now}
		s.ids[[2]string{u.OrgID, u.ID}] = k
	}
	u.FirstName, u.LastName, u.Role, u.UpdatedAt = p.FirstName, p.LastName, p.Role, now
	// Copies: the caller's map and slice stay the caller's, and a returned
	// user shares nothing with the stored one.
	u.Attributes, u.Groups = maps.Clone(p.Attributes), slices.Clone(p.Groups)
	s.users[k] = u
	u.Attributes, u.Groups = maps.Clone(u.Attributes), slices.Clone(u.Groups)
	return u
}

// byID returns the user orgID/id as stored now.
func (s *userStore) byID(orgID, id string) (embedsso.User, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.ids[[2]string{orgID, id}]
	if !ok {
		return embedsso.User{}, false
	}
	u, ok := s.users[k]
	u.Attributes, u.Groups = maps.Clone(u.Attributes), slices.Clone(u.Groups)
	return u, ok
}

// all returns a snapshot of every stored user.
func (s *userStore) all() []embedsso.User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]embedsso.User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u)
	}
	return out
}

// randomHex returns n random bytes in hex. crypto/rand.Read never fails on
// supported platforms (Go 1.24 and later crash rather than return an error).
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
