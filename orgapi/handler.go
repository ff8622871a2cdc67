package orgapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/internal/textcheck"
)

// Config configures [New]. Orgs, Keys and Sessions are required.
type Config struct {
	// Orgs stores the organizations. It MUST be the store (or a store over
	// the same database) the SSO handler reads as its [embedsso.OrgStore],
	// or changes made here do not reach logins. Required.
	Orgs OrgAdmin
	// Keys holds the API keys requests are authenticated with. Required.
	Keys APIKeyStore
	// Sessions ends sessions: all of an organization's when its embedding
	// is turned off, all of one user's on DELETE …/users/{email}/sessions.
	// It MUST be the session store the app's cookiesession.Issuer uses. Required.
	Sessions SessionRevoker
	// RotationGrace is how long the previous secret keeps verifying after a
	// rotation. Default: [DefaultRotationGrace] (24h).
	RotationGrace time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Logger receives a line per store failure (Error level), and per
	// other refused request (Info level) with its method and path, each
	// cut to 256 bytes. Keys and secrets are never logged. Default: discard.
	Logger *slog.Logger
}

// Handler serves the organization API. Mount it at "/api/public/" of the
// app's mux, without stripping the prefix. It is safe for concurrent use.
type Handler struct {
	orgs     OrgAdmin
	keys     APIKeyStore
	sessions SessionRevoker
	grace    time.Duration
	now      func() time.Time
	log      *slog.Logger
	mux      *http.ServeMux
	browsers *http.CrossOriginProtection
}

// New checks cfg and returns the handler it describes.
func New(cfg Config) (*Handler, error) {
	if cfg.Orgs == nil || cfg.Keys == nil || cfg.Sessions == nil {
		return nil, errors.New("orgapi: Config.Orgs, Config.Keys and Config.Sessions are required")
	}
	if cfg.RotationGrace < 0 {
		return nil, errors.New("orgapi: Config.RotationGrace must not be negative")
	}
	h := &Handler{
		orgs: cfg.Orgs, keys: cfg.Keys, sessions: cfg.Sessions, grace: cfg.RotationGrace,
		now: cfg.Now, log: cfg.Logger, browsers: http.NewCrossOriginProtection(),
	}
	if h.grace == 0 {
		h.grace = DefaultRotationGrace
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	const orgs = "/api/public/organizations"
	h.mux = http.NewServeMux()
	h.route("POST "+orgs, h.create)
	h.route("GET "+orgs+"/{id}", h.get)
	h.route("PATCH "+orgs+"/{id}", h.update)
	h.route("POST "+orgs+"/{id}/jwt-secret/rotate", h.rotate)
	h.route("DELETE "+orgs+"/{id}/users/{email}/sessions", h.signOutUser)
	// The same paths with any other method, and any other path, answer
	// in JSON too (ServeMux's own 404 and 405 are plain text).
	for path, allow := range map[string]string{
		orgs:                                  "POST",
		orgs + "/{id}":                        "GET, HEAD, PATCH",
		orgs + "/{id}/jwt-secret/rotate":      "POST",
		orgs + "/{id}/users/{email}/sessions": "DELETE",
	} {
		h.mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, newError(http.StatusMethodNotAllowed, codeMethodNotAllowed, "This endpoint accepts %s.", allow))
		})
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { writeError(w, errNoRoute) })
	return h, nil
}

// ServeHTTP refuses browser requests from another site or origin, whatever
// their method, authenticates the key and dispatches to the endpoint.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Answers may carry a secret: never cache them, never sniff them.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := h.browsers.Check(unsafe(r)); err != nil {
		writeError(w, errCrossOrigin)
		return
	}
	key, e := h.authenticate(r)
	if e != nil {
		h.fail(w, r, e)
		return
	}
	h.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyContext{}, key)))
}

type keyContext struct{}

// unsafe returns r as CrossOriginProtection checks an unsafe method: it lets
// GET, HEAD and OPTIONS through, and this API refuses every cross-site
// browser request, reads included (they answer with secrets).
func unsafe(r *http.Request) *http.Request {
	if r.Method == http.MethodPost {
		return r
	}
	c := *r
	c.Method = http.MethodPost
	return &c
}

// endpoint is one operation: it returns the status and data of a success,
// or the error to answer with.
type endpoint func(r *http.Request, key APIKey, w http.ResponseWriter) (int, any, *apiError)

func (h *Handler) route(pattern string, f endpoint) {
	withID := strings.Contains(pattern, "{id}")
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		// The path's id passes the rule of a token's orgId before any
		// store sees it: no store is asked about a NUL, invalid UTF-8 or a
		// control character (PostgreSQL refuses the first two with an error).
		if withID && textcheck.OrgID(r.PathValue("id")) != nil {
			h.fail(w, r, errBadPathID)
			return
		}
		key, _ := r.Context().Value(keyContext{}).(APIKey)
		status, data, e := f(r, key, w)
		if e != nil {
			h.fail(w, r, e)
			return
		}
		writeJSON(w, status, map[string]any{"data": data})
	})
}

// fail logs e (with its cause, for a 500) and answers with it.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, e *apiError) {
	level := slog.LevelInfo
	if e.status >= 500 {
		level = slog.LevelError
	}
	h.log.LogAttrs(r.Context(), level, "orgapi: request refused",
		slog.String("method", bounded(r.Method)), slog.String("path", bounded(r.URL.Path)),
		slog.Int("status", e.status), slog.String("code", e.code), slog.String("cause", e.Error()))
	writeError(w, e)
}

// maxLogged bounds each request value a log line holds: a refused request
// is logged before (or without) authentication, and its path may be as long
// as the server's header limit (1 MB by default).
const maxLogged = 256

// bounded is s cut to maxLogged bytes, at a rune boundary, with how long it
// was; shorter values are as they are.
func bounded(s string) string {
	if len(s) <= maxLogged {
		return s
	}
	cut := maxLogged
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:cut], len(s))
}

// findOrg returns the organization id if key may manage it; otherwise, as
// for an unknown id, errOrgNotFound.
func (h *Handler) findOrg(ctx context.Context, key APIKey, id string) (OrgRecord, *apiError) {
	if !mayManage(key, id) {
		return OrgRecord{}, errOrgNotFound
	}
	rec, err := h.orgs.FindOrgRecord(ctx, id)
	switch {
	case errors.Is(err, embedsso.ErrOrgNotFound):
		return OrgRecord{}, errOrgNotFound
	case err != nil:
		return OrgRecord{}, internal(fmt.Errorf("find org: %w", err))
	}
	return rec, nil
}

// updateOrg runs change through the store; an *apiError from change is
// answered as it is, nothing having been stored.
func (h *Handler) updateOrg(ctx context.Context, key APIKey, id string, change func(*OrgRecord) *apiError) (OrgRecord, *apiError) {
	if !mayManage(key, id) {
		return OrgRecord{}, errOrgNotFound
	}
	rec, err := h.orgs.UpdateOrg(ctx, id, func(r *OrgRecord) error {
		if e := change(r); e != nil {
			return e
		}
		return nil
	})
	var e *apiError
	switch {
	case err == nil:
		return rec, nil
	case errors.As(err, &e):
		return OrgRecord{}, e
	case errors.Is(err, embedsso.ErrOrgNotFound):
		return OrgRecord{}, errOrgNotFound
	default:
		return OrgRecord{}, internal(fmt.Errorf("update org: %w", err))
	}
}

// includeSecret reads ?include=jwtSecret, the only include there is.
func includeSecret(r *http.Request) (bool, *apiError) {
	v, ok := r.URL.Query()["include"]
	switch {
	case !ok:
		return false, nil
	case len(v) == 1 && v[0] == "jwtSecret":
		return true, nil
	default:
		return false, newError(http.StatusBadRequest, codeInvalidParameter, "include accepts only jwtSecret.")
	}
}

// newID returns prefix and 12 random bytes in hex.
func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return prefix + hex.EncodeToString(b[:])
}

// newKeyID names a new secret: the date, for people reading a list of keys,
// and a random part, so two rotations in a day differ.
func (h *Handler) newKeyID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return h.now().UTC().Format("20060102") + "-" + hex.EncodeToString(b[:])
}
