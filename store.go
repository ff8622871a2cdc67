package embedsso

import (
	"context"
	"time"

	"github.com/embedsso/embedsso/internal/replay"
)

// OrgStore looks up organizations.
type OrgStore interface {
	// FindOrg returns the organization with the given id. For an unknown id it
	// MUST return an error matching [ErrOrgNotFound]; any other error means the
	// store failed and is answered with a 500.
	FindOrg(ctx context.Context, id string) (Org, error)
}

// Profile is what a verified token says about its user, validated. It is the
// input of [UserStore.UpsertUser].
//
// Email is the token's email normalized: ASCII letters in lower case, the
// domain in ASCII (IDNA2008), every other byte as sent (no Unicode case
// mapping: U+212A KELVIN SIGN is not k); an address that needs any other
// mapping is refused. It identifies the user byte for byte: a store MUST NOT
// fold or map it again (no Unicode lower-casing or case-insensitive
// collation), which could merge users the normalization keeps apart.
type Profile struct {
	OrgID     string
	Email     string
	FirstName string
	LastName  string
	Role      string
	// Attributes are the token's other claims: names matching
	// [A-Za-z][A-Za-z0-9_.-]{0,63}, values string, json.Number or bool; nil for none.
	Attributes map[string]any
	// Groups is the token's groups claim, sorted, deduplicated; nil for none.
	Groups []string
}

// User is a stored user of an organization, identified by (OrgID, Email).
type User struct {
	ID        string
	OrgID     string
	Email     string
	FirstName string
	LastName  string
	Role      string
	// Attributes and Groups are those of the user's latest sign-in (see
	// [Profile]); a store returns nil for none.
	Attributes map[string]any
	Groups     []string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// UserStore creates and updates users.
type UserStore interface {
	// UpsertUser creates the user (p.OrgID, p.Email) or replaces its names,
	// role, attributes and groups with p's (an attribute p lacks is removed),
	// and returns the stored user. Emails are compared byte for byte (see
	// [Profile]). It MUST be idempotent and safe when several calls for the
	// same new user race: exactly one user results and every call returns
	// it. An error means the store failed.
	UpsertUser(ctx context.Context, p Profile) (User, error)
}

// Session is a stored login. Only a hash of the session id is kept, so a
// leaked store does not leak usable cookies.
type Session struct {
	// IDHash is the hex SHA-256 of the session id the browser holds.
	IDHash string
	// User is who signed in, as the UserStore holds the user now: a later
	// login's new role or names show in all the user's sessions at once.
	User      User
	CreatedAt time.Time
	// ExpiresAt is the absolute end of the session: activity never moves it.
	ExpiresAt time.Time
	// IdleExpiresAt is when the session ends unless used before; the issuer
	// moves it forward as the user makes requests. Zero: no idle limit.
	IdleExpiresAt time.Time
	// OrgEpoch is the organization's [Org.Epoch] as the sign-in read it,
	// before verifying the token; a store keeps it and returns it from
	// FindSession. The guard refuses the session once Epoch moves on.
	OrgEpoch int64
	// Org, when not nil, is User's organization as the [OrgStore] holds it
	// now, read with the session (a SQL join) by the issuer's FindSession:
	// the guard then reads no OrgStore. It MUST be as current as
	// [OrgStore.FindOrg] (disabling embedding ends the sessions at their next
	// request) and nil when the organization no longer exists; creating a
	// session ignores it. [SessionFromContext] returns it set.
	Org *Org
}

// ReplayStore remembers used token ids (jti) so each token logs in once.
type ReplayStore interface {
	// UseTokenID records tokenID of orgID as used until expiresAt. If the same
	// (orgID, tokenID) is already recorded with an expiry after now, it MUST
	// return an error matching [ErrTokenReplayed] and change nothing. When
	// several calls with the same id race, exactly one succeeds. Other errors
	// mean the store failed.
	UseTokenID(ctx context.Context, orgID, tokenID string, expiresAt, now time.Time) error
}

// memoryReplay is the default [ReplayStore]: token ids remembered in
// memory, as package memstore remembers them, right for a single instance.
type memoryReplay struct{ replay.Store }

func (m *memoryReplay) UseTokenID(_ context.Context, orgID, tokenID string, expiresAt, now time.Time) error {
	if !m.Use(orgID, tokenID, expiresAt, now) {
		return ErrTokenReplayed
	}
	return nil
}

func nowFunc(f func() time.Time) func() time.Time {
	if f == nil {
		return time.Now
	}
	return f
}
