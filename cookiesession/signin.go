package cookiesession

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/embedsso/embedsso"
)

// SignInStore makes all of a sign-in's writes in one atomic step, for
// [Config.SignIns]: spend the token id, create or update the user, store the
// new session. On a SQL database that is one transaction: one commit instead
// of three, and a failure half-way leaves nothing behind.
type SignInStore interface {
	// SignIn makes w's writes atomically and returns the stored user. When
	// w.TokenID is not empty and (w.Profile.OrgID, w.TokenID) is recorded
	// with an expiry after w.Now, it MUST return an error matching
	// [embedsso.ErrTokenReplayed] and change nothing. Otherwise it records
	// the token id until w.TokenExpiresAt, upserts the user as
	// [embedsso.UserStore.UpsertUser] does, and stores w.Session with that
	// User as [Store.CreateSession] does.
	// Any other error means the store failed and none of the writes happened.
	SignIn(ctx context.Context, w SignInWrite) (embedsso.User, error)
}

// SignInWrite is everything one login writes, for [SignInStore.SignIn].
type SignInWrite struct {
	// Profile is the verified user; Profile.OrgID is also the token's org.
	Profile embedsso.Profile
	// TokenID is the token's jti, or "" when it has none (nothing to record).
	TokenID string
	// TokenExpiresAt is how long TokenID must be remembered.
	TokenExpiresAt time.Time
	// Now is the handler's clock, for the replay check.
	Now time.Time
	// Session is the new session. Its User is the zero value: the store sets
	// it to the upserted user.
	Session embedsso.Session
}

// OneStep implements [embedsso.OneStepIssuer]: it reports whether
// [Config.SignIns] is set.
func (c *Issuer) OneStep() bool { return c.signIns != nil }

// SignIn implements [embedsso.OneStepIssuer]: one call to
// [Config.SignIns], then the cookie, only once the session is kept.
func (c *Issuer) SignIn(ctx context.Context, w http.ResponseWriter, _ *http.Request, p embedsso.Profile, orgEpoch int64, tokenID string, tokenUntil, now time.Time) (embedsso.Session, error) {
	if c.signIns == nil {
		return embedsso.Session{}, errors.New("cookiesession: Config.SignIns is not set")
	}
	s, id := c.startSession()
	s.OrgEpoch = orgEpoch
	u, err := c.signIns.SignIn(ctx, SignInWrite{Profile: p, TokenID: tokenID, TokenExpiresAt: tokenUntil, Now: now, Session: s})
	if err != nil {
		return embedsso.Session{}, fmt.Errorf("sign in: %w", err)
	}
	s.User = u
	c.sessionLine.Set(w, id, s.ExpiresAt)
	return s, nil
}
