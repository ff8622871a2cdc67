// Package embedsso implements single sign-on for full-app embedding: a
// customer puts your whole app in an iframe on their site, and their users
// arrive already signed in.
//
// The flow, end to end:
//
//  1. The customer's server signs a short-lived HS256 JWT with its
//     organization's secret (see [SignToken]); the claims name the user
//     (email, firstName, lastName, role) and the organization (orgId).
//  2. Their page sets an iframe's src to GET /api/sso/jwt?jwt=TOKEN on your app.
//  3. [Handler] parses the token strictly, reads orgId to find the
//     organization in your [OrgStore], refuses it if embedding is disabled or
//     the embedding page's origin is not on the organization's allow-list,
//     then verifies the signature with the algorithm pinned to HS256 and only
//     then judges the other claims: expiry, lifetime, single use of jti, and
//     the user's details.
//  4. It creates or updates the user through your [UserStore], has your
//     [SessionIssuer] (by default [CookieSessions]) establish a session, and
//     redirects to the organization's dashboard.
//
// Every refusal is an [*Error] with an HTTP status and a stable code (see the
// Err* sentinels) and is answered with a small HTML page that never contains
// the token or internal details. A refused request writes nothing to any store.
package embedsso

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/embedsso/embedsso/internal/origin"
)

// Config configures [New]. Orgs, Users and Sessions are required; every other
// field has a safe default.
type Config struct {
	// Orgs finds organizations by the token's orgId. Required.
	Orgs OrgStore
	// Users creates or updates the signed-in user. Required.
	Users UserStore
	// Sessions establishes the session after a successful login. Required;
	// use [NewCookieSessions] for the default.
	Sessions SessionIssuer
	// Replay records used token ids (jti) so each token logs in once. With
	// several app instances it MUST be shared between them.
	// Default: a new [MemoryReplayStore], right for a single instance.
	Replay ReplayStore
	// RequireTokenID refuses tokens without a jti claim. The reference's
	// Node example sends none, so this is off by default; turn it on when
	// your customers can add one. Default: false.
	RequireTokenID bool
	// Leeway is the clock skew tolerated on exp, nbf and iat. At most 5m.
	// Default: 30s.
	Leeway time.Duration
	// MaxTokenLifetime is the longest exp may lie after iat (or after now
	// when iat is absent). The reference signs with expiresIn '10m'.
	// Default: 10m.
	MaxTokenLifetime time.Duration
	// MaxTokenBytes caps the jwt parameter's length. Default: 8192.
	MaxTokenBytes int
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Logger receives one line per refused login (with its code and cause,
	// never the token) and per store failure. Default: nil, which discards.
	Logger *slog.Logger
	// Observer, when set, is called once per login attempt, for audit logs
	// and metrics. It runs on the request's goroutine and should be quick.
	// Default: nil.
	Observer func(context.Context, Event)
	// DisableCookieCheck redirects straight to the dashboard after a login
	// instead of first checking that the session cookie came back. The check
	// runs only when Sessions implements [SessionFinder] ([CookieSessions]
	// does); turn it off only if your session issuer does not use cookies.
	// Default: false (the check runs).
	DisableCookieCheck bool
	// ErrorPage renders a refused login. It must write the status e.Status.
	// The handler has already set Referrer-Policy, Cache-Control and, when
	// the organization is known, Content-Security-Policy.
	// Default: a small HTML page, see [WriteErrorPage].
	ErrorPage func(w http.ResponseWriter, r *http.Request, e *Error)
}

// Event describes one login attempt, for [Config.Observer].
type Event struct {
	// Success is true when the user was signed in.
	Success bool
	// OrgID is the organization the token names. When the login was refused
	// before the signature verified, it is what the token claimed.
	OrgID string
	// Email is the normalized email, set only once the signature verified.
	Email string
	// UserID is set on success.
	UserID string
	// Origin is the embedding page's origin, when known.
	Origin string
	// Err is the refusal, nil on success. Its Code and Status say why.
	Err *Error
}

// Handler serves GET /api/sso/jwt. It is immutable after [New] and safe for
// concurrent use.
type Handler struct {
	orgs           OrgStore
	users          UserStore
	sessions       SessionIssuer
	replay         ReplayStore
	requireTokenID bool
	maxTokenBytes  int
	now            func() time.Time
	log            *slog.Logger
	observe        func(context.Context, Event)
	errorPage      func(http.ResponseWriter, *http.Request, *Error)
	verifier       *verifier
	finder         SessionFinder // nil when the cookie check is off
	aeads          aeadCache     // cookie-check ticket keys, per secret
}

// New checks cfg and returns the handler it describes.
func New(cfg Config) (*Handler, error) {
	if cfg.Orgs == nil || cfg.Users == nil || cfg.Sessions == nil {
		return nil, errors.New("embedsso: Config.Orgs, Config.Users and Config.Sessions are required")
	}
	h := &Handler{
		orgs: cfg.Orgs, users: cfg.Users, sessions: cfg.Sessions, replay: cfg.Replay,
		requireTokenID: cfg.RequireTokenID, maxTokenBytes: cfg.MaxTokenBytes,
		now: nowFunc(cfg.Now), log: cfg.Logger, observe: cfg.Observer, errorPage: cfg.ErrorPage,
	}
	if h.replay == nil {
		h.replay = &MemoryReplayStore{}
	}
	if f, ok := cfg.Sessions.(SessionFinder); ok && !cfg.DisableCookieCheck {
		h.finder = f
	}
	if h.maxTokenBytes == 0 {
		h.maxTokenBytes = 8 << 10
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.errorPage == nil {
		h.errorPage = WriteErrorPage
	}
	leeway, lifetime := cfg.Leeway, cfg.MaxTokenLifetime
	if leeway == 0 {
		leeway = 30 * time.Second
	}
	if lifetime == 0 {
		lifetime = 10 * time.Minute
	}
	switch {
	case leeway < 0 || leeway > 5*time.Minute:
		return nil, fmt.Errorf("embedsso: Config.Leeway %s is outside 0..5m", leeway)
	case lifetime < 0 || lifetime > 24*time.Hour:
		return nil, fmt.Errorf("embedsso: Config.MaxTokenLifetime %s is outside 0..24h", lifetime)
	case h.maxTokenBytes < 0:
		return nil, errors.New("embedsso: Config.MaxTokenBytes must not be negative")
	}
	h.verifier = newVerifier(func() timeRules {
		return timeRules{now: h.now(), leeway: leeway, maxLifetime: lifetime}
	})
	return h, nil
}

// ServeHTTP signs the user in and redirects, or answers with an error page.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// These hold for every answer: the URL carries a bearer token, so it
	// must not be cached or sent on as a Referer.
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")

	ev := Event{}
	var err error
	q, qerr := url.ParseQuery(r.URL.RawQuery)
	switch {
	case r.Method != http.MethodGet:
		// Not even HEAD: a link scanner's HEAD would spend a single-use token
		// before the browser's GET arrives.
		err = ErrMethodNotAllowed
	case qerr != nil:
		err = ErrTokenMissing.because(fmt.Errorf("query: %w", qerr))
	case h.finder != nil && q.Has(checkParam) && !q.Has("jwt"):
		err = h.check(w, r, h.finder, q.Get(checkParam))
	case h.finder != nil && q.Has(resumeParam) && !q.Has("jwt"):
		err = h.resume(w, r, q.Get(resumeParam))
	default:
		var next string
		if next, err = h.login(w, r, q, &ev); err == nil {
			ev.Success = true
			if h.observe != nil {
				h.observe(r.Context(), ev)
			}
			w.Header().Set("Location", next)
			w.WriteHeader(http.StatusFound)
		}
	}
	if err != nil {
		ev.Err = asError(err)
		h.refuse(w, r, ev)
	}
}

// login is the request path. Each step either refuses with an *Error or
// moves on; nothing is written to a store before the last check passed.
func (h *Handler) login(w http.ResponseWriter, r *http.Request, q url.Values, ev *Event) (next string, err error) {
	ctx := r.Context()
	raw, returnTo, err := h.readQuery(q)
	if err != nil {
		return "", err
	}

	// Parsing rejects malformed tokens and foreign algorithms before any
	// store is consulted; orgId is the only claim read unverified.
	tok, err := parse(raw)
	if err != nil {
		return "", err
	}
	ev.OrgID = tok.claims.OrgID
	org, err := h.orgs.FindOrg(ctx, tok.claims.OrgID)
	if err != nil {
		if errors.Is(err, ErrOrgNotFound) {
			return "", ErrOrgNotFound.because(err)
		}
		return "", ErrInternal.because(fmt.Errorf("find org: %w", err))
	}
	if !org.EmbeddingEnabled {
		return "", ErrEmbeddingDisabled
	}
	allowed, err := origin.ParseList(org.AllowedOrigins)
	if err != nil {
		return "", ErrOrgMisconfigured.because(err)
	}
	// From here on, even error pages may only be framed by the org's sites.
	w.Header().Set("Content-Security-Policy", allowed.FrameAncestors())
	if ev.Origin, err = checkOrigin(r, allowed); err != nil {
		return "", err
	}

	// The signature, then the time claims, then the user's details.
	if err := h.verifier.verify(tok, &org); err != nil {
		return "", err
	}
	profile, err := tok.claims.profile(&org)
	if err != nil {
		return "", err
	}
	ev.Email = profile.Email
	if next, err = destination(&org, returnTo); err != nil {
		return "", err
	}
	if h.finder != nil {
		// Go through the cookie check (cookiecheck.go) rather than straight
		// to the destination, so a browser that drops the cookie gets an
		// explanation, not a loop. Sealing writes nothing, so it comes first.
		if next, err = h.checkURL(r, &org, profile, next); err != nil {
			return "", err
		}
	}

	// Every check passed: only now do we write. The jti goes first, so two
	// requests racing with one token cannot both sign in.
	if err := h.useTokenID(ctx, &tok.claims); err != nil {
		return "", err
	}
	user, err := h.users.UpsertUser(ctx, profile)
	if err != nil {
		return "", ErrInternal.because(fmt.Errorf("upsert user: %w", err))
	}
	ev.UserID = user.ID
	if err := h.sessions.IssueSession(ctx, w, r, user); err != nil {
		return "", ErrInternal.because(fmt.Errorf("issue session: %w", err))
	}
	return next, nil
}

// readQuery extracts the single jwt parameter and the optional return_to.
func (h *Handler) readQuery(q url.Values) (token, returnTo string, err error) {
	switch v := q["jwt"]; {
	case len(v) == 0 || v[0] == "":
		return "", "", ErrTokenMissing.becauseText("no jwt parameter")
	case len(v) > 1:
		return "", "", ErrTokenMissing.becauseText("jwt parameter repeated")
	case len(v[0]) > h.maxTokenBytes:
		return "", "", ErrTokenTooLarge.because(fmt.Errorf("%d bytes, limit %d", len(v[0]), h.maxTokenBytes))
	default:
		token = v[0]
	}
	if rt := q["return_to"]; len(rt) > 1 {
		return "", "", ErrReturnToInvalid.becauseText("return_to repeated")
	} else if len(rt) == 1 {
		returnTo = rt[0]
	}
	return token, returnTo, nil
}

// checkOrigin enforces the allow-list. With a list, a request that names no
// origin at all (no Origin, no Referer) is refused: we cannot tell a
// customer's page from an attacker's, and the safe answer is no.
func checkOrigin(r *http.Request, allowed origin.List) (string, error) {
	o, ok := origin.OfRequest(r)
	if len(allowed) == 0 {
		return o, nil
	}
	if !ok {
		return "", ErrOriginMissing
	}
	if !allowed.Allows(o) {
		return o, ErrOriginNotAllowed.because(fmt.Errorf("origin %.128q", o))
	}
	return o, nil
}

func (h *Handler) useTokenID(ctx context.Context, c *Claims) error {
	if c.TokenID == "" {
		if h.requireTokenID {
			return ErrTokenIDRequired
		}
		return nil
	}
	// Remember the id until the token could no longer pass the exp check.
	until := unixTime(c.ExpiresAt).Add(5 * time.Minute)
	err := h.replay.UseTokenID(ctx, c.OrgID, c.TokenID, until, h.now())
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrTokenReplayed):
		return ErrTokenReplayed.because(err)
	default:
		return ErrInternal.because(fmt.Errorf("replay store: %w", err))
	}
}

// refuse logs, notifies the observer and renders the error page.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, ev Event) {
	e := ev.Err
	level := slog.LevelInfo
	if e.Status >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{slog.String("code", e.Code), slog.Int("status", e.Status), slog.String("org", ev.OrgID)}
	if ev.Email != "" {
		attrs = append(attrs, slog.String("email", ev.Email))
	}
	if ev.Origin != "" {
		attrs = append(attrs, slog.String("origin", ev.Origin))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("cause", e.Err.Error()))
	}
	h.log.LogAttrs(r.Context(), level, "embedsso: login refused", attrs...)
	if h.observe != nil {
		h.observe(r.Context(), ev)
	}
	if e.Status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", "GET")
	}
	h.errorPage(w, r, e)
}

// FrameAncestors wraps the app's own pages so that, for a signed-in user,
// only the user's organization's allowed origins may frame them. Mount it
// inside [CookieSessions.Middleware], which puts the user in the context.
// Pages for visitors without a session are left as they are.
func (h *Handler) FrameAncestors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := UserFromContext(r.Context()); ok {
			org, err := h.orgs.FindOrg(r.Context(), u.OrgID)
			if err != nil {
				http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
				return
			}
			h.setFrameAncestors(w, &org)
		}
		next.ServeHTTP(w, r)
	})
}
