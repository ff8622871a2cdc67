package embedsso

import (
	"context"
	"time"
)

// This package's own tests cannot import package memstore, which imports
// this one; where they need stores (to build a Handler or CookieSessions
// whose stores they never reach, or only for an organization), they use
// these.

// testOrgStore holds organizations by id.
type testOrgStore map[string]Org

func (s testOrgStore) FindOrg(_ context.Context, id string) (Org, error) {
	o, ok := s[id]
	if !ok {
		return Org{}, ErrOrgNotFound
	}
	return o, nil
}

// nopStore is a UserStore and SessionStore that keeps nothing: every user
// is new, no session is ever found.
type nopStore struct{}

func (nopStore) UpsertUser(_ context.Context, p Profile) (User, error) {
	return User{ID: "usr_nop", OrgID: p.OrgID, Email: p.Email}, nil
}
func (nopStore) CreateSession(context.Context, Session) error { return nil }
func (nopStore) FindSession(context.Context, string, time.Time) (Session, error) {
	return Session{}, ErrSessionNotFound
}
func (nopStore) TouchSession(context.Context, string, time.Time) error    { return nil }
func (nopStore) RevokeSession(context.Context, string) error              { return nil }
func (nopStore) RevokeUserSessions(context.Context, string, string) error { return nil }
