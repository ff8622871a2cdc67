// Package scsissuer keeps embedsso's sessions in an [scs.SessionManager]
// (github.com/alexedwards/scs/v2), for an app that already keeps its
// sessions there. [*Issuer] is an [embedsso.SessionIssuer]: the login, the
// cookie check, the resume, the LoginURL round trip and
// [embedsso.Handler.RequireUser] all work with it, as with
// the default [github.com/embedsso/embedsso/cookiesession.Issuer].
//
// The session's cookie is the manager's. Inside a cross-site frame it MUST
// be Secure and SameSite=None, and should be Partitioned (see [New]).
//
// The issuer loads and commits the sessions it uses itself. Mount the
// embedsso endpoint outside the manager's LoadAndSave (which would commit
// the request's own session after the login's, under the same cookie);
// pages behind the guard may sit inside it, and then see the same session
// through the manager.
package scsissuer

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/embedsso/embedsso"
)

// The keys the issuer keeps in a session, and the prefix of its index
// entries (see [Issuer.FindSession]).
const (
	keyUser    = "embedsso.user"
	keyOrg     = "embedsso.org"
	keyCreated = "embedsso.created"
	keyEpoch   = "embedsso.orgEpoch"
	keyToken   = "embedsso.token"
	indexKey   = "embedsso.idhash:"
)

// Config configures [New].
type Config struct {
	// Sessions is the app's session manager. Its Cookie MUST be Secure
	// and SameSite=None for the session to reach the app inside the
	// customer's frame; [New] refuses it otherwise. Required.
	Sessions *scs.SessionManager
	// FindUser returns the user as the app's [embedsso.UserStore] holds
	// it now, so that a session shows a later sign-in's role and names.
	// For a user that no longer exists it MUST return an error matching
	// [embedsso.ErrSessionNotFound]: the session has ended. Required.
	FindUser func(ctx context.Context, orgID, userID string) (embedsso.User, error)
	// Now is the clock of the session's CreatedAt. scs keeps its own
	// (time.Now) for expiry. Default: time.Now.
	Now func() time.Time
}

// Issuer is an [embedsso.SessionIssuer] over an scs session manager. It is
// safe for concurrent use.
type Issuer struct {
	sm       *scs.SessionManager
	findUser func(ctx context.Context, orgID, userID string) (embedsso.User, error)
	now      func() time.Time
}

var _ embedsso.SessionIssuer = (*Issuer)(nil)

// New checks cfg and returns the issuer it describes.
func New(cfg Config) (*Issuer, error) {
	switch {
	case cfg.Sessions == nil || cfg.FindUser == nil:
		return nil, errors.New("scsissuer: Config.Sessions and Config.FindUser are required")
	case !cfg.Sessions.Cookie.Secure || cfg.Sessions.Cookie.SameSite != http.SameSiteNoneMode:
		return nil, errors.New("scsissuer: the session cookie must be Secure and SameSite=None to reach the app in a cross-site frame")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Issuer{sm: cfg.Sessions, findUser: cfg.FindUser, now: now}, nil
}

// bare keeps a context's deadline and cancellation but none of its values:
// scs's Load then starts from the store, not from a session that
// LoadAndSave put in the request's context.
type bare struct{ context.Context }

func (bare) Value(any) any { return nil }

// IssueSession implements [embedsso.SessionIssuer]: a new scs session (a
// new token) holding the user's id and organization and the organization's
// epoch, committed, its cookie written. An index entry under the session's
// IDHash lets [Issuer.FindSession] find it again without the token.
func (i *Issuer) IssueSession(ctx context.Context, w http.ResponseWriter, _ *http.Request, u embedsso.User, orgEpoch int64) (embedsso.Session, error) {
	sctx, err := i.sm.Load(bare{ctx}, "")
	if err != nil {
		return embedsso.Session{}, fmt.Errorf("scsissuer: load: %w", err)
	}
	if err := i.sm.RenewToken(sctx); err != nil {
		return embedsso.Session{}, fmt.Errorf("scsissuer: new token: %w", err)
	}
	created := i.now()
	i.sm.Put(sctx, keyUser, u.ID)
	i.sm.Put(sctx, keyOrg, u.OrgID)
	i.sm.Put(sctx, keyCreated, created.Unix())
	i.sm.Put(sctx, keyEpoch, orgEpoch)
	token, expiry, err := i.sm.Commit(sctx)
	if err != nil {
		return embedsso.Session{}, fmt.Errorf("scsissuer: commit: %w", err)
	}
	idHash := hashToken(token)
	// The index holds the token, encoded as a session of its own, so the
	// manager's Iterate can decode it; it names no user, so it is no
	// session to the issuer, and its key is no token scs would make.
	b, err := i.sm.Codec.Encode(expiry, map[string]any{keyToken: token})
	if err != nil {
		return embedsso.Session{}, fmt.Errorf("scsissuer: encode index: %w", err)
	}
	if err := i.sm.Store.Commit(indexKey+idHash, b, expiry); err != nil {
		return embedsso.Session{}, fmt.Errorf("scsissuer: commit index: %w", err)
	}
	i.sm.WriteSessionCookie(sctx, w, token, expiry)
	return embedsso.Session{IDHash: idHash, User: u, CreatedAt: created, ExpiresAt: expiry, IdleExpiresAt: i.idleExpiry(expiry), OrgEpoch: orgEpoch}, nil
}

// Session implements [embedsso.SessionIssuer]: the session r's cookie
// names, with its user as FindUser returns it. With an IdleTimeout the
// manager renews the session at every read: it is committed and its cookie
// written again.
func (i *Issuer) Session(w http.ResponseWriter, r *http.Request) (embedsso.Session, error) {
	token, ok := i.token(r)
	if !ok {
		return embedsso.Session{}, embedsso.ErrSessionNotFound
	}
	sctx, s, err := i.load(r.Context(), token)
	if err != nil {
		return embedsso.Session{}, err
	}
	if i.sm.Status(sctx) == scs.Modified {
		_, expiry, err := i.sm.Commit(sctx)
		if err != nil {
			return embedsso.Session{}, fmt.Errorf("scsissuer: renew: %w", err)
		}
		i.sm.WriteSessionCookie(sctx, w, token, expiry)
		s.IdleExpiresAt = i.idleExpiry(s.ExpiresAt)
	}
	return s, nil
}

// Carries implements [embedsso.SessionIssuer]: it compares the hash of
// r's cookie with idHash, reading no store.
func (i *Issuer) Carries(r *http.Request, idHash string) bool {
	token, ok := i.token(r)
	return ok && subtle.ConstantTimeCompare([]byte(hashToken(token)), []byte(idHash)) == 1
}

// FindSession implements [embedsso.SessionIssuer] through the index entry
// IssueSession made: the token it holds, then the session, not renewed.
func (i *Issuer) FindSession(ctx context.Context, idHash string) (embedsso.Session, error) {
	b, found, err := i.sm.Store.Find(indexKey + idHash)
	if err != nil {
		return embedsso.Session{}, fmt.Errorf("scsissuer: find index: %w", err)
	}
	if !found {
		return embedsso.Session{}, embedsso.ErrSessionNotFound
	}
	_, values, err := i.sm.Codec.Decode(b)
	if err != nil {
		return embedsso.Session{}, fmt.Errorf("scsissuer: decode index: %w", err)
	}
	token, _ := values[keyToken].(string)
	if token == "" {
		return embedsso.Session{}, embedsso.ErrSessionNotFound
	}
	_, s, err := i.load(ctx, token)
	return s, err
}

// SignOut destroys r's session, if any, and expires its cookie.
func (i *Issuer) SignOut(w http.ResponseWriter, r *http.Request) error {
	token, ok := i.token(r)
	if !ok {
		return nil
	}
	sctx, err := i.sm.Load(bare{r.Context()}, token)
	if err != nil {
		return fmt.Errorf("scsissuer: load: %w", err)
	}
	if err := i.sm.Destroy(sctx); err != nil {
		return fmt.Errorf("scsissuer: destroy: %w", err)
	}
	i.sm.WriteSessionCookie(sctx, w, "", time.Time{})
	return nil
}

// RevokeUserSessions destroys every session of one user, as
// orgapi's SessionRevoker asks. It goes through every session the store
// holds, so the store MUST support iteration (scs.IterableStore), as scs's
// memstore does.
func (i *Issuer) RevokeUserSessions(ctx context.Context, orgID, userID string) error {
	return i.sm.Iterate(bare{ctx}, func(sctx context.Context) error {
		if i.sm.GetString(sctx, keyUser) != userID || i.sm.GetString(sctx, keyOrg) != orgID {
			return nil
		}
		return i.sm.Destroy(sctx)
	})
}

// token is the session token r's cookie carries, if it has the shape of
// one scs makes (32 random bytes, base64url): anything else, an index key
// among them, never reaches the store.
func (i *Issuer) token(r *http.Request) (string, bool) {
	c, err := r.Cookie(i.sm.Cookie.Name)
	if err != nil || len(c.Value) != base64.RawURLEncoding.EncodedLen(32) {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(c.Value); err != nil {
		return "", false
	}
	return c.Value, true
}

// load loads the session of token and its user.
func (i *Issuer) load(ctx context.Context, token string) (context.Context, embedsso.Session, error) {
	sctx, err := i.sm.Load(bare{ctx}, token)
	if err != nil {
		return nil, embedsso.Session{}, fmt.Errorf("scsissuer: load: %w", err)
	}
	userID, orgID := i.sm.GetString(sctx, keyUser), i.sm.GetString(sctx, keyOrg)
	if userID == "" || orgID == "" {
		// Not found, expired or destroyed: scs starts a new, empty session.
		return nil, embedsso.Session{}, embedsso.ErrSessionNotFound
	}
	u, err := i.findUser(ctx, orgID, userID)
	if err != nil {
		return nil, embedsso.Session{}, err
	}
	expires := i.sm.Deadline(sctx)
	return sctx, embedsso.Session{IDHash: hashToken(token), User: u, CreatedAt: time.Unix(i.sm.GetInt64(sctx, keyCreated), 0),
		ExpiresAt: expires, IdleExpiresAt: i.idleExpiry(expires), OrgEpoch: i.sm.GetInt64(sctx, keyEpoch)}, nil
}

// idleExpiry is when a session used now ends unless used again.
func (i *Issuer) idleExpiry(deadline time.Time) time.Time {
	if i.sm.IdleTimeout <= 0 {
		return time.Time{}
	}
	if t := time.Now().Add(i.sm.IdleTimeout); t.Before(deadline) {
		return t
	}
	return deadline
}

// hashToken is a session's IDHash: the hex SHA-256 of its token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
