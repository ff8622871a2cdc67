package embedsso

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
	"strings"
	"time"
)

// SessionIssuer keeps the sessions of signed-in users: it issues one at
// each sign-in and finds it again on later requests. The default is
// [CookieSessions]; any other implementation gets every feature of the
// handler (the cookie check, the resume, the LoginURL round trip and
// [Handler.RequireUser]), since each of them goes through these methods and
// nothing else.
//
// A session is named by its IDHash: the lowercase hex SHA-256 of the secret
// the browser holds (its cookie). The cookie check's and the resume's links
// carry it, sealed: a link that reaches a log never holds a credential.
type SessionIssuer interface {
	// IssueSession creates a session for u under the organization epoch
	// orgEpoch (see [Org.Epoch]), keeps it with both, attaches it to the
	// response (typically a cookie) and returns it, its IDHash set (64
	// lowercase hex characters: the cookie check seals it into its link,
	// and answers any other value with a 500) and its OrgEpoch orgEpoch.
	// It MUST NOT write the response status or body: the handler does. An
	// error is answered with a 500.
	IssueSession(ctx context.Context, w http.ResponseWriter, r *http.Request, u User, orgEpoch int64) (Session, error)
	// Session returns the valid session r carries, with its User as the
	// [UserStore] holds that user now and the OrgEpoch it was issued with. When r carries none (no cookie, a
	// forged one, or one of a revoked or ended session) it MUST return an
	// error matching [ErrSessionNotFound]; any other error means failure
	// and is answered with a 500. It may renew the session, on the
	// response too; the guard judges the session's organization after this
	// read, so such a renewal comes before that check. [Handler.RequireUser]
	// calls it once per request.
	//
	// An issuer that can read the user's organization in the same read (a
	// SQL join) sets the session's Org; the guard then makes no [OrgStore]
	// read of its own (see [Session]).
	Session(w http.ResponseWriter, r *http.Request) (Session, error)
	// Carries reports whether r carries the session named idHash. It MUST
	// NOT read a store: the cookie check asks it right after a sign-in,
	// to learn whether the browser kept the cookie.
	Carries(r *http.Request, idHash string) bool
	// FindSession returns the valid session named idHash, as Session would
	// for a request carrying it, without renewing it: the resume asks it,
	// so that a user signed out since the sign-in is not signed in again.
	// For a session that does not exist, was revoked or has ended it MUST
	// return an error matching [ErrSessionNotFound]; other errors mean
	// failure.
	FindSession(ctx context.Context, idHash string) (Session, error)
}

// OneStepIssuer is a [SessionIssuer] whose new sessions a [SignInStore] can
// keep, so that a sign-in makes all its writes in one step (see
// [Config.SignIns]). [CookieSessions] is one.
type OneStepIssuer interface {
	SessionIssuer
	// StartSession returns a new session for a sign-in, not kept yet and
	// with no User (the handler sets User and OrgEpoch), and attach, which hands it to the browser once the
	// [SignInStore] has kept it. It MUST NOT write anything: the sign-in can
	// still fail.
	StartSession(r *http.Request) (s Session, attach func(http.ResponseWriter))
}

var (
	_ SessionIssuer = (*CookieSessions)(nil)
	_ OneStepIssuer = (*CookieSessions)(nil)
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
	// Logger receives a line when renewing a session's idle expiry fails
	// (the request goes on: the session is valid). Give it the handler's
	// [Config.Logger]. Default: nil, which discards.
	Logger *slog.Logger
}

// CookieSessions is the default [SessionIssuer]: a random 256-bit opaque
// session id in a Secure, HttpOnly cookie, with only its SHA-256 kept in a
// [SessionStore]. [Handler.RequireUser] finds the session again on later
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
	// The Set-Cookie line of the session cookie, its attributes rendered
	// once.
	sessionLine cookieLine
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
	return c, nil
}

// CookieName returns the name of the session cookie.
func (c *CookieSessions) CookieName() string { return c.name }

// sessionIDBytes is 256 bits: guessing one is as hard as forging HMAC-SHA256.
const sessionIDBytes = 32

// sessionIDLen is the length of a session id in unpadded base64url.
var sessionIDLen = base64.RawURLEncoding.EncodedLen(sessionIDBytes)

// IssueSession implements [SessionIssuer].
func (c *CookieSessions) IssueSession(ctx context.Context, w http.ResponseWriter, r *http.Request, u User, orgEpoch int64) (Session, error) {
	s, attach := c.StartSession(r)
	s.User, s.OrgEpoch = u, orgEpoch
	if err := c.store.CreateSession(ctx, s); err != nil {
		return Session{}, fmt.Errorf("store session: %w", err)
	}
	attach(w)
	return s, nil
}

// StartSession implements [OneStepIssuer]: it makes a new session id, keeps
// it only in attach, and returns the session to store under its hash.
func (c *CookieSessions) StartSession(*http.Request) (Session, func(http.ResponseWriter)) {
	var raw [sessionIDBytes]byte
	_, _ = rand.Read(raw[:]) // never fails since Go 1.24
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	now := c.now()
	s := Session{IDHash: hashSessionID(id), CreatedAt: now, ExpiresAt: now.Add(c.ttl)}
	s.IdleExpiresAt = c.idleExpiry(&s, now)
	return s, func(w http.ResponseWriter) { c.sessionLine.set(w, id, s.ExpiresAt) }
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

// Session implements [SessionIssuer]: it finds the session r's cookie
// names and renews its idle expiry, with at most one store write a minute.
// A value that cannot be one of its session ids never reaches the store.
func (c *CookieSessions) Session(_ http.ResponseWriter, r *http.Request) (Session, error) {
	ck, err := r.Cookie(c.name)
	if err != nil {
		return Session{}, ErrSessionNotFound
	}
	if len(ck.Value) != sessionIDLen {
		return Session{}, ErrSessionNotFound
	}
	if _, err := base64.RawURLEncoding.DecodeString(ck.Value); err != nil {
		return Session{}, ErrSessionNotFound
	}
	now := c.now()
	s, err := c.find(r.Context(), hashSessionID(ck.Value), now)
	if err != nil {
		return Session{}, err
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

// FindSession implements [SessionIssuer]: the session idHash names, from
// the store, not renewed.
func (c *CookieSessions) FindSession(ctx context.Context, idHash string) (Session, error) {
	return c.find(ctx, idHash, c.now())
}

func (c *CookieSessions) find(ctx context.Context, idHash string, now time.Time) (Session, error) {
	s, err := c.store.FindSession(ctx, idHash, now)
	if err != nil {
		return Session{}, err
	}
	if s.ended(now) { // the store's contract, held here too
		return Session{}, ErrSessionNotFound
	}
	return s, nil
}

// Carries implements [SessionIssuer]: it compares the hash of r's cookie
// with idHash, reading no store.
func (c *CookieSessions) Carries(r *http.Request, idHash string) bool {
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
func (c *CookieSessions) SignOut(w http.ResponseWriter, r *http.Request) error {
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
