package embedsso

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Org is an organization's embedding configuration, as an [OrgStore] returns it.
type Org struct {
	// ID is the value customers put in the token's orgId claim.
	ID string
	// EmbeddingEnabled MUST be true for the organization to accept logins.
	EmbeddingEnabled bool
	// Secrets are the HS256 keys the organization signs with. More than one
	// allows rotation: a token whose header has a kid is checked only against
	// the secret with that KeyID; a token without one against each in turn.
	// Each MUST be at least 32 bytes; a shorter one refuses every login with a
	// 500 and a log line rather than accept a weak key.
	Secrets []Secret
	// AllowedOrigins lists the origins allowed to embed the organization, as
	// exact "scheme://host[:port]" values or "https://*.example.com" wildcards.
	// Empty means any origin, as the reference endpoint allows.
	AllowedOrigins []string
	// AllowedRoles lists the values the role claim may take. Empty means any
	// well-formed role.
	AllowedRoles []string
	// DashboardURL is where a signed-in user is sent: a path on this app, such
	// as "/dashboard". Default: "/".
	DashboardURL string
	// LoginURL is an endpoint on the organization's own site that mints a
	// fresh token for its signed-in user and redirects to the SSO endpoint
	// with the return_to it was given (Metabase calls it the JWT identity
	// provider URI). When a framed page behind [Handler.RequireUser] finds no
	// valid session, the user is sent there and comes back to the same page
	// signed in, with no click. It MUST be https (or http on a loopback
	// host) and its origin MUST be on AllowedOrigins. Default: "" (the page
	// tells the user the session ended and posts a message to the parent).
	LoginURL string
}

// Secret is one HS256 key of an organization.
type Secret struct {
	// KeyID matches a token header's kid. It may be empty.
	KeyID string
	// Value is the secret exactly as the customer holds it: its bytes are the
	// HMAC key, with no base64 decoding (as Node's jsonwebtoken uses it).
	Value string
}

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
// Email is always as [NormalizeEmail] returns it: ASCII letters in lower
// case, the domain in its ASCII form, every other byte as the token had it.
// It identifies the user byte for byte; a store MUST NOT fold or map it
// again (no Unicode lower-casing, no case-insensitive collation), which
// could merge two users the normalization keeps apart.
type Profile struct {
	OrgID     string
	Email     string
	FirstName string
	LastName  string
	Role      string
}

// User is a stored user of an organization, identified by (OrgID, Email).
type User struct {
	ID        string
	OrgID     string
	Email     string
	FirstName string
	LastName  string
	Role      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// UserStore creates and updates users.
type UserStore interface {
	// UpsertUser creates the user (p.OrgID, p.Email) or updates its names and
	// role, and returns the stored user. Emails are compared byte for byte
	// (see [Profile]). It MUST be idempotent and safe when
	// several calls for the same new user race: exactly one user results and
	// every call returns it. An error means the store failed.
	UpsertUser(ctx context.Context, p Profile) (User, error)
}

// Session is a stored login. Only a hash of the session id is kept, so a
// leaked store does not leak usable cookies.
type Session struct {
	// IDHash is the hex SHA-256 of the session id the browser holds.
	IDHash string
	// User is who signed in. A store may return the user as it was when the
	// session was created (MemorySessionStore keeps that copy) or as the
	// UserStore holds it now (sqlstore joins the users table); ID, OrgID and
	// Email are the same either way. A later login with a changed role or
	// name gets a new session that carries the change.
	User      User
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SessionStore keeps sessions for [CookieSessions].
type SessionStore interface {
	// CreateSession stores s. s.User.ID refers to a user the UserStore returned.
	CreateSession(ctx context.Context, s Session) error
	// FindSession returns the session whose IDHash is idHash. It MUST return an
	// error matching [ErrSessionNotFound] when there is none, when it was
	// revoked, or when it expired at or before now. Other errors mean failure.
	FindSession(ctx context.Context, idHash string, now time.Time) (Session, error)
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

// Purger is implemented by stores that can delete expired entries (sessions,
// token ids) in bulk. Run it periodically; the in-memory stores also purge as
// they go.
type Purger interface {
	// PurgeExpired deletes entries that expired at or before now and reports
	// how many it deleted.
	PurgeExpired(ctx context.Context, now time.Time) (int, error)
}

// Compile-time checks that the in-memory stores satisfy their interfaces.
var (
	_ OrgStore     = (*MemoryOrgStore)(nil)
	_ UserStore    = (*MemoryUserStore)(nil)
	_ SessionStore = (*MemorySessionStore)(nil)
	_ ReplayStore  = (*MemoryReplayStore)(nil)
	_ Purger       = (*MemorySessionStore)(nil)
	_ Purger       = (*MemoryReplayStore)(nil)
)

func nowFunc(f func() time.Time) func() time.Time {
	if f == nil {
		return time.Now
	}
	return f
}

// randomHex returns n random bytes in hex. crypto/rand.Read never fails on
// supported platforms (Go 1.24 and later crash rather than return an error).
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
