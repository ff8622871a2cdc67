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
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
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
// tab". Both redeem the ticket once through ?sso_resume=TICKET, which signs
// the user in again in the new context. Nothing redirects automatically after
// a failed check, so there is no loop.
//
// The ticket is sealed with AES-256-GCM under a key derived from the
// organization's secret, so any app instance can open it and nobody else can
// read or forge it; it lives two minutes and [ReplayStore] makes it
// single-use. It is a credential, but a much weaker one than the token it
// replaces in the URL: short-lived, one use, bound to this endpoint.

const (
	checkParam  = "sso_check"
	resumeParam = "sso_resume"
	ticketTTL   = 2 * time.Minute
)

// ticket is the sealed content of a check or resume link.
type ticket struct {
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
	t := ticket{Profile: p, Dest: dest, Expires: h.now().Add(ticketTTL).Unix(), Nonce: NewTokenID()}
	sealed, err := h.sealTicket(org, t)
	if err != nil {
		return "", ErrInternal.because(fmt.Errorf("seal ticket: %w", err))
	}
	return r.URL.Path + "?" + checkParam + "=" + sealed, nil
}

// check answers ?sso_check: on to the destination if the session cookie came
// back, else the page that explains and offers the ways out.
func (h *Handler) check(w http.ResponseWriter, r *http.Request, finder SessionFinder, raw string) error {
	org, t, err := h.openTicket(r.Context(), raw)
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
		slog.String("org", org.ID), slog.String("email", t.Profile.Email))
	writeCookieBlockedPage(w, r.URL.Path+"?"+resumeParam+"="+url.QueryEscape(raw))
	return nil
}

// resume answers ?sso_resume: redeem the ticket once, sign the user in again
// in this browsing context, and check again.
func (h *Handler) resume(w http.ResponseWriter, r *http.Request, raw string) error {
	ctx := r.Context()
	org, t, err := h.openTicket(ctx, raw)
	if err != nil {
		return err
	}
	h.setFrameAncestors(w, &org)
	switch err := h.replay.UseTokenID(ctx, org.ID, "resume:"+t.Nonce, time.Unix(t.Expires, 0), h.now()); {
	case errors.Is(err, ErrTokenReplayed):
		return ErrTicketInvalid.becauseText("ticket already used")
	case err != nil:
		return ErrInternal.because(fmt.Errorf("replay store: %w", err))
	}
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

func (h *Handler) setFrameAncestors(w http.ResponseWriter, org *Org) {
	if allowed, err := origin.ParseList(org.AllowedOrigins); err == nil {
		w.Header().Set("Content-Security-Policy", allowed.FrameAncestors())
	} else {
		w.Header().Set("Content-Security-Policy", "frame-ancestors 'none'")
	}
}

var cookieBlockedTemplate = template.Must(template.New("blocked").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Cookies are blocked</title>
<style>
  :root { color-scheme: light dark; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center;
         font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #f4f5f7; color: #1f2430; }
  .card { max-width: 30rem; margin: 1.5rem; padding: 2rem 2.25rem; background: #fff; border-radius: 12px;
          box-shadow: 0 1px 3px rgba(16,24,40,.1), 0 8px 24px rgba(16,24,40,.06); }
  .badge { display: inline-block; padding: .15rem .6rem; border-radius: 999px; font-size: 12px; font-weight: 600;
           background: #fef0c7; color: #93370d; }
  h1 { font-size: 1.25rem; margin: .75rem 0 .5rem; }
  p { margin: 0 0 1rem; color: #475467; }
  .actions { display: flex; gap: .75rem; flex-wrap: wrap; align-items: center; }
  button, a.button { font: inherit; font-weight: 600; padding: .55rem 1rem; border-radius: 8px; cursor: pointer;
           border: 1px solid #d0d5dd; background: #fff; color: #1f2430; text-decoration: none; }
  button.primary { background: #2e5bff; border-color: #2e5bff; color: #fff; }
  #status { font-size: 13px; color: #667085; margin-top: 1rem; min-height: 1.2em; }
  @media (prefers-color-scheme: dark) {
    body { background: #111318; color: #e6e8ee; } .card { background: #1b1e26; box-shadow: none; }
    p { color: #a9b0c0; } a.button, button { background: #262a35; color: #e6e8ee; border-color: #3a3f4d; } }
</style>
</head>
<body>
<main class="card" role="alert">
  <span class="badge">Cookies blocked</span>
  <h1>Your browser blocked this app's sign-in cookie</h1>
  <p>You were signed in, but this browser does not let the app keep a cookie while it is shown inside another site, so the next page would not know you. This is a browser privacy setting, not a problem with your account.</p>
  <div class="actions">
    <button id="allow" class="primary" type="button" hidden>Allow cookies and continue</button>
    <a class="button" id="newtab" href="{{.ResumeURL}}" target="_blank" rel="noopener noreferrer">Open in a new tab</a>
  </div>
  <p id="status" aria-live="polite"></p>
</main>
<script>
(function () {
  var resume = {{.ResumeURL}};
  var allow = document.getElementById("allow");
  var status = document.getElementById("status");
  if (!document.requestStorageAccess) {
    status.textContent = "This browser cannot grant access from here: open the app in a new tab instead.";
    return;
  }
  allow.hidden = false;
  allow.addEventListener("click", function () {
    document.requestStorageAccess().then(function () {
      window.location.replace(resume);
    }, function () {
      status.textContent = "The browser did not allow it. Open the app in a new tab instead.";
    });
  });
})();
</script>
</body>
</html>
`))

// writeCookieBlockedPage renders the page shown when the session cookie did
// not come back. It answers 401: the user is not signed in here.
func writeCookieBlockedPage(w http.ResponseWriter, resumeURL string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	_ = cookieBlockedTemplate.Execute(w, struct{ ResumeURL string }{resumeURL})
}
