package embedsso

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/embedsso/embedsso/internal/pages"
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
//   - an API request (Accept: application/json, or a fetch): 401 JSON,
//     never a redirect;
//   - when the organization (from the hint cookie, see hint.go) still
//     exists, may embed, and has a LoginURL, and the page is in a frame
//     (Sec-Fetch-Dest: iframe, or no fetch metadata at all): a redirect
//     there with return_to set to this page, so the user comes back to it
//     signed in with no click; at most [maxBounces] times a minute, after
//     which the page below explains. The round trip gets a single-use
//     nonce, kept in the hint cookie and appended to return_to as a
//     fragment (#sso_trip=NONCE), which the login that ends the trip must
//     carry back (see backFromLoginURL);
//   - a page for a visitor this browser never saw sign in (no hint
//     cookie): "You are not signed in", and how to sign in;
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

// sessionEnded decides what a request without a valid session gets.
// endedOrg names the organization when the session was valid but its
// organization refused it (gone, or embedding disabled): the guard has read
// it already, so it is not read again, and the page names no organization.
func (h *Handler) sessionEnded(w http.ResponseWriter, r *http.Request, api bool, endedOrg string) outcome {
	ev := Event{Kind: EventSessionEnded, OrgID: endedOrg}
	hnt, known := h.readHint(r)
	if known && endedOrg == "" {
		ev.OrgID = hnt.orgID
	}
	if api {
		return outcome{ev: ev, page: writeSessionEndedJSON}
	}
	returnTo := r.RequestURI // the path the browser asked for, before any StripPrefix
	if !isLocalPath(returnTo) {
		returnTo = "/"
	}
	if !known && endedOrg == "" {
		// No sign-in ever named an organization in this browser (here):
		// nothing has ended, the visitor has not signed in.
		return outcome{ev: ev, page: func(w http.ResponseWriter) { pages.NotSignedIn(w, string(ErrSessionNotFound)) }}
	}
	if endedOrg != "" {
		return outcome{ev: ev, page: func(w http.ResponseWriter) {
			pages.SessionEnded(w, string(ErrSessionNotFound), "", nil, returnTo, false, false)
		}}
	}
	ev.OrgID = hnt.orgID
	org, policy, err := h.findOrg(r.Context(), hnt.orgID)
	if err != nil {
		return outcome{ev: ev, page: func(w http.ResponseWriter) {
			pages.SessionEnded(w, string(ErrSessionNotFound), "", nil, returnTo, false, false)
		}}
	}
	now := h.now()
	if now.Sub(hnt.at) > time.Minute {
		hnt.bounces, hnt.at = 0, now
	}
	if org.LoginURL != "" && hnt.bounces < maxBounces && inFrame(r) {
		trip := newTrip()
		if target, err := loginRedirect(&org, policy, withTrip(returnTo, trip)); err != nil {
			h.logOutcome(r.Context(), Event{Kind: EventRefused, OrgID: org.ID, Err: ErrOrgMisconfigured.because(err)})
		} else {
			hnt.bounces++
			hnt.trip = trip
			h.setHint(w, hnt)
			ev.Kind = EventLoginRedirect
			return outcome{ev: ev, policy: policy, location: target, status: http.StatusFound}
		}
	}
	stopped := org.LoginURL != "" && hnt.bounces >= maxBounces
	targets := exactOrigins(policy)
	return outcome{ev: ev, policy: policy, page: func(w http.ResponseWriter) {
		pages.SessionEnded(w, string(ErrSessionNotFound), org.ID, targets, returnTo, len(policy.allowed) == 0, stopped)
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
// ErrOriginMissing) ends the round trip through org's LoginURL that this
// app began in this frame; trip is the nonce the login's return_to
// carried back (see cutTrip). Such a login carries neither the customer's
// Origin nor its Referer: a browser sends no Origin with a GET navigation,
// and the frame's navigation began at one of the app's own pages, so the
// Referer (if any) would be the app's, whatever the LoginURL's redirect
// says. What vouches for it instead is the organization hint: it is
// HttpOnly, so no page can write it; Partitioned, so it lives only under
// the top-level site where a login passed the origin check; and it records
// that this app sent this browser to org's LoginURL less than a minute ago
// with the nonce trip, which only that trip's return_to carried. The login
// must also be a frame's navigation (Sec-Fetch-Dest: iframe, when the
// browser sends fetch metadata), as the trip was. The sign-in that follows
// writes a hint without the nonce, so it vouches for one login. Without
// Partitioned cookies the hint would travel to any site, so it vouches for
// nothing.
func (h *Handler) backFromLoginURL(r *http.Request, org *Org, err error, trip string) bool {
	if !errors.Is(err, ErrOriginMissing) || org.LoginURL == "" || h.notPartitioned || !inFrame(r) || trip == "" {
		return false
	}
	hnt, ok := h.readHint(r)
	if !ok || hnt.trip == "" || subtle.ConstantTimeCompare([]byte(hnt.trip), []byte(trip)) != 1 {
		return false
	}
	return hnt.orgID == org.ID && hnt.bounces > 0 && !h.now().Before(hnt.at) && h.now().Sub(hnt.at) <= time.Minute
}

// inFrame reports whether r is a frame's navigation, as far as the browser
// says: Sec-Fetch-Dest is iframe, or absent (a browser without fetch
// metadata).
func inFrame(r *http.Request) bool {
	d := r.Header.Values("Sec-Fetch-Dest")
	return len(d) == 0 || len(d) == 1 && d[0] == "iframe"
}

// tripMarker introduces a round trip's nonce at the end of the return_to
// the guard gives the LoginURL. It is a fragment: the customer's endpoint
// passes return_to back as it is, and a page it sends back to directly
// (a LoginURL that fails) does not send it to the server.
const tripMarker = "#sso_trip="

// withTrip is returnTo with trip's marker appended, "/" with it when that
// would be longer than a return_to may be.
func withTrip(returnTo, trip string) string {
	if len(returnTo)+len(tripMarker)+len(trip) > maxReturnToBytes {
		returnTo = "/"
	}
	return returnTo + tripMarker + trip
}

// cutTrip splits a login's return_to into the destination and the round
// trip's nonce, if it ends with one. The marker never reaches a Location.
func cutTrip(returnTo string) (dest, trip string) {
	i := strings.LastIndex(returnTo, tripMarker)
	if i < 0 {
		return returnTo, ""
	}
	return returnTo[:i], returnTo[i+len(tripMarker):]
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
