package embedsso

import (
	"context"
	"time"
)

// SignInStore is implemented by a store that can make all of a login's
// writes in one atomic step: spend the token id, create or update the user,
// and store the new session. On a SQL database that is one transaction, so
// a login costs one commit instead of three, and a failure half-way leaves
// nothing behind (no spent token without a session, no user without one).
//
// The handler uses it only when one value is at once [Config.Users],
// [Config.Replay] and the [CookieConfig.Store] of [Config.Sessions] (as a
// sqlstore.Store is when passed for all three): the write then goes to the
// same place it would have gone one step at a time, and nothing else about
// the login changes.
type SignInStore interface {
	// SignIn makes w's writes atomically and returns the stored user.
	//
	// When w.TokenID is not empty and (w.Profile.OrgID, w.TokenID) is already
	// recorded with an expiry after w.Now, it MUST return an error matching
	// [ErrTokenReplayed] and change nothing. Otherwise it records the token id
	// until w.TokenExpiresAt, upserts the user as [UserStore.UpsertUser] does,
	// and stores w.Session with its User set to that user, as
	// [SessionStore.CreateSession] does. Any other error means the store
	// failed, and then none of the writes happened.
	SignIn(ctx context.Context, w SignInWrite) (User, error)
}

// SignInWrite is everything one login writes, for [SignInStore.SignIn].
type SignInWrite struct {
	// Profile is the verified user; Profile.OrgID is also the token's org.
	Profile Profile
	// TokenID is the token's jti, or "" when it has none (nothing to record).
	TokenID string
	// TokenExpiresAt is how long TokenID must be remembered.
	TokenExpiresAt time.Time
	// Now is the handler's clock, for the replay check.
	Now time.Time
	// Session is the new session. Its User is the zero value: the store sets
	// it to the upserted user.
	Session Session
}
