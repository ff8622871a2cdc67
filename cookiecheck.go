package embedsso

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/embedsso/embedsso/internal/origin"
)

// The cookie check. Browsers that refuse cookies in cross-site frames
// (Safari, or any browser with the app's site blocked) turn full-app
// embedding into a frame that loops or sits blank, the most reported failure
// of this feature elsewhere. So a successful login does not redirect straight
// to the dashboard: it redirects to ?sso_check=TICKET on this same endpoint,
// and that step looks for the session cookie. If it came back, the user goes
// on to the dashboard; if not, a page says so plainly and offers the ways
// out: document.requestStorageAccess() behind a button, and "open in a new
// tab". Both redeem a fresh resume ticket once through ?sso_resume=TICKET,
// which signs the user in again in the new context. Nothing redirects
// automatically after a failed check, so there is no loop.
//
// Tickets are sealed with AES-256-GCM under a key derived from the
// organization's secret, so any app instance can open them and nobody else
// can read or forge them; they live two minutes and [ReplayStore] makes each
// single-use. A ticket is sealed for one purpose: the check link, which
// passes through a redirect and may reach access logs, can never be redeemed
// for a session, and it is spent on its first visit. Only the resume link,
// minted when the check failed and shown on that page alone, is a credential:
// short-lived, one use, bound to this endpoint.

const (
	checkParam  = "sso_check"
	resumeParam = "sso_resume"
	ticketTTL   = 2 * time.Minute
)

// ticket is the sealed content of a check or resume link. Purpose keeps the
// two apart: a check link, which passes through redirects and access logs,
// can never be redeemed for a session.
type ticket struct {
	Purpose string  `json:"u"` // checkParam or resumeParam
	Profile Profile `json:"p"`
	Dest    string  `json:"d"`
	Expires int64   `json:"e"`
	Nonce   string  `json:"n"`
}

// Errors of the check and resume steps.
var (
	// ErrTicketInvalid: a check or resume link is malformed, forged, expired
	// or already used.
	ErrTicketInvalid = sentinel(http.StatusBadRequest, "ticket_invalid",
		"This sign-in step has expired or was already used. Reload the page to sign in again.")
	// ErrCookieBlocked: the session cookie did not come back after the login
	// redirect. It is answered with the page that offers the ways out, not
	// with the error page.
	ErrCookieBlocked = sentinel(http.StatusUnauthorized, "cookie_blocked",
		"Your browser blocked this app's sign-in cookie.")
)

// ticketKey derives the sealing key from an organization secret. The label
// separates it from the secret's use as an HS256 key.
func ticketKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("embedsso cookie-check ticket v1"))
	return m.Sum(nil)
}

func (h *Handler) sealTicket(org *Org, t ticket) (string, error) {
	plain, err := json.Marshal(t)
	if err != nil {
		return "", err
	}
	aead, err := h.aeads.get(org.Secrets[0].Value)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	_, _ = rand.Read(nonce)
	sealed := aead.Seal(nonce, nonce, plain, []byte(org.ID))
	return base64.RawURLEncoding.EncodeToString([]byte(org.ID)) + "." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// aeadCache keeps one prepared AEAD per secret, so the key derivation and
// AES key schedule run once per secret rather than once per login. A GCM
// AEAD is safe for concurrent use.
type aeadCache struct {
	m sync.Map // secret string → cipher.AEAD
	n atomic.Int64
}

// maxCachedAEADs bounds the cache; past it the cache starts over, which
// costs only the derivations it saved.
const maxCachedAEADs = 4096

func (c *aeadCache) get(secret string) (cipher.AEAD, error) {
	if a, ok := c.m.Load(secret); ok {
		return a.(cipher.AEAD), nil
	}
	block, err := aes.NewCipher(ticketKey(secret))
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if c.n.Add(1) > maxCachedAEADs {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(secret, a)
	return a, nil
}

// openTicket finds the ticket's organization and opens it with any of its
// secrets, so tickets survive a rotation that happens within their life.
func (h *Handler) openTicket(ctx context.Context, raw string) (Org, ticket, error) {
	orgPart, sealedPart, ok := strings.Cut(raw, ".")
	orgID, err1 := base64.RawURLEncoding.DecodeString(orgPart)
	sealed, err2 := base64.RawURLEncoding.DecodeString(sealedPart)
	if !ok || err1 != nil || err2 != nil || len(raw) > 4096 {
		return Org{}, ticket{}, ErrTicketInvalid.becauseText("malformed ticket")
	}
	org, err := h.orgs.FindOrg(ctx, string(orgID))
	if err != nil {
		if errors.Is(err, ErrOrgNotFound) {
			return Org{}, ticket{}, ErrTicketInvalid.because(err)
		}
		return Org{}, ticket{}, ErrInternal.because(fmt.Errorf("find org: %w", err))
	}
	if !org.EmbeddingEnabled {
		return Org{}, ticket{}, ErrEmbeddingDisabled
	}
	if err := checkSecrets(&org); err != nil {
		return Org{}, ticket{}, err
	}
	for _, s := range org.Secrets {
		aead, err := h.aeads.get(s.Value)
		if err != nil || len(sealed) < aead.NonceSize() {
			continue
		}
		plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(org.ID))
		if err != nil {
			continue
		}
		var t ticket
		if err := json.Unmarshal(plain, &t); err != nil {
			return Org{}, ticket{}, ErrTicketInvalid.because(err)
		}
		if !h.now().Before(time.Unix(t.Expires, 0)) {
			return Org{}, ticket{}, ErrTicketInvalid.becauseText("ticket expired")
		}
		return org, t, nil
	}
	return Org{}, ticket{}, ErrTicketInvalid.becauseText("ticket does not open under any organization secret")
}

// checkURL is where a successful login sends the browser first.
func (h *Handler) checkURL(r *http.Request, org *Org, p Profile, dest string) (string, error) {
	return h.ticketURL(r, org, checkParam, p, dest)
}

// ticketURL seals a new single-use ticket for purpose (checkParam or
// resumeParam) and returns the link that carries it.
func (h *Handler) ticketURL(r *http.Request, org *Org, purpose string, p Profile, dest string) (string, error) {
	t := ticket{Purpose: purpose, Profile: p, Dest: dest, Expires: h.now().Add(ticketTTL).Unix(), Nonce: NewTokenID()}
	sealed, err := h.sealTicket(org, t)
	if err != nil {
		return "", ErrInternal.because(fmt.Errorf("seal ticket: %w", err))
	}
	return r.URL.Path + "?" + purpose + "=" + sealed, nil
}

// spendTicket opens raw, checks it was sealed for purpose and uses it up, so
// each link works once.
func (h *Handler) spendTicket(ctx context.Context, raw, purpose string) (Org, ticket, error) {
	org, t, err := h.openTicket(ctx, raw)
	if err != nil {
		return Org{}, ticket{}, err
	}
	if t.Purpose != purpose {
		return Org{}, ticket{}, ErrTicketInvalid.becauseText("ticket sealed for " + t.Purpose + ", presented to " + purpose)
	}
	switch err := h.replay.UseTokenID(ctx, org.ID, purpose+":"+t.Nonce, time.Unix(t.Expires, 0), h.now()); {
	case errors.Is(err, ErrTokenReplayed):
		return Org{}, ticket{}, ErrTicketInvalid.becauseText("ticket already used")
	case err != nil:
		return Org{}, ticket{}, ErrInternal.because(fmt.Errorf("replay store: %w", err))
	}
	return org, t, nil
}

// check answers ?sso_check: on to the destination if the session cookie came
// back, else the page that explains and offers the ways out, with a new
// resume ticket: the check link itself is spent.
func (h *Handler) check(w http.ResponseWriter, r *http.Request, finder SessionFinder, raw string) error {
	org, t, err := h.spendTicket(r.Context(), raw, checkParam)
	if err != nil {
		return err
	}
	h.setFrameAncestors(w, &org)
	s, err := finder.Session(r)
	switch {
	case err == nil && s.User.OrgID == t.Profile.OrgID && s.User.Email == t.Profile.Email:
		w.Header().Set("Location", t.Dest)
		w.WriteHeader(http.StatusFound)
		return nil
	case err != nil && !errors.Is(err, ErrSessionNotFound):
		return ErrInternal.because(fmt.Errorf("find session: %w", err))
	}
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "embedsso: session cookie did not come back; showing the cookie-blocked page",
		slog.String("code", ErrCookieBlocked.Code), slog.String("org", org.ID), slog.String("email", t.Profile.Email))
	resume, err := h.ticketURL(r, &org, resumeParam, t.Profile, t.Dest)
	if err != nil {
		return err
	}
	writeCookieBlockedPage(w, resume)
	return nil
}

// resume answers ?sso_resume: redeem the ticket once, sign the user in again
// in this browsing context, and check again.
func (h *Handler) resume(w http.ResponseWriter, r *http.Request, raw string) error {
	ctx := r.Context()
	org, t, err := h.spendTicket(ctx, raw, resumeParam)
	if err != nil {
		return err
	}
	h.setFrameAncestors(w, &org)
	user, err := h.users.UpsertUser(ctx, t.Profile)
	if err != nil {
		return ErrInternal.because(fmt.Errorf("upsert user: %w", err))
	}
	if err := h.sessions.IssueSession(ctx, w, r, user); err != nil {
		return ErrInternal.because(fmt.Errorf("issue session: %w", err))
	}
	next, err := h.checkURL(r, &org, t.Profile, t.Dest)
	if err != nil {
		return err
	}
	w.Header().Set("Location", next)
	w.WriteHeader(http.StatusFound)
	return nil
}

// setFrameAncestors lets only org's allowed sites frame the response. It
// fails closed: a disabled or misconfigured org is framed by no one.
func (h *Handler) setFrameAncestors(w http.ResponseWriter, org *Org) {
	if allowed, err := origin.ParseList(org.AllowedOrigins); err == nil && org.EmbeddingEnabled {
		w.Header().Set("Content-Security-Policy", allowed.FrameAncestors())
	} else {
		w.Header().Set("Content-Security-Policy", "frame-ancestors 'none'")
	}
}
