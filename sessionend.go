package embedsso

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// When a session ends inside the frame. A page behind [Handler.RequireUser]
// that finds no valid session must not leave a dead frame in the customer's
// page. It answers, in this order:
//
//   - an API request (Accept: application/json, a fetch, or
//     [Handler.RequireUserJSON]): 401 JSON, never a redirect;
//   - when the organization (from the hint cookie, see hint.go) has a
//     LoginURL: a redirect there with return_to set to this page, so the
//     user comes back to it signed in with no click; at most
//     [maxBounces] times a minute, after which the page below explains;
//   - otherwise: a small page that says the session ended and posts
//     {type: "embedsso:session-expired", orgId, returnTo} to the parent
//     window, once for each of the organization's allowed origins as the
//     explicit target (never "*"), so the host page can fetch a fresh token
//     from its own server and reload the frame.
//
// Each answer goes through the spine (embedsso.go's finish): its CSP, one
// log line and one Observer event.

// maxBounces is how many automatic re-sign-ins through a LoginURL a browser
// gets in a minute before the frame stops and explains.
const maxBounces = 2

// RequireUser is [CookieSessions.Middleware] for the app's pages inside the
// frame: next runs only for a request with a valid session of an
// organization that still exists and has embedding enabled, with the
// organization's frame-ancestors CSP set (so [Handler.FrameAncestors] is not
// needed beside it); any other request is answered as the section above
// describes. It needs
// [Config.Sessions] to be a [*CookieSessions]; with another issuer it
// answers every request without a session with the session-ended page.
func (h *Handler) RequireUser(next http.Handler) http.Handler { return h.requireUser(next, false) }

// RequireUserJSON is [Handler.RequireUser] for API routes: a request
// without a valid session always gets 401 JSON, never a redirect or a page.
func (h *Handler) RequireUserJSON(next http.Handler) http.Handler { return h.requireUser(next, true) }

func (h *Handler) requireUser(next http.Handler, api bool) http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := UserFromContext(r.Context()); ok {
			// The organization is read on every request, from the store
			// every instance shares: disabling its embedding ends its
			// sessions at their next request, and the page gets its CSP.
			_, policy, err := h.findOrg(r.Context(), u.OrgID)
			if err == nil {
				w.Header().Set("Content-Security-Policy", policy.csp)
				next.ServeHTTP(w, r)
				return
			}
			if e := asError(err); e.Status >= 500 {
				// A store failure is a refusal like any other: through the
				// spine, with its log line, Observer event and error page.
				w.Header().Set("Cache-Control", "no-store")
				h.finish(w, r, refused(Event{OrgID: u.OrgID, Email: u.Email}, nil, e))
				return
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.finish(w, r, h.sessionEnded(w, r, api || wantsJSON(r)))
	})
	if h.cookies == nil {
		return inner
	}
	return h.cookies.Middleware(inner)
}

// wantsJSON tells an API call from a page navigation.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json") || r.Header.Get("Sec-Fetch-Dest") == "empty"
}

// sessionEnded decides what a request without a valid session gets.
func (h *Handler) sessionEnded(w http.ResponseWriter, r *http.Request, api bool) outcome {
	ev := Event{Kind: EventSessionEnded}
	var hnt hint
	var known bool
	if h.cookies != nil {
		hnt, known = h.cookies.readHint(r)
	}
	if api {
		if known {
			ev.OrgID = hnt.orgID
		}
		return outcome{ev: ev, page: writeSessionEndedJSON}
	}
	returnTo := r.RequestURI // the path the browser asked for, before any StripPrefix
	if !isLocalPath(returnTo) {
		returnTo = "/"
	}
	if !known {
		return outcome{ev: ev, page: func(w http.ResponseWriter) { writeSessionEndedPage(w, "", nil, returnTo, false, false) }}
	}
	ev.OrgID = hnt.orgID
	org, policy, err := h.findOrg(r.Context(), hnt.orgID)
	if err != nil {
		return outcome{ev: ev, page: func(w http.ResponseWriter) { writeSessionEndedPage(w, "", nil, returnTo, false, false) }}
	}
	now := h.now()
	if now.Sub(hnt.at) > time.Minute {
		hnt.bounces, hnt.at = 0, now
	}
	if org.LoginURL != "" && hnt.bounces < maxBounces {
		if target, err := loginRedirect(&org, policy, returnTo); err != nil {
			h.logOutcome(r.Context(), Event{Kind: EventRefused, OrgID: org.ID, Err: ErrOrgMisconfigured.because(err)})
		} else {
			hnt.bounces++
			h.cookies.setHint(w, hnt)
			ev.Kind = EventLoginRedirect
			return outcome{ev: ev, policy: policy, location: target, status: http.StatusFound}
		}
	}
	stopped := org.LoginURL != "" && hnt.bounces >= maxBounces
	targets := exactOrigins(policy)
	return outcome{ev: ev, policy: policy, page: func(w http.ResponseWriter) {
		writeSessionEndedPage(w, org.ID, targets, returnTo, len(policy.allowed) == 0, stopped)
	}}
}

// loginRedirect is org's LoginURL with return_to set. It refuses a LoginURL
// that is not https (or http on a loopback host) or whose origin is not on
// the organization's allow-list, so an organization's settings cannot make
// the app an open redirector.
func loginRedirect(org *Org, policy *orgPolicy, returnTo string) (string, error) {
	u, err := url.Parse(org.LoginURL)
	if err != nil {
		return "", fmt.Errorf("login URL does not parse: %w", err)
	}
	if err := checkLoginURL(u); err != nil {
		return "", err
	}
	o := u.Scheme + "://" + u.Host
	if len(policy.allowed) == 0 || !policy.allowed.Allows(o) {
		return "", fmt.Errorf("login URL origin %.128q is not on the organization's allowed origins", o)
	}
	q := u.Query()
	q.Set("return_to", returnTo)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// backFromLoginURL reports whether a login that names no site (err is
// ErrOriginMissing) ends a round trip through org's LoginURL that this app
// began. Such a login carries neither the customer's Origin nor its
// Referer: a browser sends no Origin with a GET navigation, and the frame's
// navigation began at one of the app's own pages, so the Referer (if any)
// would be the app's, whatever the LoginURL's redirect says. What vouches
// for it instead is the organization hint: it is HttpOnly, so no page can
// write it; Partitioned, so it lives only under the top-level site where a
// login passed the origin check; and it records that this app sent this
// browser to org's LoginURL less than a minute ago. The sign-in that
// follows resets that record, so it vouches for one login. Without
// Partitioned cookies the hint would travel to any site, so it vouches for
// nothing.
func (h *Handler) backFromLoginURL(r *http.Request, org *Org, err error) bool {
	if !errors.Is(err, ErrOriginMissing) || org.LoginURL == "" || h.cookies == nil || h.cookies.notPartitioned {
		return false
	}
	hnt, ok := h.cookies.readHint(r)
	return ok && hnt.orgID == org.ID && hnt.bounces > 0 && !h.now().Before(hnt.at) && h.now().Sub(hnt.at) <= time.Minute
}

// checkLoginURL holds a LoginURL to https, or http on a loopback host, with
// no user info or fragment.
func checkLoginURL(u *url.URL) error {
	switch {
	case u.User != nil || u.Fragment != "" || u.Host == "" || u.Opaque != "":
		return fmt.Errorf("login URL %.128q must be an absolute URL with no user info or fragment", u.String())
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("login URL %.128q must be https (or http on a loopback host)", u.String())
}

// exactOrigins are the allowed origins a page can post a message to: a
// wildcard entry names no single origin, so postMessage cannot target it.
func exactOrigins(policy *orgPolicy) []string {
	var out []string
	for _, o := range policy.origins {
		if !strings.Contains(o, "*") {
			out = append(out, o)
		}
	}
	return out
}

func writeSessionEndedJSON(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{
		"code": string(ErrSessionNotFound), "message": ErrSessionNotFound.Reason()}})
}

// SignedInScript returns a script for the app's pages that posts
// {type: "embedsso:signed-in", orgId} to the parent window, once for each of
// the signed-in user's organization's exact allowed origins (never "*"),
// so the host page knows the frame is signed in. It is empty when r has no
// signed-in user or the frame may not be posted to. Render it in an
// html/template as is.
func (h *Handler) SignedInScript(r *http.Request) template.HTML {
	u, ok := UserFromContext(r.Context())
	if !ok {
		return ""
	}
	_, policy, err := h.findOrg(r.Context(), u.OrgID)
	if err != nil {
		return ""
	}
	var b strings.Builder
	_ = postMessageScript.Execute(&b, struct {
		Targets   []string
		AnyOrigin bool
		Message   map[string]string
	}{exactOrigins(policy), len(policy.allowed) == 0, map[string]string{"type": "embedsso:signed-in", "orgId": u.OrgID}})
	return template.HTML(b.String())
}
