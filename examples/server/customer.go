package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/hostscript"
	"github.com/embedsso/embedsso/signer"
)

// The demo customer's endpoints, beside its portal page (GET /).
const (
	// embedLoginPath is the demo org's LoginURL: the app sends a frame
	// whose session ended here, and it comes back signed in.
	embedLoginPath = "/sso/embed-login"
	// embedTokenPath is what the portal page's script asks for a fresh SSO
	// URL when the frame says its session ended (orgs without a LoginURL).
	embedTokenPath = "/embed-token"
)

// customerSite is the embedding customer's portal: its server mints the
// token (the secret never reaches the browser) and its page frames the app.
// It remembers who is signed in to the portal, so that it can mint a fresh
// token for that user when the app asks (LoginURL) or its page does.
type customerSite struct {
	org    embedsso.Org
	appURL string

	mu    sync.Mutex
	users map[string]portalUser // by the portal's session cookie
}

// portalUser is a signed-in portal user: the claims the portal signs for
// them, and whether the demo should fail to mint them another token.
type portalUser struct {
	claims     signer.Claims
	renewFails bool
}

// portalCookie is the portal's own session cookie. It is SameSite=None:
// the LoginURL request arrives in the frame at the end of a redirect from
// the app, another site, and a browser sends no Lax cookie with such a
// request, even to the top-level page's own site.
const portalCookie = "acme_portal"

// maxPortalUsers bounds the demo's memory: past it, the portal forgets
// everyone, and a user reloads the portal page to sign in again.
const maxPortalUsers = 10_000

// newCustomerSite returns the customer's portal for org, framing the app at
// appURL.
//
// GET / signs the demo user in to the portal and shows the app in an
// iframe. Query parameters override the demo user: email, firstName,
// lastName, role; ttl (a Go duration; a negative one mints an already
// expired token) changes that first token only; renew=fail makes both ways
// of getting another token fail, to show that the frame does not loop;
// samesite=lax makes the portal's cookie SameSite=Lax, to show that the
// LoginURL then never sees it.
//
// GET /sso/embed-login?return_to=PATH (the demo org's LoginURL) mints a
// fresh token for the portal's user and redirects the frame to the app's
// SSO endpoint with that return_to. With renew=fail it sends the frame
// straight back to PATH with no token, as a broken endpoint would.
//
// GET /embed-token?returnTo=PATH answers {"url": …}, the SSO URL with a
// fresh token and that return_to, for the portal page's script; 401 without
// a portal session, 503 with renew=fail.
func newCustomerSite(org embedsso.Org, appURL string) http.Handler {
	c := &customerSite{org: org, appURL: appURL, users: map[string]portalUser{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", c.portal)
	mux.HandleFunc("GET "+embedLoginPath, c.embedLogin)
	mux.HandleFunc("GET "+embedTokenPath, c.embedToken)
	return mux
}

func (c *customerSite) portal(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	user := portalUser{
		claims: signer.Claims{
			OrgID:     c.org.ID,
			Email:     orDefault(q.Get("email"), "jane@example.com"),
			FirstName: orDefault(q.Get("firstName"), "Jane"),
			LastName:  orDefault(q.Get("lastName"), "Doe"),
			Role:      orDefault(q.Get("role"), "MEMBER"),
			// Attributes and groups, so a newcomer sees them arrive:
			// region and groups (comma-separated) from the query, with
			// defaults; region= or groups= with no value sends none.
			Attributes: demoAttributes(q),
			Groups:     demoGroups(q),
		},
		renewFails: q.Get("renew") == "fail",
	}
	sg := c.signer()
	if s := q.Get("ttl"); s != "" {
		ttl, err := time.ParseDuration(s)
		if err != nil {
			http.Error(w, "bad ttl: "+err.Error(), http.StatusBadRequest)
			return
		}
		if ttl < 0 { // an expired token: issued a little before it expired
			now := time.Now().Add(ttl)
			sg.Now = func() time.Time { return now.Add(-time.Minute) }
			sg.TTL = time.Minute
		} else {
			sg.TTL = ttl
		}
	}
	token, err := sg.Sign(user.claims)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sameSite := http.SameSiteNoneMode
	if q.Get("samesite") == "lax" {
		sameSite = http.SameSiteLaxMode
	}
	c.signInToPortal(w, user, sameSite)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = customerPage.Execute(w, struct {
		User                                 signer.Claims
		IframeSrc, TokenPath                 string
		ScriptURL, ScriptIntegrity, Embedded string
	}{user.claims, c.ssoURL(token, ""), embedTokenPath, c.appURL + hostscript.Path, hostscript.Integrity(), q.Get("embed")})
}

func (c *customerSite) embedLogin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer") // the Location carries a token
	returnTo := r.URL.Query().Get("return_to")
	user, ok := c.portalUser(r)
	if !ok {
		http.Error(w, "Sign in to the Acme portal first.", http.StatusUnauthorized)
		return
	}
	if user.renewFails {
		if !localPath(returnTo) {
			returnTo = "/"
		}
		http.Redirect(w, r, c.appURL+returnTo, http.StatusFound)
		return
	}
	token, err := c.signer().Sign(user.claims)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, c.ssoURL(token, returnTo), http.StatusFound)
}

func (c *customerSite) embedToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	user, ok := c.portalUser(r)
	switch {
	case !ok:
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "not signed in to the portal"})
		return
	case user.renewFails:
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "the portal cannot mint a token now (renew=fail)"})
		return
	}
	token, err := c.signer().Sign(user.claims)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"url": c.ssoURL(token, r.URL.Query().Get("returnTo"))})
}

// signer signs with the org's first secret, with a token id, so that each
// token signs in once.
func (c *customerSite) signer() signer.Signer {
	return signer.Signer{Secret: c.org.Secrets[0].Value, TokenID: true}
}

// ssoURL is the app's SSO endpoint with token and, when not empty,
// returnTo. The app checks returnTo (a path on the app only).
func (c *customerSite) ssoURL(token, returnTo string) string {
	q := url.Values{"jwt": {token}}
	if returnTo != "" {
		q.Set("return_to", returnTo)
	}
	return c.appURL + "/api/sso/jwt?" + q.Encode()
}

// signInToPortal stores user under a new random id in the portal cookie.
func (c *customerSite) signInToPortal(w http.ResponseWriter, user portalUser, sameSite http.SameSite) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	id := base64.RawURLEncoding.EncodeToString(b)
	c.mu.Lock()
	if len(c.users) >= maxPortalUsers {
		clear(c.users)
	}
	c.users[id] = user
	c.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: portalCookie, Value: id, Path: "/", HttpOnly: true,
		Secure: true, SameSite: sameSite})
}

// portalUser returns the user signed in to the portal by r's cookie.
func (c *customerSite) portalUser(r *http.Request) (portalUser, bool) {
	ck, err := r.Cookie(portalCookie)
	if err != nil {
		return portalUser{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.users[ck.Value]
	return u, ok
}

// localPath reports whether s is a path on the app ("/x"), so that the
// broken endpoint's redirect cannot leave the app.
func localPath(s string) bool {
	u, err := url.Parse(s)
	return err == nil && strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") &&
		!strings.Contains(s, `\`) && u.Scheme == "" && u.Host == ""
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// customerPage frames the app with the app's own script (hostscript, pinned
// by its Subresource Integrity hash): its getURL returns the SSO URL this
// server signed into the page the first time, and asks the portal's server
// for a fresh one (embedTokenPath) when the frame says its session ended
// (an org without a LoginURL). It keeps every message the script reports in
// window.embedMessages, shows the last in #frame-status, and leaves the
// script's EmbeddedApp in window.embedded. With ?embed=manual it only
// imports the script (window.embedsso) and frames nothing, for tests of
// the script itself.
var customerPage = template.Must(template.New("customer").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme Analytics portal</title>
<style>
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #0f172a; color: #e2e8f0; }
  header { display: flex; align-items: center; gap: 1rem; padding: .8rem 1.5rem; background: #111c36; border-bottom: 1px solid #1e2b4a; }
  .brand { font-weight: 700; letter-spacing: .02em; }
  .brand span { color: #f59e0b; }
  .user { margin-left: auto; font-size: 13px; color: #94a3b8; }
  #frame-status { font-size: 12px; color: #94a3b8; }
  main { padding: 1.25rem 1.5rem; }
  h1 { font-size: 1.1rem; margin: 0 0 .75rem; }
  iframe { width: 100%; height: 600px; border: 1px solid #1e2b4a; border-radius: 10px; background: #fff; }
</style>
<script type="module" src="{{.ScriptURL}}" integrity="{{.ScriptIntegrity}}" crossorigin="anonymous"></script>
</head>
<body>
<header><span class="brand"><span>▲</span> Acme Analytics portal</span><span class="user">{{.User.FirstName}} {{.User.LastName}} · {{.User.Email}}</span></header>
<main>
  <h1>Your analytics <span id="frame-status" aria-live="polite"></span></h1>
  <div id="frame-slot"></div>
</main>
<script type="module">
import * as embedsso from {{.ScriptURL}};
window.embedsso = embedsso;
window.embedMessages = [];
if ({{.Embedded}} !== "manual") {
  const status = document.getElementById("frame-status");
  let first = {{.IframeSrc}};
  const app = embedsso.embed({
    container: document.getElementById("frame-slot"),
    title: "Analytics, powered by Chartly",
    // The first URL was signed into this page; later ones come from the
    // portal's server, for the page the frame was on.
    getURL: async ({ returnTo, signal }) => {
      if (first) {
        const url = first;
        first = "";
        return url;
      }
      const res = await fetch({{.TokenPath}} + "?returnTo=" + encodeURIComponent(returnTo || "/"), { signal });
      if (!res.ok) throw new Error("a new sign-in failed (" + res.status + ")");
      return (await res.json()).url;
    },
  });
  app.iframe.id = "app";
  app.addEventListener("signed-in", (e) => {
    window.embedMessages.push(e.detail);
    status.textContent = "· signed in";
  });
  app.addEventListener("session-expired", (e) => {
    window.embedMessages.push(e.detail);
    status.textContent = "· session ended, signing in again…";
  });
  app.addEventListener("error", (e) => {
    status.textContent = (e.detail.phase === "renew" ? "· session ended, and " : "· ") + e.detail.error.message;
  });
  window.embedded = app;
}
</script>
</body>
</html>
`))

// demoAttributes is the portal user's region attribute (default eu-west).
func demoAttributes(q url.Values) map[string]any {
	region := "eu-west"
	if q.Has("region") {
		region = q.Get("region")
	}
	if region == "" {
		return nil
	}
	return map[string]any{"region": region}
}

// demoGroups is the portal user's groups (default analysts).
func demoGroups(q url.Values) []string {
	groups := "analysts"
	if q.Has("groups") {
		groups = q.Get("groups")
	}
	if groups == "" {
		return nil
	}
	return strings.Split(groups, ",")
}
