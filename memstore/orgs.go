package memstore

import (
	"errors"
	"sync"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/orgapi"
)

// orgStore is the organizations of a [Store]. The zero value is empty and
// ready to use.
type orgStore struct {
	mu   sync.RWMutex
	orgs map[string]embedsso.Org
	meta map[string]orgMeta // what an OrgRecord adds to an Org
}

// orgMeta is the part of an OrgRecord that is not in its Org.
type orgMeta struct {
	name             string
	created, updated time.Time
}

func (s *orgStore) put(o embedsso.Org) error {
	if err := o.Validate(); err != nil {
		return err
	}
	o = cloneOrg(o)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.orgs == nil {
		s.orgs = make(map[string]embedsso.Org)
	}
	o.Epoch = max(o.Epoch, s.orgs[o.ID].Epoch) // never lowered
	s.orgs[o.ID] = o
	return nil
}

func (s *orgStore) find(id string) (embedsso.Org, error) {
	s.mu.RLock()
	o, ok := s.orgs[id]
	s.mu.RUnlock()
	if !ok {
		return embedsso.Org{}, embedsso.ErrOrgNotFound
	}
	// The slices are never mutated after put, so sharing them is safe.
	return o, nil
}

func cloneOrg(o embedsso.Org) embedsso.Org {
	o.Secrets = append([]embedsso.Secret(nil), o.Secrets...)
	o.AllowedOrigins = append([]string(nil), o.AllowedOrigins...)
	o.AllowedRoles = append([]string(nil), o.AllowedRoles...)
	o.AllowedGroups = append([]string(nil), o.AllowedGroups...)
	return o
}

func (s *orgStore) create(r orgapi.OrgRecord) error {
	if err := r.Validate(); err != nil {
		return err
	}
	o := cloneOrg(r.Org)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.orgs[o.ID]; ok {
		return orgapi.ErrOrgExists
	}
	s.storeLocked(o, orgMeta{r.Name, r.CreatedAt, r.UpdatedAt})
	return nil
}

func (s *orgStore) record(id string) (orgapi.OrgRecord, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.recordLocked(id)
}

// update runs change under the store's lock, so updates are serialized and
// none is lost.
func (s *orgStore) update(id string, change func(*orgapi.OrgRecord) error) (orgapi.OrgRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.recordLocked(id)
	if err != nil {
		return orgapi.OrgRecord{}, err
	}
	if err := change(&r); err != nil {
		return orgapi.OrgRecord{}, err
	}
	if r.ID != id {
		return orgapi.OrgRecord{}, errors.New("embedsso: UpdateOrg: the change altered the organization's id")
	}
	if err := r.Validate(); err != nil {
		return orgapi.OrgRecord{}, err
	}
	r.Epoch = max(r.Epoch, s.orgs[id].Epoch) // never lowered
	s.storeLocked(cloneOrg(r.Org), orgMeta{r.Name, r.CreatedAt, r.UpdatedAt})
	return r, nil
}

// purge deletes the secrets whose grace period is over and reports how many.
func (s *orgStore) purge(now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, o := range s.orgs {
		kept := orgapi.DropExpiredSecrets(o.Secrets, now)
		if len(kept) < len(o.Secrets) {
			n += len(o.Secrets) - len(kept)
			o.Secrets = kept
			s.orgs[id] = o
		}
	}
	return n
}

func (s *orgStore) recordLocked(id string) (orgapi.OrgRecord, error) {
	o, ok := s.orgs[id]
	if !ok {
		return orgapi.OrgRecord{}, embedsso.ErrOrgNotFound
	}
	m := s.meta[id]
	return orgapi.OrgRecord{Org: cloneOrg(o), Name: m.name, CreatedAt: m.created, UpdatedAt: m.updated}, nil
}

func (s *orgStore) storeLocked(o embedsso.Org, m orgMeta) {
	if s.orgs == nil {
		s.orgs = make(map[string]embedsso.Org)
	}
	if s.meta == nil {
		s.meta = make(map[string]orgMeta)
	}
	s.orgs[o.ID] = o
	s.meta[o.ID] = m
}
