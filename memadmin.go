package embedsso

import (
	"context"
	"errors"
	"time"
)

// The in-memory stores' side of the organization API: MemoryOrgStore is an
// OrgAdmin and purges expired secrets, MemorySessionStore revokes in bulk.

var (
	_ OrgAdmin       = (*MemoryOrgStore)(nil)
	_ Purger         = (*MemoryOrgStore)(nil)
	_ SessionRevoker = (*MemorySessionStore)(nil)
	_ APIKeyStore    = (*MemoryAPIKeyStore)(nil)
)

// orgMeta is the part of an OrgRecord that is not in its Org.
type orgMeta struct {
	name             string
	created, updated time.Time
}

// CreateOrg implements [OrgAdmin].
func (s *MemoryOrgStore) CreateOrg(_ context.Context, r OrgRecord) error {
	if err := r.Validate(); err != nil {
		return err
	}
	o := cloneOrg(r.Org)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.orgs[o.ID]; ok {
		return ErrOrgExists
	}
	s.storeLocked(o, orgMeta{r.Name, r.CreatedAt, r.UpdatedAt})
	return nil
}

// FindOrgRecord implements [OrgAdmin].
func (s *MemoryOrgStore) FindOrgRecord(_ context.Context, id string) (OrgRecord, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.recordLocked(id)
}

// UpdateOrg implements [OrgAdmin]. change runs under the store's lock, so
// updates of one store are serialized and none is lost.
func (s *MemoryOrgStore) UpdateOrg(_ context.Context, id string, change func(*OrgRecord) error) (OrgRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.recordLocked(id)
	if err != nil {
		return OrgRecord{}, err
	}
	if err := change(&r); err != nil {
		return OrgRecord{}, err
	}
	if r.ID != id {
		return OrgRecord{}, errors.New("embedsso: UpdateOrg: the change altered the organization's id")
	}
	if err := r.Validate(); err != nil {
		return OrgRecord{}, err
	}
	s.storeLocked(cloneOrg(r.Org), orgMeta{r.Name, r.CreatedAt, r.UpdatedAt})
	return r, nil
}

// PurgeExpired implements [Purger]: it deletes the secrets whose grace
// period is over and reports how many.
func (s *MemoryOrgStore) PurgeExpired(_ context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, o := range s.orgs {
		kept := DropExpiredSecrets(o.Secrets, now)
		if len(kept) < len(o.Secrets) {
			n += len(o.Secrets) - len(kept)
			o.Secrets = kept
			s.orgs[id] = o
		}
	}
	return n, nil
}

func (s *MemoryOrgStore) recordLocked(id string) (OrgRecord, error) {
	o, ok := s.orgs[id]
	if !ok {
		return OrgRecord{}, ErrOrgNotFound
	}
	m := s.meta[id]
	return OrgRecord{Org: cloneOrg(o), Name: m.name, CreatedAt: m.created, UpdatedAt: m.updated}, nil
}

func (s *MemoryOrgStore) storeLocked(o Org, m orgMeta) {
	if s.orgs == nil {
		s.orgs = make(map[string]Org)
	}
	if s.meta == nil {
		s.meta = make(map[string]orgMeta)
	}
	s.orgs[o.ID] = o
	s.meta[o.ID] = m
}

// RevokeOrgSessions implements [SessionRevoker].
func (s *MemorySessionStore) RevokeOrgSessions(_ context.Context, orgID string) (int, error) {
	return s.revokeWhere(func(u User) bool { return u.OrgID == orgID }), nil
}

// RevokeEmailSessions implements [SessionRevoker].
func (s *MemorySessionStore) RevokeEmailSessions(_ context.Context, orgID, email string) (int, error) {
	return s.revokeWhere(func(u User) bool { return u.OrgID == orgID && u.Email == email }), nil
}

func (s *MemorySessionStore) revokeWhere(match func(User) bool) int {
	return s.sessions.removeWhere(func(st storedSession) bool { return match(st.userStrings()) })
}
