package embedssotest_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
)

// Stores with one fault each, built to break one rule of the kit (see
// kit_test.go). None has a data race: the race detector must not be what
// catches them.

// faultyOrgs wraps the memory org store.
type faultyOrgs struct {
	*memstore.Store
	plainNotFound, dropKeyIDs, alwaysEnabled, foldCase bool
	dropEpoch                                          bool
}

func (s faultyOrgs) FindOrg(ctx context.Context, id string) (embedsso.Org, error) {
	if s.foldCase {
		id = strings.ToLower(id)
	}
	o, err := s.Store.FindOrg(ctx, id)
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
	if s.dropEpoch {
		o.Epoch = 0
	}
	return o, err
}

// userFaults are the faults a faultyUsers can have.
type userFaults struct {
	dropLastName, keepOldNames, foldCase, ignoreOrg bool
	mergeAttributes                                 bool
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
	if s.mergeAttributes && found {
		merged := maps.Clone(u.Attributes)
		if merged == nil && len(p.Attributes) > 0 {
			merged = map[string]any{}
		}
		maps.Copy(merged, p.Attributes)
		u.Attributes = merged
	} else {
		u.Attributes = maps.Clone(p.Attributes)
	}
	u.Groups = slices.Clone(p.Groups)
	if s.dropLastName {
		u.LastName = ""
	}
	u.UpdatedAt = time.Unix(int64(s.n), 0)
	s.users[key] = u
	return u, nil
}

// faultySessions wraps the memory session store.
type faultySessions struct {
	*memstore.Store
	dropUser, plainNotFound, ignoreExpiry, noRevoke, noRevokeUser, noPurge bool
	ignoreIdle, noTouch, snapshotUser, dropOrgEpoch                        bool
	// snapshots holds each session's user as it was at CreateSession, for
	// snapshotUser: FindSession then returns it instead of the user now.
	snapshots *sync.Map
}

func (s faultySessions) CreateSession(ctx context.Context, sess embedsso.Session) error {
	if s.ignoreIdle {
		sess.IdleExpiresAt = time.Time{}
	}
	if s.snapshotUser {
		s.snapshots.Store(sess.IDHash, sess.User)
	}
	return s.Store.CreateSession(ctx, sess)
}

func (s faultySessions) TouchSession(ctx context.Context, idHash string, idle time.Time) error {
	if s.noTouch {
		return nil
	}
	return s.Store.TouchSession(ctx, idHash, idle)
}

func (s faultySessions) FindSession(ctx context.Context, idHash string, now time.Time) (embedsso.Session, error) {
	if s.ignoreExpiry {
		now = time.Time{}
	}
	sess, err := s.Store.FindSession(ctx, idHash, now)
	if s.plainNotFound && err != nil {
		return sess, errors.New("no such session")
	}
	if s.dropUser {
		sess.User = embedsso.User{}
	}
	if s.dropOrgEpoch {
		sess.OrgEpoch = 0
	}
	if s.snapshotUser && err == nil {
		if u, ok := s.snapshots.Load(idHash); ok {
			sess.User = u.(embedsso.User)
		}
	}
	return sess, err
}

func (s faultySessions) RevokeSession(ctx context.Context, idHash string) error {
	if s.noRevoke {
		return nil
	}
	return s.Store.RevokeSession(ctx, idHash)
}

func (s faultySessions) RevokeUserSessions(ctx context.Context, orgID, userID string) error {
	if s.noRevokeUser {
		return nil
	}
	return s.Store.RevokeUserSessions(ctx, orgID, userID)
}

func (s faultySessions) PurgeExpired(ctx context.Context, now time.Time) (int, error) {
	if s.noPurge {
		return 0, nil
	}
	return s.Store.PurgeExpired(ctx, now)
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

// signInFaults are the faults a faultySignIn can have.
type signInFaults struct {
	skipToken       bool // the token id is not recorded
	dropSessionUser bool // the session is stored without its user
	dropIdle        bool // the session is stored without its idle expiry
	keepOldNames    bool // an existing user is not updated
	recordEmpty     bool // a missing token id is recorded as ""
	writeOnReplay   bool // the user is upserted before the token id is checked
	extendOnReplay  bool // a refused token id gets the refused sign-in's expiry
	neverExpire     bool // a token id is refused even once it expired
	halfWay         bool // the token id and the user are written before the session fails
	// checkThenInsertUser and checkThenSetToken make the first two callers
	// that find no user (no live token id) wait for each other before they
	// write: both create the user (both spend the id).
	checkThenInsertUser, checkThenSetToken bool
}

// faultySignIn is a SignInStores of its own; without faults it passes
// TestSignInStore (TestFaultlessSignInStorePasses).
type faultySignIn struct {
	signInFaults
	mu       sync.Mutex
	users    map[string]embedsso.User // by org and lower-case email
	sessions map[string]embedsso.Session
	tokens   map[string]time.Time // by org and token id: expiry
	n        int
	waiting  int
	arrived  sync.WaitGroup
}

func newFaultySignIn(f signInFaults) *faultySignIn {
	s := &faultySignIn{signInFaults: f, users: map[string]embedsso.User{}, sessions: map[string]embedsso.Session{}, tokens: map[string]time.Time{}}
	s.arrived.Add(2)
	return s
}

func (s *faultySignIn) SignIn(_ context.Context, w cookiesession.SignInWrite) (embedsso.User, error) {
	uk := w.Profile.OrgID + "\x00" + w.Profile.Email
	tk := w.Profile.OrgID + "\x00" + w.TokenID
	spend := w.TokenID != "" || s.recordEmpty
	s.mu.Lock()
	_, userFound := s.users[uk]
	tokenLive := spend && s.live(tk, w.Now)
	wait := (s.checkThenInsertUser && !userFound || s.checkThenSetToken && !tokenLive) && s.waiting < 2
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
	if !s.checkThenSetToken {
		tokenLive = spend && s.live(tk, w.Now)
	}
	if !s.checkThenInsertUser {
		_, userFound = s.users[uk]
	}
	if tokenLive {
		if s.writeOnReplay {
			s.upsert(uk, w.Profile, userFound)
		}
		if s.extendOnReplay {
			s.tokens[tk] = w.TokenExpiresAt
		}
		return embedsso.User{}, embedsso.ErrTokenReplayed
	}
	_, dup := s.sessions[w.Session.IDHash]
	if dup && !s.halfWay {
		return embedsso.User{}, errors.New("duplicate session")
	}
	if spend && !s.skipToken {
		s.tokens[tk] = w.TokenExpiresAt
	}
	u := s.upsert(uk, w.Profile, userFound)
	if dup {
		return embedsso.User{}, errors.New("duplicate session")
	}
	sess := w.Session
	if !s.dropSessionUser {
		sess.User = u
	}
	if s.dropIdle {
		sess.IdleExpiresAt = time.Time{}
	}
	s.sessions[sess.IDHash] = sess
	return u, nil
}

func (s *faultySignIn) live(tk string, now time.Time) bool {
	exp, found := s.tokens[tk]
	return found && (s.neverExpire || exp.After(now))
}

func (s *faultySignIn) upsert(uk string, p embedsso.Profile, found bool) embedsso.User {
	u := s.users[uk]
	if !found {
		s.n++
		u = embedsso.User{ID: fmt.Sprintf("usr_%d", s.n), OrgID: p.OrgID, Email: p.Email, CreatedAt: time.Unix(int64(s.n), 0)}
	}
	if !found || !s.keepOldNames {
		u.FirstName, u.LastName, u.Role = p.FirstName, p.LastName, p.Role
	}
	u.UpdatedAt = time.Unix(int64(s.n), 0)
	s.users[uk] = u
	return u
}

func (s *faultySignIn) UpsertUser(_ context.Context, p embedsso.Profile) (embedsso.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	uk := p.OrgID + "\x00" + p.Email
	_, found := s.users[uk]
	return s.upsert(uk, p, found), nil
}

func (s *faultySignIn) UseTokenID(_ context.Context, orgID, tokenID string, expiresAt, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tk := orgID + "\x00" + tokenID
	if s.live(tk, now) {
		return embedsso.ErrTokenReplayed
	}
	s.tokens[tk] = expiresAt
	return nil
}

func (s *faultySignIn) CreateSession(_ context.Context, sess embedsso.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.sessions[sess.IDHash]; dup {
		return errors.New("duplicate session")
	}
	s.sessions[sess.IDHash] = sess
	return nil
}

func (s *faultySignIn) FindSession(_ context.Context, idHash string, now time.Time) (embedsso.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[idHash]
	if !ok || !sess.ExpiresAt.After(now) || !sess.IdleExpiresAt.IsZero() && !sess.IdleExpiresAt.After(now) {
		return embedsso.Session{}, embedsso.ErrSessionNotFound
	}
	return sess, nil
}

func (s *faultySignIn) TouchSession(_ context.Context, idHash string, idleExpiresAt time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess, ok := s.sessions[idHash]; ok {
		sess.IdleExpiresAt = idleExpiresAt
		s.sessions[idHash] = sess
	}
	return nil
}

func (s *faultySignIn) RevokeSession(_ context.Context, idHash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, idHash)
	return nil
}

func (s *faultySignIn) RevokeUserSessions(_ context.Context, orgID, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, sess := range s.sessions {
		if sess.User.OrgID == orgID && sess.User.ID == userID {
			delete(s.sessions, h)
		}
	}
	return nil
}

func (s *faultySignIn) list(_ context.Context, orgID string) ([]embedsso.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []embedsso.User
	for _, u := range s.users {
		if u.OrgID == orgID {
			out = append(out, u)
		}
	}
	return out, nil
}
