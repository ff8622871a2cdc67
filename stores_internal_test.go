package embedsso

import (
	"context"
	"errors"
	"net/http"
)

// This package's own tests cannot import package memstore, which imports
// this one; where they need stores (to build a Handler whose stores and
// issuer they never reach, or only for an organization), they use these.

// testOrgStore holds organizations by id.
type testOrgStore map[string]Org

func (s testOrgStore) FindOrg(_ context.Context, id string) (Org, error) {
	o, ok := s[id]
	if !ok {
		return Org{}, ErrOrgNotFound
	}
	return o, nil
}

// nopStore is a UserStore and SessionIssuer that keeps nothing: every user
// is new, no session is ever issued or found.
type nopStore struct{}

func (nopStore) UpsertUser(_ context.Context, p Profile) (User, error) {
	return User{ID: "usr_nop", OrgID: p.OrgID, Email: p.Email}, nil
}
func (nopStore) IssueSession(context.Context, http.ResponseWriter, *http.Request, User, int64) (Session, error) {
	return Session{}, errors.New("nopStore issues no session")
}
func (nopStore) Session(http.ResponseWriter, *http.Request) (Session, error) {
	return Session{}, ErrSessionNotFound
}
func (nopStore) Carries(*http.Request, string) bool { return false }
func (nopStore) FindSession(context.Context, string) (Session, error) {
	return Session{}, ErrSessionNotFound
}
