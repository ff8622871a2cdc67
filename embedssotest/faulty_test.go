package embedssotest_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/embedsso/embedsso"
)

// Stores with one fault each, built to break one rule of the kit (see
// kit_test.go). None has a data race: the race detector must not be what
// catches them.

// faultyOrgs wraps the memory org store.
type faultyOrgs struct {
	*embedsso.MemoryOrgStore
	plainNotFound, dropKeyIDs, alwaysEnabled, foldCase bool
}

func (s faultyOrgs) FindOrg(ctx context.Context, id string) (embedsso.Org, error) {
	if s.foldCase {
		id = strings.ToLower(id)
	}
	o, err := s.MemoryOrgStore.FindOrg(ctx, id)
	if s.plainNotFound && err != nil {
		return o, errors.New("no such org")
	}
	if s.dropKeyIDs {
		secrets := make([]embedsso.Secret, len(o.Secrets))
		for i, sec := range o.Secrets {
			secrets[i] = embedsso.Secret{Value: sec.Value}
		}
		o.Secrets = secrets
	}
	if s.alwaysEnabled {
		o.EmbeddingEnabled = true
	}
	return o, err
}

// userFaults are the faults a faultyUsers can have.
type userFaults struct {
	dropLastName, keepOldNames, foldCase, ignoreOrg bool
	// checkThenInsert makes the first two callers that find no user wait
	// for each other before inserting: both insert, as two racing requests
	// without a unique key would.
	checkThenInsert bool
}

// faultyUsers is a user store of its own, so that it can get identity and
// atomicity wrong.
type faultyUsers struct {
	userFaults
	mu      sync.Mutex
	users   map[string]embedsso.User
	n       int
	waiting int
	arrived sync.WaitGroup
}

func newFaultyUsers(f userFaults) *faultyUsers {
	s := &faultyUsers{userFaults: f}
	s.users = make(map[string]embedsso.User)
	s.arrived.Add(2)
	return s
}

func (s *faultyUsers) UpsertUser(_ context.Context, p embedsso.Profile) (embedsso.User, error) {
	email := p.Email
	if s.foldCase {
		email = strings.ToLower(email) // maps U+212A KELVIN SIGN to k
	}
	key := p.OrgID + "\x00" + email
	if s.ignoreOrg {
		key = email
	}
	s.mu.Lock()
	u, found := s.users[key]
	wait := !found && s.checkThenInsert && s.waiting < 2
	if wait {
		s.waiting++
	}
	s.mu.Unlock()
	if wait {
		s.arrived.Done()
		s.arrived.Wait()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if !found {
		s.n++
		u = embedsso.User{ID: "usr_" + strings.Repeat("x", s.n), OrgID: p.OrgID, Email: email, CreatedAt: time.Unix(0, 0)}
	}
	if !found || !s.keepOldNames {
		u.FirstName, u.LastName, u.Role = p.FirstName, p.LastName, p.Role
	}
	if s.dropLastName {
		u.LastName = ""
	}
	u.UpdatedAt = time.Unix(int64(s.n), 0)
	s.users[key] = u
	return u, nil
}

// faultySessions wraps the memory session store.
type faultySessions struct {
	*embedsso.MemorySessionStore
	dropUser, plainNotFound, ignoreExpiry, noRevoke, noRevokeUser, noPurge bool
}

func (s faultySessions) FindSession(ctx context.Context, idHash string, now time.Time) (embedsso.Session, error) {
	if s.ignoreExpiry {
		now = time.Time{}
	}
	sess, err := s.MemorySessionStore.FindSession(ctx, idHash, now)
	if s.plainNotFound && err != nil {
		return sess, errors.New("no such session")
	}
	if s.dropUser {
		sess.User = embedsso.User{}
	}
	return sess, err
}

func (s faultySessions) RevokeSession(ctx context.Context, idHash string) error {
	if s.noRevoke {
		return nil
	}
	return s.MemorySessionStore.RevokeSession(ctx, idHash)
}

func (s faultySessions) RevokeUserSessions(ctx context.Context, orgID, userID string) error {
	if s.noRevokeUser {
		return nil
	}
	return s.MemorySessionStore.RevokeUserSessions(ctx, orgID, userID)
}

func (s faultySessions) PurgeExpired(ctx context.Context, now time.Time) (int, error) {
	if s.noPurge {
		return 0, nil
	}
	return s.MemorySessionStore.PurgeExpired(ctx, now)
}

// replayFaults are the faults a faultyReplay can have.
type replayFaults struct {
	plainReplayed, ignoreOrg, extendOnRefusal, neverExpire, noPurge bool
	// checkThenSet makes the first two callers that find an id unused wait
	// for each other before recording it: both win.
	checkThenSet bool
}

// faultyReplay is a replay store of its own, so that it can get expiry and
// atomicity wrong.
type faultyReplay struct {
	replayFaults
	mu      sync.Mutex
	used    map[string]time.Time
	waiting int
	arrived sync.WaitGroup
}

func newFaultyReplay(f replayFaults) *faultyReplay {
	s := &faultyReplay{replayFaults: f}
	s.used = make(map[string]time.Time)
	s.arrived.Add(2)
	return s
}

func (s *faultyReplay) UseTokenID(_ context.Context, orgID, tokenID string, expiresAt, now time.Time) error {
	key := orgID + "\x00" + tokenID
	if s.ignoreOrg {
		key = tokenID
	}
	s.mu.Lock()
	exp, found := s.used[key]
	live := found && (s.neverExpire || exp.After(now))
	wait := !live && s.checkThenSet && s.waiting < 2
	if wait {
		s.waiting++
	}
	s.mu.Unlock()
	if wait {
		s.arrived.Done()
		s.arrived.Wait()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if live {
		if s.extendOnRefusal {
			s.used[key] = expiresAt
		}
		if s.plainReplayed {
			return errors.New("seen before")
		}
		return embedsso.ErrTokenReplayed
	}
	s.used[key] = expiresAt
	return nil
}

func (s *faultyReplay) PurgeExpired(_ context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.noPurge {
		return 0, nil
	}
	n := 0
	for k, exp := range s.used {
		if !exp.After(now) {
			delete(s.used, k)
			n++
		}
	}
	return n, nil
}
