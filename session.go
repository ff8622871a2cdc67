package embedsso

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// SessionIssuer establishes a session for a user the handler has just
// verified. The default is [CookieSessions].
type SessionIssuer interface {
	// IssueSession creates a session for u and attaches it to the response,
	// typically with a cookie. It MUST NOT write the response status or body:
	// the handler does. An error is answered with a 500.
	IssueSession(ctx context.Context, w http.ResponseWriter, r *http.Request, u User) error
}

// SessionFinder is implemented by session issuers that can tell whether a
// request carries a valid session, as [CookieSessions] does.
type SessionFinder interface {
	// Session returns the valid session r carries, or an error matching
	// [ErrSessionNotFound] when it carries none.
	Session(r *http.Request) (Session, error)
}

var (
	_ SessionIssuer = (*CookieSessions)(nil)
	_ SessionFinder = (*CookieSessions)(nil)
)

// The session lifetimes a zero [CookieConfig.TTL] and IdleTimeout stand for.
const (
	// DefaultSessionTTL is how long after sign-in a session ends.
	DefaultSessionTTL = 8 * time.Hour
	// DefaultIdleTimeout is how long unused a session may be before it ends.
	DefaultIdleTimeout = 30 * time.Minute
)

// CookieConfig configures [NewCookieSessions].
type CookieConfig struct {
	// Store keeps the sessions. Required.
	Store SessionStore
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
	// third-party cookies. Default: false (the cookie is Partitioned).
	NotPartitioned bool
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Logger receives a line when the session store fails while a
	// middleware authenticates a request (answered with a 500). Give it the
	// handler's [Config.Logger]. Default: nil, which discards.
	Logger *slog.Logger
}

// CookieSessions is the default [SessionIssuer]: a random 256-bit opaque
// session id in a Secure, HttpOnly cookie, with only its SHA-256 kept in a
// [SessionStore]. Its [CookieSessions.Middleware] authenticates later
// requests. It is safe for concurrent use.
type CookieSessions struct {
	store          SessionStore
	name, path     string
	domain         string
	ttl            time.Duration
	idle           time.Duration // 0: no idle limit
	sameSite       http.SameSite
	notPartitioned bool
	now            func() time.Time
	log            *slog.Logger
	// The Set-Cookie lines of the session and hint cookies, their
	// attributes rendered once.
	sessionLine, hintLine cookieLine
}

// NewCookieSessions checks cfg and returns the session issuer it describes.
func NewCookieSessions(cfg CookieConfig) (*CookieSessions, error) {
	if cfg.Store == nil {
		return nil, errors.New("embedsso: CookieConfig.Store is required")
	}
	if cfg.TTL < 0 {
		return nil, errors.New("embedsso: CookieConfig.TTL must not be negative")
	}
	c := &CookieSessions{
		store: cfg.Store, name: cfg.Name, path: cfg.Path, domain: cfg.Domain,
		ttl: cfg.TTL, idle: cfg.IdleTimeout, sameSite: cfg.SameSite, notPartitioned: cfg.NotPartitioned,
		now: nowFunc(cfg.Now), log: cfg.Logger,
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
		c.ttl = DefaultSessionTTL
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
	if !validCookieName(c.name) {
		return nil, fmt.Errorf("embedsso: invalid cookie name %q", c.name)
	}
	// Any non-empty value gives the session cookie its attributes.
	c.sessionLine = newCookieLine(*c.cookie("v", time.Time{}), true)
	c.hintLine = newCookieLine(c.hintCookie(), false)
	return c, nil
}

// CookieName returns the name of the session cookie.
func (c *CookieSessions) CookieName() string { return c.name }

// sessionIDBytes is 256 bits: guessing one is as hard as forging HMAC-SHA256.
const sessionIDBytes = 32

// sessionIDLen is the length of a session id in unpadded base64url.
var sessionIDLen = base64.RawURLEncoding.EncodedLen(sessionIDBytes)

// IssueSession implements [SessionIssuer].
func (c *CookieSessions) IssueSession(ctx context.Context, w http.ResponseWriter, _ *http.Request, u User) error {
	id, s := c.newSession()
	s.User = u
	if err := c.store.CreateSession(ctx, s); err != nil {
		return fmt.Errorf("store session: %w", err)
	}
	c.setCookie(w, id, s.ExpiresAt)
	return nil
}

// newSession makes a new session id and the session to store for it, with
// no user yet.
func (c *CookieSessions) newSession() (id string, s Session) {
	var raw [sessionIDBytes]byte
	_, _ = rand.Read(raw[:]) // never fails since Go 1.24
	id = base64.RawURLEncoding.EncodeToString(raw[:])
	now := c.now()
	s = Session{IDHash: hashSessionID(id), CreatedAt: now, ExpiresAt: now.Add(c.ttl)}
	s.IdleExpiresAt = c.idleExpiry(&s, now)
	return id, s
}

// renewEvery throttles idle renewal: a session used again within this long
// (or within half its idle timeout, when that is shorter)
// of its last renewal is not written, so a busy page costs reads only.
const renewEvery = time.Minute

// idleExpiry is when s ends if unused after now: never past its absolute
// expiry, and zero without an idle limit.
func (c *CookieSessions) idleExpiry(s *Session, now time.Time) time.Time {
	if c.idle == 0 {
		return time.Time{}
	}
	if t := now.Add(c.idle); t.Before(s.ExpiresAt) {
		return t
	}
	return s.ExpiresAt
}

// setCookie hands the browser the session id.
func (c *CookieSessions) setCookie(w http.ResponseWriter, id string, expires time.Time) {
	c.sessionLine.set(w, id, expires)
}

func (c *CookieSessions) cookie(value string, expires time.Time) *http.Cookie {
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

// Session returns the valid session r carries. It returns an error matching
// [ErrSessionNotFound] when r has no cookie, a forged or malformed one, or one
// for a revoked or expired session; any other error is a store failure.
func (c *CookieSessions) Session(r *http.Request) (Session, error) {
	ck, err := r.Cookie(c.name)
	if err != nil {
		return Session{}, ErrSessionNotFound
	}
	// A value that cannot be one of ours never reaches the store.
	if len(ck.Value) != sessionIDLen {
		return Session{}, ErrSessionNotFound
	}
	if _, err := base64.RawURLEncoding.DecodeString(ck.Value); err != nil {
		return Session{}, ErrSessionNotFound
	}
	now := c.now()
	s, err := c.store.FindSession(r.Context(), hashSessionID(ck.Value), now)
	if err != nil {
		return Session{}, err
	}
	if s.ended(now) { // the store's contract, held here too
		return Session{}, ErrSessionNotFound
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

// Middleware authenticates requests by their session cookie. When the
// session is valid, the user is available to next through [UserFromContext];
// otherwise the request passes through unchanged, so next decides whether a
// signed-out visitor may see the page (see [CookieSessions.RequireUser]). A
// store failure is logged to [CookieConfig.Logger] and answered with a
// plain 500.
func (c *CookieSessions) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := c.Session(r)
		switch {
		case err == nil:
			r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, s))
		case !errors.Is(err, ErrSessionNotFound):
			c.log.LogAttrs(r.Context(), slog.LevelError, "embedsso: session store failed",
				slog.String("path", r.URL.Path), slog.String("cause", err.Error()))
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireUser is [CookieSessions.Middleware] that answers 401 to requests
// without a valid session instead of passing them on.
func (c *CookieSessions) RequireUser(next http.Handler) http.Handler {
	return c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := UserFromContext(r.Context()); !ok {
			http.Error(w, "not signed in", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// SignOut revokes r's session, if any, and expires the cookie.
func (c *CookieSessions) SignOut(w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, c.cookie("", time.Time{}))
	ck, err := r.Cookie(c.name)
	if err != nil {
		return nil
	}
	return c.store.RevokeSession(r.Context(), hashSessionID(ck.Value))
}

type sessionKey struct{}

// UserFromContext returns the user that [CookieSessions.Middleware] found for
// the request.
func UserFromContext(ctx context.Context) (User, bool) {
	s, ok := SessionFromContext(ctx)
	return s.User, ok
}

// SessionFromContext returns the session that [CookieSessions.Middleware]
// found for the request.
func SessionFromContext(ctx context.Context) (Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(Session)
	return s, ok
}

// hashSessionID is what stores keep instead of the id.
func hashSessionID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func validCookieName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b <= ' ' || b >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", b) >= 0 {
			return false
		}
	}
	return true
}

// cookieHash returns the store key of the session id r's cookie carries,
// without asking the store whether it is valid.
func (c *CookieSessions) cookieHash(r *http.Request) (sum [sha256.Size]byte, ok bool) {
	ck, err := r.Cookie(c.name)
	if err != nil || len(ck.Value) != sessionIDLen {
		return sum, false
	}
	return sha256.Sum256([]byte(ck.Value)), true
}
