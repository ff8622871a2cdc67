// Package memstore keeps everything embedsso stores in memory, in one value:
// a [Store] is the handler's [embedsso.OrgStore], [embedsso.UserStore],
// [cookiesession.Store] and [embedsso.ReplayStore], and the organization
// API's OrgAdmin, SessionRevoker and APIKeyStore. It suits a single instance,
// tests and demos; its data is gone when the process ends. For several
// instances or data that must last, use a database store (package sqlstore).
//
//	store := memstore.New()
//	err := store.PutOrg(ctx, org)
//	sessions, err := cookiesession.New(cookiesession.Config{Store: store})
//	sso, err := embedsso.New(embedsso.Config{Orgs: store, Users: store, Sessions: sessions, Replay: store})
package memstore

import (
	"context"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/internal/replay"
	"github.com/embedsso/embedsso/orgapi"
)

// Store holds organizations, users, sessions, used token ids and API keys
// in memory, safe for concurrent use.
//
// The zero value is an empty store, ready to use, as [New] returns it:
// every part makes its maps on first write. A Store must not be copied after
// first use (go vet's copylocks check finds copies).
//
// Sessions and token ids are split into 64 shards, each with its own
// read-write lock: lookups share a shard's lock, and a write holds only its
// own shard's. Each shard keeps its entries' expiry times in a min-heap, so
// [Store.PurgeExpired] takes expired entries in order of expiry instead of
// scanning every one, and holds a shard's lock for at most 256 of them at a
// time. Writes also purge a few expired entries as they go.
//
// A stored session holds two pointers, one to its user's strings, which all
// sessions of one user share, and one to its attributes and groups, nil
// without them, so that a garbage collection has little to mark per session
// (BenchmarkMemorySessionStoreMark). Its times come back as the same
// instants, without the monotonic clock reading, as from a database: in
// time.Local if stored so, otherwise in UTC.
type Store struct {
	// Now stamps users' CreatedAt and UpdatedAt. Set it before first use.
	// Default: time.Now.
	Now func() time.Time

	orgs     orgStore
	users    userStore
	sessions sessionStore
	replay   replay.Store
	keys     apiKeyStore
}

// Compile-time checks that a Store is every store.
var (
	_ embedsso.OrgStore     = (*Store)(nil)
	_ embedsso.UserStore    = (*Store)(nil)
	_ cookiesession.Store   = (*Store)(nil)
	_ embedsso.ReplayStore  = (*Store)(nil)
	_ orgapi.OrgAdmin       = (*Store)(nil)
	_ orgapi.SessionRevoker = (*Store)(nil)
	_ orgapi.APIKeyStore    = (*Store)(nil)
)

// New returns a new, empty store, as the zero value is; put organizations
// in it with [Store.PutOrg] (or [Store.CreateOrg]).
func New() *Store { return &Store{} }

// PutOrg adds or replaces an organization, as sqlstore's PutOrg does. An org
// that does not pass [embedsso.Org.Validate] is refused with its error (which
// matches [embedsso.ErrOrgInvalid]) and not stored.
func (s *Store) PutOrg(_ context.Context, o embedsso.Org) error { return s.orgs.put(o) }

// FindOrg implements [embedsso.OrgStore].
func (s *Store) FindOrg(_ context.Context, id string) (embedsso.Org, error) { return s.orgs.find(id) }

// CreateOrg implements [orgapi.OrgAdmin].
func (s *Store) CreateOrg(_ context.Context, r orgapi.OrgRecord) error { return s.orgs.create(r) }

// FindOrgRecord implements [orgapi.OrgAdmin].
func (s *Store) FindOrgRecord(_ context.Context, id string) (orgapi.OrgRecord, error) {
	return s.orgs.record(id)
}

// UpdateOrg implements [orgapi.OrgAdmin]. change runs under the store's
// lock, so updates are serialized and none is lost.
func (s *Store) UpdateOrg(_ context.Context, id string, change func(*orgapi.OrgRecord) error) (orgapi.OrgRecord, error) {
	return s.orgs.update(id, change)
}

// UpsertUser implements [embedsso.UserStore]. It keys users on p.Email byte
// for byte, as the handler normalized it; folding it again here could merge
// two users the normalization keeps apart.
func (s *Store) UpsertUser(_ context.Context, p embedsso.Profile) (embedsso.User, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return s.users.UpsertUser(p, now()), nil
}

// Users returns a snapshot of every stored user, for tests and tools.
func (s *Store) Users() []embedsso.User { return s.users.all() }

// CreateSession implements [cookiesession.Store].
func (s *Store) CreateSession(ctx context.Context, sess embedsso.Session) error {
	return s.sessions.CreateSession(ctx, sess)
}

// FindSession implements [cookiesession.Store]: the session's user is as
// the store holds it now.
func (s *Store) FindSession(ctx context.Context, idHash string, now time.Time) (embedsso.Session, error) {
	return s.sessions.FindSession(ctx, idHash, now, &s.users)
}

// TouchSession implements [cookiesession.Store].
func (s *Store) TouchSession(ctx context.Context, idHash string, idleExpiresAt time.Time) error {
	return s.sessions.TouchSession(ctx, idHash, idleExpiresAt)
}

// RevokeSession implements [cookiesession.Store].
func (s *Store) RevokeSession(ctx context.Context, idHash string) error {
	return s.sessions.RevokeSession(ctx, idHash)
}

// RevokeUserSessions implements [cookiesession.Store]. It reads every
// stored session, one shard at a time: the store keeps no index by user or
// organization, so RevokeOrgSessions and RevokeEmailSessions read them all
// too.
func (s *Store) RevokeUserSessions(ctx context.Context, orgID, userID string) error {
	return s.sessions.RevokeUserSessions(ctx, orgID, userID)
}

// RevokeOrgSessions implements [orgapi.SessionRevoker]. It scans the
// sessions' shards one at a time.
func (s *Store) RevokeOrgSessions(ctx context.Context, orgID string) (int, error) {
	return s.sessions.RevokeOrgSessions(ctx, orgID)
}

// RevokeEmailSessions implements [orgapi.SessionRevoker]. It scans the
// sessions' shards one at a time.
func (s *Store) RevokeEmailSessions(ctx context.Context, orgID, email string) (int, error) {
	return s.sessions.RevokeEmailSessions(ctx, orgID, email)
}

// UseTokenID implements [embedsso.ReplayStore].
func (s *Store) UseTokenID(_ context.Context, orgID, tokenID string, expiresAt, now time.Time) error {
	if !s.replay.Use(orgID, tokenID, expiresAt, now) {
		return embedsso.ErrTokenReplayed
	}
	return nil
}

// CreateAPIKey implements [orgapi.APIKeyStore].
func (s *Store) CreateAPIKey(_ context.Context, k orgapi.APIKey) error { return s.keys.create(k) }

// FindAPIKey implements [orgapi.APIKeyStore].
func (s *Store) FindAPIKey(_ context.Context, id string) (orgapi.APIKey, error) {
	return s.keys.find(id)
}

// RevokeAPIKey implements [orgapi.APIKeyStore].
func (s *Store) RevokeAPIKey(_ context.Context, id string) error { return s.keys.revoke(id) }

// PurgeExpired deletes what expired at or before now: sessions, token ids,
// and organization secrets whose grace period is over. It reports how many
// it deleted. Run it periodically (the store also purges a little as it
// goes).
func (s *Store) PurgeExpired(ctx context.Context, now time.Time) (int, error) {
	n, _ := s.sessions.PurgeExpired(ctx, now)
	return n + s.replay.Purge(now) + s.orgs.purge(now), nil
}

// SessionCount reports how many sessions are stored, expired ones not yet
// purged included.
func (s *Store) SessionCount() int { return s.sessions.Len() }

// TokenIDCount reports how many used token ids are remembered, expired ones
// not yet purged included.
func (s *Store) TokenIDCount() int { return s.replay.Len() }
