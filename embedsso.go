// Package embedsso implements single sign-on for full-app embedding: a
// customer puts your whole app in an iframe on their site, and their users
// arrive already signed in.
//
//  1. The customer's server signs a short-lived HS256 JWT with its
//     organization's secret (package [github.com/embedsso/embedsso/signer]).
//     Its claims (signer.Claims): the reference's email, orgId, firstName,
//     lastName, role, exp and iat (seconds since the epoch), and optionally
//     nbf, jti, groups and attributes (any other claim).
//  2. Their page sets an iframe's src to GET /api/sso/jwt?jwt=TOKEN on your app.
//  3. [Handler] parses the token strictly, finds orgId's organization in your
//     [OrgStore], refuses it if embedding is disabled or the embedding page's
//     origin is not allowed, verifies the signature with the algorithm pinned
//     to HS256, and only then judges the other claims: expiry, lifetime,
//     single use of jti, the user's details.
//  4. It creates or updates the user through your [UserStore], has your
//     [SessionIssuer] (package cookiesession's by default) establish a
//     session, and redirects to the organization's dashboard, first through a
//     check that the browser kept the cookie.
//  5. [Handler.RequireUser] guards the app's pages and API routes: it finds
//     the session again, judges its organization, and answers a session
//     that has ended without leaving a dead frame.
//
// Every refusal is an [*Error] with an HTTP status and a stable code ([Kind])
// answered with a small HTML page that never contains the token or internal
// details. A refused request writes nothing to any store. Every outcome goes
// through one place that sets the answer's headers and writes one log line
// and one [Event].
package embedsso

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/embedsso/embedsso/internal/cookieline"
	"github.com/embedsso/embedsso/internal/origin"
	"github.com/embedsso/embedsso/internal/ticket"
)

// Config configures [New]. Orgs, Users and Sessions are required; every other
// field has a safe default.
type Config struct {
	// Orgs finds organizations by the token's orgId. Required.
	Orgs OrgStore
	// Users creates or updates the signed-in user. Required.
	Users UserStore
	// Sessions keeps the sessions; package cookiesession has the default. Required.
	Sessions SessionIssuer
	// Replay records used token ids (jti) so each token logs in once; with
	// several instances it MUST be shared. Default: memory, for one instance.
	Replay ReplayStore
	// RequireTokenID refuses tokens without a jti claim; turn it on once
	// your customers send one (the reference's does not). Default: false.
	RequireTokenID bool
	// Leeway is the clock skew allowed on exp, nbf and iat (≤ 5m). Default: 30s.
	Leeway time.Duration
	// MaxTokenLifetime is the longest exp may lie after iat (or now, without
	// iat), as the reference's expiresIn '10m'. Default: 10m.
	MaxTokenLifetime time.Duration
	// MaxTokenBytes caps the jwt parameter's length. Default: 8192.
	MaxTokenBytes int
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Logger receives one line per outcome (an [EventKind]) with its code
	// and cause, never the token or a ticket: at Error for a 5xx refusal,
	// at Info otherwise. Default: nil, which discards.
	Logger *slog.Logger
	// Observer, when set, gets each outcome, for audit logs and metrics, on
	// the request's goroutine: keep it quick. Default: nil.
	Observer func(context.Context, Event)
	// DisableCookieCheck redirects a login straight to the dashboard, not
	// through the check that the session cookie came back. Default: false.
	DisableCookieCheck bool
	// HintCookie names the handler's own cookie, which keeps the last sign-in's
	// organization for after its session ends. Default: "embedsso_session_org".
	HintCookie string
	// NotPartitioned drops the Partitioned attribute from the handler's own
	// cookie: set it exactly when the session cookie is not Partitioned
	// either. With it, a login back from the LoginURL with no Origin or
	// Referer is refused (ErrOriginMissing): an unpartitioned hint cannot
	// vouch for where the round trip began. Default: false.
	NotPartitioned bool
	// ErrorPage renders a refusal and must write e.Status, after the handler
	// set Referrer-Policy, Cache-Control and the CSP (frame-ancestors 'none'
	// until the organization is known, its allowed origins after). Default:
	// a small HTML page with the status, a title, e.Reason and e.Code, all
	// escaped; never e.Err, which may hold internal details.
	ErrorPage func(w http.ResponseWriter, r *http.Request, e *Error)
}

// Event describes one outcome of the endpoint or the guard, for
// [Config.Observer].
type Event struct {
	// Kind says which outcome this is.
	Kind EventKind
	// Success is true when a session was issued: [EventSignedIn], [EventResumed].
	Success bool
	// OrgID is the organization (as claimed, for a login refused unverified).
	OrgID string
	// Email is the normalized email, once the signature verified (or a ticket opened).
	Email string
	// UserID is set when a session was issued, or found by a resume.
	UserID string
	// Origin is the embedding page's origin, when known.
	Origin string
	// Err is the refusal, nil unless Kind is [EventRefused].
	Err *Error
}

// EventKind is the kind of an [Event].
type EventKind int

// The outcomes of the endpoint and of [Handler.RequireUser] (the guard).
const (
	// EventRefused: the request was refused; Event.Err says why.
	EventRefused EventKind = iota
	// EventSignedIn: a token signed the user in.
	EventSignedIn
	// EventCookieConfirmed: after a sign-in the session cookie came back, or
	// a resume found the ticket's user already signed in (by another way out
	// of the cookie-blocked page) and issued none; the user goes on.
	EventCookieConfirmed
	// EventCookieBlocked: the session cookie did not come back: ways out page.
	EventCookieBlocked
	// EventResumeOffered: a resume link shows "Continue as", which signs in.
	EventResumeOffered
	// EventResumed: the "Continue as" button signed the user in again.
	EventResumed
	// EventLoginRedirect: the guard found no session; off to the LoginURL.
	EventLoginRedirect
	// EventSessionEnded: the guard found no session: ended page or 401 JSON.
	EventSessionEnded
)

var eventKindNames = [...]string{"refused", "signed_in", "cookie_confirmed", "cookie_blocked", "resume_offered", "resumed",
	"login_redirect", "session_ended"}

// String returns the kind's name as logged: "signed_in", "refused", ….
func (k EventKind) String() string {
	if k < 0 || int(k) >= len(eventKindNames) {
		return "unknown"
	}
	return eventKindNames[k]
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
	checkCookie    bool            // run the cookie check (cookiecheck.go)
	oneStep        OneStepIssuer   // Sessions, when its OneStep chose one write per sign-in
	hintLine       cookieline.Line // the handler's own cookie (hint.go)
	notPartitioned bool
	sameOrigin     *http.CrossOriginProtection
	tickets        ticket.Sealer // cookie-check ticket keys, per secret
	policies       policyCache   // allow-lists and CSPs, per organization
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
		sameOrigin: http.NewCrossOriginProtection(),
	}
	if o, ok := cfg.Sessions.(OneStepIssuer); ok && o.OneStep() {
		if cfg.Replay == nil {
			return nil, errors.New("embedsso: a one-step Config.Sessions (its SignIns set) needs Config.Replay set to the same store, which spends the cookie check's tickets")
		}
		h.oneStep = o
	}
	if h.replay == nil {
		h.replay = &memoryReplay{}
	}
	h.checkCookie = !cfg.DisableCookieCheck
	hintName := cfg.HintCookie
	if hintName == "" {
		hintName = defaultHintCookie
	}
	if !cookieline.ValidName(hintName) {
		return nil, fmt.Errorf("embedsso: invalid Config.HintCookie %q", hintName)
	}
	h.notPartitioned = cfg.NotPartitioned
	h.hintLine = cookieline.New(hintCookie(hintName, !cfg.NotPartitioned), false)
	if h.maxTokenBytes == 0 {
		h.maxTokenBytes = 8 << 10
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.errorPage == nil {
		h.errorPage = writeErrorPage
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

// outcome is what one step of the endpoint decided. The steps (login, check,
// offerResume, resume) only decide and make their writes; [Handler.finish]
// is the one place that turns an outcome into headers, a redirect or a page,
// a log line and an Observer event.
type outcome struct {
	ev Event
	// policy is the organization's, once it is known and allowed to embed;
	// nil means frame-ancestors 'none'.
	policy *orgPolicy
	// location is a redirect, relative to this endpoint's own URL (see
	// here), answered with status (302, or 303 after a POST).
	location string
	status   int
	// page renders a page of the flow that is not an error (cookie
	// blocked, continue as).
	page func(http.ResponseWriter)
}

// refused is the outcome of a refusal.
func refused(ev Event, policy *orgPolicy, err error) outcome {
	ev.Kind, ev.Success, ev.Err = EventRefused, false, asError(err)
	return outcome{ev: ev, policy: policy}
}

// here turns a query into a redirect target on this endpoint. A query-only
// reference resolves against the URL the browser asked for, so it works
// wherever the handler is mounted (behind http.StripPrefix, at a server's
// root, under any path) and can never name another host: a request for
// //evil.example/x stays on //ourhost//evil.example/x.
func here(query string) string { return "?" + query }

// ServeHTTP runs the step the request asks for and answers with its outcome.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.finish(w, r, h.step(w, r))
}

// step picks the step of the flow the request asks for and runs it.
func (h *Handler) step(w http.ResponseWriter, r *http.Request) outcome {
	q, qerr := url.ParseQuery(r.URL.RawQuery)
	switch {
	case r.Method == http.MethodPost && h.checkCookie && qerr == nil && !q.Has("jwt"):
		return h.resume(w, r)
	case r.Method != http.MethodGet:
		// Not even HEAD: a link scanner's HEAD would spend a single-use token
		// before the browser's GET arrives.
		return refused(Event{}, nil, ErrMethodNotAllowed.err())
	case qerr != nil:
		return refused(Event{}, nil, ErrTokenMissing.because(fmt.Errorf("query: %w", qerr)))
	case h.checkCookie && q.Has(checkParam) && !q.Has("jwt"):
		return h.check(r, q.Get(checkParam))
	case h.checkCookie && q.Has(resumeParam) && !q.Has("jwt"):
		return h.offerResume(r, q.Get(resumeParam))
	default:
		return h.login(w, r, q)
	}
}

// finish writes the outcome: the headers every answer carries, one log
// line, one Observer event, then the redirect, the page or the error page.
func (h *Handler) finish(w http.ResponseWriter, r *http.Request, out outcome) {
	csp := frameNone
	if out.policy != nil {
		csp = out.policy.csp
	}
	// These hold for every answer: the URL carries a bearer token, so it
	// must not be cached or sent on as a Referer; the CSP says who may
	// frame the answer. They are set here, after the step, so nothing the
	// step did (a custom SessionIssuer, say) can leave them otherwise.
	fixed := newFixedHeaders(w.Header())
	fixed.set("Referrer-Policy", "no-referrer")
	fixed.set("Cache-Control", "no-store")
	fixed.set("X-Content-Type-Options", "nosniff")
	fixed.set("Content-Security-Policy", csp)
	h.logOutcome(r.Context(), out.ev)
	if h.observe != nil {
		h.observe(r.Context(), out.ev)
	}
	switch e := out.ev.Err; {
	case e != nil:
		if e.Status == http.StatusMethodNotAllowed {
			fixed.set("Allow", h.allowedMethods())
		}
		h.errorPage(w, r, e)
	case out.location != "":
		fixed.set("Location", out.location)
		w.WriteHeader(out.status)
	default:
		out.page(w)
	}
}

func (h *Handler) allowedMethods() string {
	if h.checkCookie {
		return "GET, POST"
	}
	return "GET"
}

// logOutcome writes the outcome's one log line.
func (h *Handler) logOutcome(ctx context.Context, ev Event) {
	level := slog.LevelInfo
	if ev.Err != nil && ev.Err.Status >= 500 {
		level = slog.LevelError
	}
	// The line costs a slice and a string: build it only for a logger that
	// writes it (the default discards).
	if !h.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs, slog.String("outcome", ev.Kind.String()), slog.String("org", ev.OrgID))
	if e := ev.Err; e != nil {
		attrs = append(attrs, slog.String("code", e.Code), slog.Int("status", e.Status))
	} else if ev.Kind == EventCookieBlocked {
		attrs = append(attrs, slog.String("code", string(ErrCookieBlocked)))
	}
	if ev.Email != "" {
		attrs = append(attrs, slog.String("email", ev.Email))
	}
	if ev.UserID != "" {
		attrs = append(attrs, slog.String("user", ev.UserID))
	}
	if ev.Origin != "" {
		attrs = append(attrs, slog.String("origin", ev.Origin))
	}
	if ev.Err != nil && ev.Err.Err != nil {
		attrs = append(attrs, slog.String("cause", ev.Err.Err.Error()))
	}
	h.log.LogAttrs(ctx, level, "embedsso: "+ev.Kind.String(), attrs...)
}

// login is the request path of a token. Each check either refuses or moves
// on; nothing is written to a store before the last check passed.
func (h *Handler) login(w http.ResponseWriter, r *http.Request, q url.Values) outcome {
	ctx := r.Context()
	var ev Event
	raw, returnTo, err := h.readQuery(q)
	if err != nil {
		return refused(ev, nil, err)
	}
	// A return_to that ends a LoginURL round trip carries its nonce.
	returnTo, trip := cutTrip(returnTo)

	// Parsing rejects malformed tokens and foreign algorithms before any
	// store is consulted; orgId is the only claim read unverified.
	tok, err := parse(raw)
	if err != nil {
		return refused(ev, nil, err)
	}
	ev.OrgID = tok.claims.OrgID
	org, policy, err := h.findOrg(ctx, tok.claims.OrgID)
	if err != nil {
		return refused(ev, nil, err)
	}
	// From here on, even error pages may only be framed by the org's sites.
	if ev.Origin, err = checkOrigin(r, policy.allowed); err != nil && !h.backFromLoginURL(r, &org, err, trip) {
		return refused(ev, policy, err)
	}

	// The signature, then the time claims, then the user's details.
	if err := h.verifier.verify(tok, &org); err != nil {
		return refused(ev, policy, err)
	}
	profile, err := tok.claims.profile(&org)
	if err != nil {
		return refused(ev, policy, err)
	}
	if profile.Attributes, profile.Groups, err = extraClaims(tok.payload, &org); err != nil {
		return refused(ev, policy, err)
	}
	ev.Email = profile.Email
	dest, err := destination(&org, returnTo)
	if err != nil {
		return refused(ev, policy, err)
	}
	if tok.claims.TokenID == "" && h.requireTokenID {
		return refused(ev, policy, ErrTokenIDRequired.err())
	}
	if h.checkCookie {
		// The check link is sealed after the writes, once the session is
		// named: make sure now that it can be.
		secret, ok := sealingSecret(&org, h.now())
		if !ok {
			return refused(ev, policy, ErrInternal.becauseText("ticket key: organization has no secret in force"))
		}
		if err := h.tickets.Ready(org.ID, secret); err != nil {
			return refused(ev, policy, ErrInternal.because(fmt.Errorf("ticket key: %w", err)))
		}
	}

	// Every check passed: only now may anything write. Reading the session
	// the request carries can renew it, so it comes after the checks too.
	check := h.checkCookie && !h.holdsSessionOf(w, r, profile)
	tokenUntil := unixTime(tok.claims.ExpiresAt).Add(5 * time.Minute)
	user, s, err := h.signIn(ctx, w, r, profile, org.Epoch, tok.claims.TokenID, tokenUntil)
	if err != nil {
		return refused(ev, policy, err)
	}
	next := dest
	if check {
		// Go through the cookie check (cookiecheck.go) rather than straight
		// to the destination, so a browser that drops the cookie gets an
		// explanation, not a loop.
		if next, err = h.ticketURL(&org, ticket.PurposeCheck, s.IDHash, profile.Email, dest); err != nil {
			return refused(ev, policy, err)
		}
	}
	ev.Kind, ev.Success, ev.UserID = EventSignedIn, true, user.ID
	return outcome{ev: ev, policy: policy, location: next, status: http.StatusFound}
}

// findOrg finds the organization id names and its policy, refusing one that
// is unknown, disabled or misconfigured.
func (h *Handler) findOrg(ctx context.Context, id string) (Org, *orgPolicy, error) {
	org, err := h.orgs.FindOrg(ctx, id)
	if err != nil {
		if errors.Is(err, ErrOrgNotFound) {
			return Org{}, nil, ErrOrgNotFound.because(err)
		}
		return Org{}, nil, ErrInternal.because(fmt.Errorf("find org: %w", err))
	}
	return h.judgeOrg(org)
}

// judgeOrg refuses an organization that is disabled or misconfigured, and
// returns its policy.
func (h *Handler) judgeOrg(org Org) (Org, *orgPolicy, error) {
	if !org.EmbeddingEnabled {
		return Org{}, nil, ErrEmbeddingDisabled.err()
	}
	policy, err := h.policies.get(&org)
	if err != nil {
		return Org{}, nil, ErrOrgMisconfigured.because(err)
	}
	return org, policy, nil
}

// holdsSessionOf reports whether r already carries a valid session of the
// same user: the browser evidently keeps our cookie in this context, so the
// cookie check would learn nothing.
func (h *Handler) holdsSessionOf(w http.ResponseWriter, r *http.Request, p Profile) bool {
	s, err := h.sessions.Session(w, r)
	return err == nil && s.User.OrgID == p.OrgID && s.User.Email == p.Email
}

// signIn is the tail every sign-in shares, the login's and the resume's:
// spend the token id (the jti, or the resume ticket's id), upsert the user,
// have the issuer keep the session and hand it to the browser, and name the
// organization in the handler's own cookie. It is the only code that writes
// them, in one step when the issuer is a [OneStepIssuer] that chose it.
//
// orgEpoch is the [Org.Epoch] the organization had when the caller read it,
// before its checks: a session issued by a sign-in that began before the
// organization ended its sessions ends with them.
func (h *Handler) signIn(ctx context.Context, w http.ResponseWriter, r *http.Request, p Profile, orgEpoch int64, tokenID string, tokenUntil time.Time) (User, Session, error) {
	var user User
	var s Session
	var err error
	if h.oneStep != nil {
		s, err = h.oneStep.SignIn(ctx, w, r, p, orgEpoch, tokenID, tokenUntil, h.now())
		if errors.Is(err, ErrTokenReplayed) {
			return User{}, Session{}, ErrTokenReplayed.because(err)
		} else if err != nil {
			return User{}, Session{}, ErrInternal.because(fmt.Errorf("sign in: %w", err))
		}
		user = s.User
	} else {
		// The token id goes first, so two requests racing with one token
		// cannot both sign in.
		if tokenID != "" {
			if err := h.useTokenID(ctx, p.OrgID, tokenID, tokenUntil); err != nil {
				return User{}, Session{}, err
			}
		}
		if user, err = h.users.UpsertUser(ctx, p); err != nil {
			return User{}, Session{}, ErrInternal.because(fmt.Errorf("upsert user: %w", err))
		}
		if s, err = h.sessions.IssueSession(ctx, w, r, user, orgEpoch); err != nil {
			return User{}, Session{}, ErrInternal.because(fmt.Errorf("issue session: %w", err))
		}
	}
	// A successful sign-in names the organization for when the session
	// ends, and resets the count of automatic re-sign-ins (hint.go).
	h.setHint(w, hint{orgID: p.OrgID, at: h.now()})
	return user, s, nil
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
		return "", ErrOriginMissing.err()
	}
	if !allowed.Allows(o) {
		return o, ErrOriginNotAllowed.because(fmt.Errorf("origin %.128q", o))
	}
	return o, nil
}

func (h *Handler) useTokenID(ctx context.Context, orgID, tokenID string, until time.Time) error {
	err := h.replay.UseTokenID(ctx, orgID, tokenID, until, h.now())
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrTokenReplayed):
		return ErrTokenReplayed.because(err)
	default:
		return ErrInternal.because(fmt.Errorf("replay store: %w", err))
	}
}
