// Package cookiesession is embedsso's default session issuer: a random
// 256-bit opaque session id in a Secure, HttpOnly, SameSite=None,
// Partitioned cookie, with only its SHA-256 kept in a [Store]. An [*Issuer]
// is an [embedsso.SessionIssuer] (embedsso.Config.Sessions) and an
// [embedsso.OneStepIssuer]: with [Config.SignIns] set, each sign-in's writes
// are one call to a [SignInStore], one transaction on a SQL database.
// Package memstore and module sqlstore provide a Store; sqlstore's is also a
// SignInStore.
package cookiesession

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/internal/cookieline"
)

// Store keeps the sessions of an [Issuer].
type Store interface {
	// CreateSession stores s. s.User.ID refers to a user the UserStore returned.
	CreateSession(ctx context.Context, s embedsso.Session) error
	// FindSession returns the session whose IDHash is idHash, with its User
	// as the UserStore holds that user now. It MUST return an error matching
	// [embedsso.ErrSessionNotFound] when there is none, when it was revoked,
	// when its user no longer exists, or when its ExpiresAt or its (non-zero)
	// IdleExpiresAt is at or before now. Other errors mean failure.
	FindSession(ctx context.Context, idHash string, now time.Time) (embedsso.Session, error)
	// TouchSession sets the IdleExpiresAt of the session whose IDHash is
	// idHash, so activity keeps it alive. Touching an unknown session is not
	// an error. Other errors mean failure.
	TouchSession(ctx context.Context, idHash string, idleExpiresAt time.Time) error
	// RevokeSession deletes one session. Revoking an unknown session is not an error.
	RevokeSession(ctx context.Context, idHash string) error
	// RevokeUserSessions deletes every session of one user.
	RevokeUserSessions(ctx context.Context, orgID, userID string) error
}

var (
	_ embedsso.SessionIssuer = (*Issuer)(nil)
	_ embedsso.OneStepIssuer = (*Issuer)(nil)
)

// The session lifetimes a zero [Config.TTL] and IdleTimeout stand for.
const (
	// DefaultTTL is how long after sign-in a session ends.
	DefaultTTL = 8 * time.Hour
	// DefaultIdleTimeout is how long unused a session may be before it ends.
	DefaultIdleTimeout = 30 * time.Minute
)

// Config configures [New].
type Config struct {
	// Store keeps the sessions. Required.
	Store Store
	// SignIns, when set, makes each sign-in's writes (spend the token id,
	// upsert the user, keep the session) in one call, one transaction on a
	// SQL database, instead of one each to the handler's Replay and Users
	// and to Store. It MUST be the store behind all three; embedsso.New
	// refuses it without a Config.Replay. Default: nil (a write each).
	SignIns SignInStore
	// Name is the cookie's name. Default: "embedsso_session".
	Name string
	// Path is the cookie's Path. Default: "/".
	Path string
	// Domain is the cookie's Domain. Default: "" (host-only, the safest).
	Domain string
	// TTL is the absolute lifetime of a session: it ends this long after
	// sign-in however active the user is. Default: 8h (a working day).
	TTL time.Duration
	// IdleTimeout ends a session that has not been used for this long.
	// Requests renew it, with at most one store write a minute per session.
	// Negative turns the idle limit off. Default: 30m.
	IdleTimeout time.Duration
	// SameSite is the cookie's SameSite mode. It MUST stay None for the app
	// to work inside a cross-site iframe. Default: http.SameSiteNoneMode.
	SameSite http.SameSite
	// NotPartitioned drops the Partitioned attribute. Partitioned (CHIPS)
	// cookies keep working in a cross-site frame when the browser blocks
	// third-party cookies. Set embedsso.Config.NotPartitioned to match.
	// Default: false (the cookie is Partitioned).
	NotPartitioned bool
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Logger receives a line when renewing a session's idle expiry fails
	// (the request goes on: the session is valid). Give it the handler's
	// embedsso.Config.Logger. Default: nil, which discards.
	Logger *slog.Logger
}

// Issuer is the cookie [embedsso.SessionIssuer]: a random 256-bit opaque
// session id in a Secure, HttpOnly cookie, with only its SHA-256 kept in a
// [Store]. [embedsso.Handler.RequireUser] finds the session again on later
// requests. It is safe for concurrent use.
type Issuer struct {
	store          Store
	signIns        SignInStore // nil: a write each (Config.SignIns)
	name, path     string
	domain         string
	ttl            time.Duration
	idle           time.Duration // 0: no idle limit
	sameSite       http.SameSite
	notPartitioned bool
	now            func() time.Time
	log            *slog.Logger
	// The Set-Cookie line of the session cookie, its attributes rendered
	// once.
	sessionLine cookieline.Line
}

// New checks cfg and returns the session issuer it describes.
func New(cfg Config) (*Issuer, error) {
	if cfg.Store == nil {
		return nil, errors.New("cookiesession: Config.Store is required")
	}
	if cfg.TTL < 0 {
		return nil, errors.New("cookiesession: Config.TTL must not be negative")
	}
	c := &Issuer{
		store: cfg.Store, signIns: cfg.SignIns, name: cfg.Name, path: cfg.Path, domain: cfg.Domain,
		ttl: cfg.TTL, idle: cfg.IdleTimeout, sameSite: cfg.SameSite, notPartitioned: cfg.NotPartitioned,
		now: cfg.Now, log: cfg.Logger,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.name == "" {
		c.name = "embedsso_session"
	}
	if c.path == "" {
		c.path = "/"
	}
	if c.ttl == 0 {
		c.ttl = DefaultTTL
	}
	switch {
	case c.idle == 0:
		c.idle = DefaultIdleTimeout
	case c.idle < 0:
		c.idle = 0
	}
	if c.sameSite == 0 || c.sameSite == http.SameSiteDefaultMode {
		c.sameSite = http.SameSiteNoneMode
	}
	if !cookieline.ValidName(c.name) {
		return nil, fmt.Errorf("cookiesession: invalid cookie name %q", c.name)
	}
	// Any non-empty value gives the session cookie its attributes.
	c.sessionLine = cookieline.New(*c.cookie("v", time.Time{}), true)
	return c, nil
}

// CookieName returns the name of the session cookie.
func (c *Issuer) CookieName() string { return c.name }

// sessionIDBytes is 256 bits: guessing one is as hard as forging HMAC-SHA256.
const sessionIDBytes = 32

// sessionIDLen is the length of a session id in unpadded base64url.
var sessionIDLen = base64.RawURLEncoding.EncodedLen(sessionIDBytes)

// IssueSession implements [embedsso.SessionIssuer].
func (c *Issuer) IssueSession(ctx context.Context, w http.ResponseWriter, r *http.Request, u embedsso.User, orgEpoch int64) (embedsso.Session, error) {
	s, id := c.startSession()
	s.User, s.OrgEpoch = u, orgEpoch
	if err := c.store.CreateSession(ctx, s); err != nil {
		return embedsso.Session{}, fmt.Errorf("store session: %w", err)
	}
	c.sessionLine.Set(w, id, s.ExpiresAt)
	return s, nil
}

// startSession makes a new session id and the session to store under its
// hash; only the cookie, set once the session is stored, carries the id. It
// writes nothing.
func (c *Issuer) startSession() (s embedsso.Session, id string) {
	var raw [sessionIDBytes]byte
	_, _ = rand.Read(raw[:]) // never fails since Go 1.24
	id = base64.RawURLEncoding.EncodeToString(raw[:])
	now := c.now()
	s = embedsso.Session{IDHash: hashSessionID(id), CreatedAt: now, ExpiresAt: now.Add(c.ttl)}
	s.IdleExpiresAt = c.idleExpiry(&s, now)
	return s, id
}

// renewEvery throttles idle renewal: a session used again within this long
// (or within half its idle timeout, when that is shorter)
// of its last renewal is not written, so a busy page costs reads only.
const renewEvery = time.Minute

// idleExpiry is when s ends if unused after now: never past its absolute
// expiry, and zero without an idle limit.
func (c *Issuer) idleExpiry(s *embedsso.Session, now time.Time) time.Time {
	if c.idle == 0 {
		return time.Time{}
	}
	if t := now.Add(c.idle); t.Before(s.ExpiresAt) {
		return t
	}
	return s.ExpiresAt
}

func (c *Issuer) cookie(value string, expires time.Time) *http.Cookie {
	ck := &http.Cookie{
		Name: c.name, Value: value, Path: c.path, Domain: c.domain,
		Secure: true, HttpOnly: true, SameSite: c.sameSite, Partitioned: !c.notPartitioned,
	}
	if value == "" {
		ck.MaxAge = -1
	} else {
		// Max-Age wins over Expires in every current browser; Expires is
		// for the old ones. Both come from our clock, not the wall's.
		ck.Expires = expires.UTC()
		ck.MaxAge = int(c.ttl / time.Second)
	}
	return ck
}

// Session implements [embedsso.SessionIssuer]: it finds the session r's cookie
// names and renews its idle expiry, with at most one store write a minute.
// A value that cannot be one of its session ids never reaches the store.
func (c *Issuer) Session(_ http.ResponseWriter, r *http.Request) (embedsso.Session, error) {
	ck, err := r.Cookie(c.name)
	if err != nil {
		return embedsso.Session{}, embedsso.ErrSessionNotFound
	}
	if len(ck.Value) != sessionIDLen {
		return embedsso.Session{}, embedsso.ErrSessionNotFound
	}
	if _, err := base64.RawURLEncoding.DecodeString(ck.Value); err != nil {
		return embedsso.Session{}, embedsso.ErrSessionNotFound
	}
	now := c.now()
	s, err := c.find(r.Context(), hashSessionID(ck.Value), now)
	if err != nil {
		return embedsso.Session{}, err
	}
	// Activity renews the idle expiry, written at most once per renewEvery
	// (half the idle timeout when that is shorter, so that a timeout of
	// seconds is renewed too).
	every := min(renewEvery, c.idle/2)
	if c.idle > 0 && !s.IdleExpiresAt.IsZero() && !now.Before(s.IdleExpiresAt.Add(every-c.idle)) {
		next := c.idleExpiry(&s, now)
		if next.Equal(s.IdleExpiresAt) {
			return s, nil // capped at the absolute expiry: nothing to move
		}
		if err := c.store.TouchSession(r.Context(), s.IDHash, next); err != nil {
			// The session is valid for this request; only its renewal failed.
			c.log.LogAttrs(r.Context(), slog.LevelError, "embedsso: renewing a session failed", slog.String("cause", err.Error()))
		} else {
			s.IdleExpiresAt = next
		}
	}
	return s, nil
}

// FindSession implements [embedsso.SessionIssuer]: the session idHash names, from
// the store, not renewed.
func (c *Issuer) FindSession(ctx context.Context, idHash string) (embedsso.Session, error) {
	return c.find(ctx, idHash, c.now())
}

func (c *Issuer) find(ctx context.Context, idHash string, now time.Time) (embedsso.Session, error) {
	s, err := c.store.FindSession(ctx, idHash, now)
	if err != nil {
		return embedsso.Session{}, err
	}
	if ended(&s, now) { // the store's contract, held here too
		return embedsso.Session{}, embedsso.ErrSessionNotFound
	}
	return s, nil
}

// Carries implements [embedsso.SessionIssuer]: it compares the hash of r's cookie
// with idHash, reading no store.
func (c *Issuer) Carries(r *http.Request, idHash string) bool {
	got, ok := c.cookieHash(r)
	var want [sha256.Size]byte
	if !ok || len(idHash) != hex.EncodedLen(len(want)) {
		return false
	}
	if _, err := hex.Decode(want[:], []byte(idHash)); err != nil {
		return false
	}
	return hmac.Equal(got[:], want[:])
}

// SignOut revokes r's session, if any, and expires the cookie.
func (c *Issuer) SignOut(w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, c.cookie("", time.Time{}))
	ck, err := r.Cookie(c.name)
	if err != nil {
		return nil
	}
	return c.store.RevokeSession(r.Context(), hashSessionID(ck.Value))
}

// hashSessionID is what stores keep instead of the id.
func hashSessionID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// cookieHash returns the store key of the session id r's cookie carries,
// without asking the store whether it is valid.
func (c *Issuer) cookieHash(r *http.Request) (sum [sha256.Size]byte, ok bool) {
	ck, err := r.Cookie(c.name)
	if err != nil || len(ck.Value) != sessionIDLen {
		return sum, false
	}
	return sha256.Sum256([]byte(ck.Value)), true
}

// ended reports whether s has ended at now: its absolute or its idle expiry
// is at or before now.
func ended(s *embedsso.Session, now time.Time) bool {
	return !s.ExpiresAt.After(now) || !s.IdleExpiresAt.IsZero() && !s.IdleExpiresAt.After(now)
}
