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
// domain in its ASCII (IDNA2008) form, every other byte as the token had it
// (no Unicode case mapping: U+212A KELVIN SIGN is not k); the handler refuses
// an address that would need any other mapping.
// It identifies the user byte for byte; a store MUST NOT fold or map it
// again (no Unicode lower-casing, no case-insensitive collation), which
// could merge two users the normalization keeps apart.
type Profile struct {
	OrgID     string
	Email     string
	FirstName string
	LastName  string
	Role      string
	// Attributes are the token's other claims (see attributes.go): names
	// matching [A-Za-z][A-Za-z0-9_.-]{0,63}, values of type string,
	// json.Number or bool. Nil when there are none.
	Attributes map[string]any
	// Groups is the token's groups claim, sorted, without duplicates. Nil
	// when there are none.
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
	// [Profile]). It MUST be idempotent and safe when
	// several calls for the same new user race: exactly one user results and
	// every call returns it. An error means the store failed.
	UpsertUser(ctx context.Context, p Profile) (User, error)
}

// Session is a stored login. Only a hash of the session id is kept, so a
// leaked store does not leak usable cookies.
type Session struct {
	// IDHash is the hex SHA-256 of the session id the browser holds.
	IDHash string
	// User is who signed in, as the UserStore holds the user now: a later
	// login that changes the role or names shows in every session of the
	// user at its next request.
	User      User
	CreatedAt time.Time
	// ExpiresAt is the absolute end of the session: activity never moves it.
	ExpiresAt time.Time
	// IdleExpiresAt is when the session ends unless it is used before:
	// [CookieSessions] moves it forward as the user makes requests (see
	// [CookieConfig.IdleTimeout]). Zero means no idle limit.
	IdleExpiresAt time.Time
	// OrgEpoch is the [Org.Epoch] of the user's organization as the
	// sign-in read it, before it verified the token. A store keeps it with
	// the session and returns it from FindSession; the guard refuses the
	// session once the organization's Epoch has moved on.
	OrgEpoch int64
	// Org, when not nil, is the organization of User as the [OrgStore]
	// holds it now, read together with the session. A [SessionStore] that
	// can read both at once (a SQL join) may set it in FindSession, and
	// [Handler.RequireUser] then reads no OrgStore: one store read per
	// signed-in request. It MUST be as current as [OrgStore.FindOrg]
	// (disabling an organization's embedding ends its sessions at their
	// next request), and it MUST NOT be set when the organization no longer
	// exists. CreateSession ignores it. Nil means the guard reads the
	// organization itself. Behind the guard, [SessionFromContext] returns
	// it set.
	Org *Org
}

// ended reports whether s has ended at now: its absolute or its idle expiry
// is at or before now.
func (s *Session) ended(now time.Time) bool {
	return !s.ExpiresAt.After(now) || !s.IdleExpiresAt.IsZero() && !s.IdleExpiresAt.After(now)
}

// SessionStore keeps sessions for [CookieSessions].
type SessionStore interface {
	// CreateSession stores s. s.User.ID refers to a user the UserStore returned.
	CreateSession(ctx context.Context, s Session) error
	// FindSession returns the session whose IDHash is idHash, with its User
	// as the UserStore holds that user now. It MUST return an error matching
	// [ErrSessionNotFound] when there is none, when it was revoked, when its
	// user no longer exists, or when its ExpiresAt or its (non-zero)
	// IdleExpiresAt is at or before now. Other errors mean failure.
	FindSession(ctx context.Context, idHash string, now time.Time) (Session, error)
	// TouchSession sets the IdleExpiresAt of the session whose IDHash is
	// idHash, so activity keeps it alive. Touching an unknown session is not
	// an error. Other errors mean failure.
	TouchSession(ctx context.Context, idHash string, idleExpiresAt time.Time) error
	// RevokeSession deletes one session. Revoking an unknown session is not an error.
	RevokeSession(ctx context.Context, idHash string) error
	// RevokeUserSessions deletes every session of one user.
	RevokeUserSessions(ctx context.Context, orgID, userID string) error
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
