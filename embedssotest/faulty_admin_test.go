package embedssotest_test

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/memstore"
	"github.com/embedsso/embedsso/orgapi"
)

// Faulty stores for the organization API's rules of the kit, one fault
// each, as in faulty_test.go.

// adminFaults are the faults a faultyAdmin can have.
type adminFaults struct {
	dropExpiry, overwrite, plainNotFound, storeOnError, allowIDChange, noPurge bool
	noValidate                                                                 bool
	// checkThenCreate and readThenWrite make the first two callers wait
	// for each other between their read and their write, as two requests
	// without a transaction would: both create, or one update is lost.
	checkThenCreate, readThenWrite bool
}

// faultyAdmin is an OrgAdmin of its own over a plain map, so that it can
// get atomicity wrong.
type faultyAdmin struct {
	adminFaults
	mu      sync.Mutex
	orgs    map[string]orgapi.OrgRecord
	waiting int
	arrived sync.WaitGroup
}

func newFaultyAdmin(f adminFaults) *faultyAdmin {
	s := &faultyAdmin{adminFaults: f, orgs: map[string]orgapi.OrgRecord{}}
	s.arrived.Add(2)
	return s
}

// pause makes the first two callers meet before going on.
func (s *faultyAdmin) pause(enabled bool) {
	s.mu.Lock()
	wait := enabled && s.waiting < 2
	if wait {
		s.waiting++
	}
	s.mu.Unlock()
	if wait {
		s.arrived.Done()
		s.arrived.Wait()
	}
}

func clone(r orgapi.OrgRecord) orgapi.OrgRecord {
	r.Secrets = append([]embedsso.Secret(nil), r.Secrets...)
	r.AllowedOrigins = append([]string(nil), r.AllowedOrigins...)
	r.AllowedRoles = append([]string(nil), r.AllowedRoles...)
	r.AllowedGroups = append([]string(nil), r.AllowedGroups...)
	return r
}

func (s *faultyAdmin) CreateOrg(_ context.Context, r orgapi.OrgRecord) error {
	if err := r.Validate(); err != nil && !s.noValidate {
		return err
	}
	s.mu.Lock()
	_, taken := s.orgs[r.ID]
	s.mu.Unlock()
	s.pause(s.checkThenCreate)
	if taken && !s.overwrite {
		return orgapi.ErrOrgExists
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orgs[r.ID] = clone(r)
	return nil
}

func (s *faultyAdmin) FindOrgRecord(_ context.Context, id string) (orgapi.OrgRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.orgs[id]
	if !ok {
		if s.plainNotFound {
			return r, errors.New("no such org")
		}
		return r, embedsso.ErrOrgNotFound
	}
	r = clone(r)
	if s.dropExpiry {
		for i := range r.Secrets {
			r.Secrets[i].ExpiresAt = time.Time{}
		}
	}
	return r, nil
}

func (s *faultyAdmin) FindOrg(ctx context.Context, id string) (embedsso.Org, error) {
	r, err := s.FindOrgRecord(ctx, id)
	return r.Org, err
}

func (s *faultyAdmin) UpdateOrg(ctx context.Context, id string, change func(*orgapi.OrgRecord) error) (orgapi.OrgRecord, error) {
	if s.readThenWrite {
		r, err := s.FindOrgRecord(ctx, id)
		if err != nil {
			return r, err
		}
		s.pause(true)
		if err := change(&r); err != nil {
			return orgapi.OrgRecord{}, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.orgs[id] = clone(r)
		return r, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.orgs[id]
	if !ok {
		return r, embedsso.ErrOrgNotFound
	}
	r = clone(r)
	err := change(&r)
	if err != nil && !s.storeOnError {
		return orgapi.OrgRecord{}, err
	}
	if r.ID != id && !s.allowIDChange {
		return orgapi.OrgRecord{}, errors.New("id changed")
	}
	if err := r.Validate(); err != nil && !s.noValidate {
		return orgapi.OrgRecord{}, err
	}
	s.orgs[r.ID] = clone(r)
	return r, err
}

func (s *faultyAdmin) PurgeExpired(_ context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, r := range s.orgs {
		kept := orgapi.DropExpiredSecrets(r.Secrets, now)
		n += len(r.Secrets) - len(kept)
		if !s.noPurge {
			r.Secrets = kept
			s.orgs[id] = r
		}
	}
	return n, nil
}

// faultyRevoker wraps the memory session store.
type faultyRevoker struct {
	*memstore.Store
	orgIgnored, emailIgnoresOrg, unknownIsError bool
}

func (s faultyRevoker) RevokeOrgSessions(ctx context.Context, orgID string) (int, error) {
	if s.unknownIsError && orgID == "org_nope" {
		return 0, errors.New("no such org")
	}
	if s.orgIgnored {
		return 3, nil
	}
	return s.Store.RevokeOrgSessions(ctx, orgID)
}

func (s faultyRevoker) RevokeEmailSessions(ctx context.Context, orgID, email string) (int, error) {
	if s.emailIgnoresOrg {
		a, _ := s.Store.RevokeEmailSessions(ctx, "org_a", email)
		b, _ := s.Store.RevokeEmailSessions(ctx, "org_b", email)
		return a + b, nil
	}
	return s.Store.RevokeEmailSessions(ctx, orgID, email)
}

// faultyKeys wraps the memory key store; cached makes it remember every key
// it found, as a store with a per-process cache would.
type faultyKeys struct {
	*memstore.Store
	dropOrgIDs, plainNotFound, overwrite bool
	cache                                *sync.Map
}

func (s faultyKeys) CreateAPIKey(ctx context.Context, k orgapi.APIKey) error {
	if s.overwrite {
		_ = s.Store.RevokeAPIKey(ctx, k.ID)
	}
	return s.Store.CreateAPIKey(ctx, k)
}

func (s faultyKeys) FindAPIKey(ctx context.Context, id string) (orgapi.APIKey, error) {
	if s.cache != nil {
		if k, ok := s.cache.Load(id); ok {
			return k.(orgapi.APIKey), nil
		}
	}
	k, err := s.Store.FindAPIKey(ctx, id)
	if err != nil && s.plainNotFound {
		return k, errors.New("no such key")
	}
	if s.dropOrgIDs {
		k.OrgIDs = nil
	}
	if err == nil && s.cache != nil {
		s.cache.Store(id, k)
	}
	return k, err
}
