package embedsso_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The ways out of the cookie-blocked page, the page a tab gets, and the page
// of a visitor who never signed in (issue 17, item 3).

const customerCSP = "frame-ancestors 'self' https://customer.example https://*.partner.example"

// headersLessCookies is w's header without its Set-Cookie lines.
func headersLessCookies(w *httptest.ResponseRecorder) http.Header {
	h := w.Header().Clone()
	h.Del("Set-Cookie")
	return h
}

// redirectHeaders are the whole header of one of the endpoint's redirects.
func redirectHeaders(location, csp string) http.Header {
	return http.Header{
		"Location": {location}, "Cache-Control": {"no-store"}, "Referrer-Policy": {"no-referrer"},
		"X-Content-Type-Options": {"nosniff"}, "Content-Security-Policy": {csp},
	}
}

// pageHeaders are the whole header of one of the handler's HTML pages.
func pageHeaders(csp string) http.Header {
	return http.Header{
		"Content-Type": {"text/html; charset=utf-8"}, "Cache-Control": {"no-store"}, "Referrer-Policy": {"no-referrer"},
		"X-Content-Type-Options": {"nosniff"}, "Content-Security-Policy": {csp},
	}
}

var (
	hiddenElement = regexp.MustCompile(`(?s)<(\w+)[^>]*\shidden[ >][^<]*(?:<[^/][^<]*</[^>]+>[^<]*)*</(\w+)>`)
	styleOrScript = regexp.MustCompile(`(?s)<(style|script)\b.*?</(style|script)>|<title>.*?</title>`)
	anyTag        = regexp.MustCompile(`<[^>]*>`)
	spaces        = regexp.MustCompile(`\s+`)
)

// visibleText is the text a page shows before any script runs: no style,
// script or title, no element with the hidden attribute, every run of white
// space one space.
func visibleText(body string) string {
	s := styleOrScript.ReplaceAllString(body, " ")
	s = hiddenElement.ReplaceAllString(s, " ")
	s = anyTag.ReplaceAllString(s, " ")
	return strings.TrimSpace(spaces.ReplaceAllString(html.UnescapeString(s), " "))
}

const (
	framePageText = "Cookies blocked Your browser blocked this app's sign-in cookie " +
		"You were signed in, but this browser does not let the app keep a cookie while it is shown inside another site, so the next page would not know you. This is a browser privacy setting, not a problem with your account. " +
		"Open in a new tab code: cookie_blocked"
	tabPageText = "Cookies blocked Your browser blocked this app's sign-in cookie " +
		"You were signed in, but this browser does not let the app keep its cookie, even in a tab of its own, so the next page would not know you. This is a browser privacy setting, not a problem with your account. " +
		"Allow cookies for this site in the browser's settings, then open the app again from the site you came from. code: cookie_blocked"
)

func TestTheCookieBlockedPageSpeaksOfWhereItIsShown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		headers map[string]string
		text    string
		newTab  bool // the page offers Open in a new tab and the Allow button
	}{
		{"in a frame (Sec-Fetch-Dest: iframe) it offers the two ways out", map[string]string{"Sec-Fetch-Dest": "iframe"}, framePageText, true},
		{"without fetch metadata it is the frame's page, whose script turns into the tab's where there is no parent", nil, framePageText, true},
		{"in a tab (Sec-Fetch-Dest: document) it offers no new tab and no Allow", map[string]string{"Sec-Fetch-Dest": "document"}, tabPageText, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			start := loginURL(rawToken(hs256, f.claims(), secretABC))
			login := f.get(start, nil)
			require.Equal(t, http.StatusFound, login.Code)
			w := f.get(resolve(start, login.Header().Get("Location")), tc.headers)

			assert.Equal(t, http.StatusUnauthorized, w.Code)
			assert.Equal(t, pageHeaders(customerCSP), w.Header(), "the whole header: no cookie, no Location")
			body := w.Body.String()
			assert.Equal(t, tc.text, visibleText(body))
			assert.Equal(t, "Cookies are blocked", regexp.MustCompile(`<title>(.*)</title>`).FindStringSubmatch(body)[1])
			ev := f.lastEvent(t)
			assert.Equal(t, embedsso.Event{Kind: embedsso.EventCookieBlocked, OrgID: "org_abc123", Email: "jane@example.com"}, ev)
			if !tc.newTab {
				assert.NotContains(t, body, "sso_resume", "no ticket, no link, no form")
				assert.NotContains(t, body, "<script", "nothing to run")
				assert.NotContains(t, body, `id="in-frame"`)
				return
			}
			assert.Equal(t, strings.TrimPrefix(resumeLink(t, body), "?sso_resume="), formTicket(t, body), "the button and the link carry one ticket")
			for _, part := range []string{
				`<div id="in-tab" hidden>`, // shown instead of the frame's part by the script when there is no parent
				`<button id="allow" class="primary" type="button" hidden>Allow cookies and continue</button>`,
				`if (window.parent === window) {`,
				`document.requestStorageAccess().then(function () {`,
				`if (!cookiesKept()) {`,
				`The browser allowed it, but still does not keep the app's cookie here. Open the app in a new tab instead.`,
				`The browser did not allow it. Open the app in a new tab instead.`,
			} {
				assert.Contains(t, body, part)
			}
		})
	}
}

// waysOut is one cookie-blocked page and the browser contexts that act on
// it: the frame and a tab opened from it.
type waysOut struct {
	f        *fixture
	orgs     fixtureOrgs
	checkURL string
	ticket   string
}

func newWaysOut(t *testing.T) *waysOut {
	t.Helper()
	orgs := newFixtureOrgs(t)
	f := newFixture(t, func(c *embedsso.Config) { c.Orgs = orgs })
	_, checkURL, page := f.blockedLogin(t, "")
	return &waysOut{f: f, orgs: orgs, checkURL: checkURL, ticket: formTicket(t, page.Body.String())}
}

// resume posts the page's ticket with cookie (if any), as the frame's
// button or the new tab's Continue does, from this app's own page.
func (o *waysOut) resume(cookie string, headers map[string]string) *httptest.ResponseRecorder {
	h := map[string]string{"Cookie": cookie}
	for k, v := range headers {
		h[k] = v
	}
	return o.f.post(o.checkURL, resumeForm(o.ticket), h)
}

// signInHere resumes with no session and follows the check with the
// cookie it got, as a browser that keeps it does; it returns the cookie.
func (o *waysOut) signInHere(t *testing.T) string {
	t.Helper()
	w := o.resume("", nil)
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	cookie := cookiePair(sessionCookie(w))
	require.NotEmpty(t, cookie)
	check := o.f.get(resolve(o.checkURL, w.Header().Get("Location")), map[string]string{"Cookie": cookie})
	require.Equal(t, http.StatusFound, check.Code)
	require.Equal(t, "/dashboard", check.Header().Get("Location"))
	return cookie
}

func TestTheWaysOutWorkInEitherOrderAndTogether(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// first is what happened before the request under test, and
		// returns the cookie the second way out's browser context carries.
		first func(t *testing.T, o *waysOut) string
		// second's headers beside the cookie.
		headers map[string]string
		// wantStatus, wantLocation, wantSessions (in the store afterwards),
		// want the event.
		status   int
		location string
		sessions int
		event    embedsso.EventKind
		code     string
		csp      string // of a refusal; default the organization's
	}{
		{
			name: "new tab first, then Allow: the frame, granted storage access, carries the tab's session and goes on with it, ticket spent",
			first: func(t *testing.T, o *waysOut) string {
				return o.signInHere(t) // the tab's Continue
			},
			headers: map[string]string{"Sec-Fetch-Dest": "iframe"},
			status:  http.StatusSeeOther, location: "/dashboard", sessions: 2, event: embedsso.EventCookieConfirmed,
		},
		{
			name: "Allow first, then the new tab's Continue: the tab carries the session the frame made and goes on with it",
			first: func(t *testing.T, o *waysOut) string {
				return o.signInHere(t) // the frame's Allow
			},
			headers: map[string]string{"Sec-Fetch-Dest": "document"},
			status:  http.StatusSeeOther, location: "/dashboard", sessions: 2, event: embedsso.EventCookieConfirmed,
		},
		{
			name: "a browser that already carries the user's session goes on without spending a new session, ticket unspent",
			first: func(t *testing.T, o *waysOut) string {
				// The login's own session: a frame granted storage access
				// after the check would send it.
				login := o.f.get(loginURL(rawToken(hs256, o.f.claims(), secretABC)), nil)
				return cookiePair(sessionCookie(login))
			},
			status: http.StatusSeeOther, location: "/dashboard", sessions: 2, event: embedsso.EventCookieConfirmed,
		},
		{
			name: "a spent ticket from a browser with no session is refused, and signs no one in",
			first: func(t *testing.T, o *waysOut) string {
				o.signInHere(t)
				return ""
			},
			status: http.StatusBadRequest, sessions: 2, event: embedsso.EventRefused, code: "ticket_invalid",
		},
		{
			name: "a spent ticket from a browser with another user's session is refused",
			first: func(t *testing.T, o *waysOut) string {
				o.signInHere(t)
				other := o.f.get(loginURL(rawToken(hs256, with(o.f.claims(), "email", "sam@example.com"), secretABC)), nil)
				return cookiePair(sessionCookie(other))
			},
			status: http.StatusBadRequest, sessions: 3, event: embedsso.EventRefused, code: "ticket_invalid",
		},
		{
			name: "a spent ticket from a browser whose session the organization has ended since (its epoch) is refused",
			first: func(t *testing.T, o *waysOut) string {
				cookie := o.signInHere(t)
				org, err := o.orgs.FindOrg(context.Background(), "org_abc123")
				require.NoError(t, err)
				org.Epoch++
				require.NoError(t, o.orgs.PutOrg(context.Background(), org))
				return cookie
			},
			status: http.StatusBadRequest, sessions: 2, event: embedsso.EventRefused, code: "ticket_invalid",
		},
		{
			name: "a spent ticket posted from another site is refused even with the user's session: no login CSRF",
			first: func(t *testing.T, o *waysOut) string {
				return o.signInHere(t)
			},
			headers: map[string]string{"Sec-Fetch-Site": "cross-site"},
			status:  http.StatusForbidden, sessions: 2, event: embedsso.EventRefused, code: "cross_site", csp: frameNone,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := newWaysOut(t)
			cookie := tc.first(t, o)
			tokenIDs := o.f.store.TokenIDCount()
			w := o.resume(cookie, tc.headers)

			assert.Equal(t, tc.status, w.Code, w.Body.String())
			assert.Empty(t, sessionCookie(w), "no new session")
			assert.Equal(t, tc.sessions, o.f.store.SessionCount())
			ev := o.f.lastEvent(t)
			assert.Equal(t, tc.event, ev.Kind)
			assert.False(t, ev.Success, "no session issued")
			if tc.code != "" {
				csp := tc.csp
				if csp == "" {
					csp = customerCSP
				}
				assert.Equal(t, pageHeaders(csp), w.Header(), "the whole header; the organization is not known before the site is")
				assert.Contains(t, w.Body.String(), "code: "+tc.code)
				assert.Equal(t, tc.code, ev.Err.Code)
				assert.Equal(t, tokenIDs, o.f.store.TokenIDCount(), "nothing spent")
				return
			}
			assert.Equal(t, redirectHeaders(tc.location, customerCSP), headersLessCookies(w), "the whole header")
			assert.Empty(t, w.Body.String())
			assert.Equal(t, "org_abc123", ev.OrgID)
			assert.Equal(t, "jane@example.com", ev.Email)
			require.Len(t, o.f.store.Users(), 1)
			assert.Equal(t, o.f.store.Users()[0].ID, ev.UserID)
			// The ticket is spent now, whichever way it went.
			again := o.resume("", nil)
			assert.Equal(t, http.StatusBadRequest, again.Code)
			assert.Contains(t, again.Body.String(), "code: ticket_invalid")
		})
	}
}

func TestAResumeWithTheUsersSessionWritesNothingButTheSpentTicket(t *testing.T) {
	t.Parallel()
	o := newWaysOut(t)
	cookie := o.signInHere(t)
	users, sessions, tokenIDs := o.f.store.Users(), o.f.store.SessionCount(), o.f.store.TokenIDCount()
	w := o.resume(cookie, nil)
	require.Equal(t, http.StatusSeeOther, w.Code)
	assert.Empty(t, w.Result().Header.Values("Set-Cookie"), "neither a session nor a hint cookie")
	assert.Equal(t, users, o.f.store.Users(), "no upsert")
	assert.Equal(t, sessions, o.f.store.SessionCount())
	assert.Equal(t, tokenIDs, o.f.store.TokenIDCount(), "the ticket was spent by the first way out already")
}

func TestAVisitorWhoNeverSignedInIsToldSo(t *testing.T) {
	t.Parallel()
	const (
		notSignedIn = "Not signed in You are not signed in This app signs you in through your organization's site. Open it from there, where it is shown inside the site's own page. code: session_not_found"
		ended       = "Signed out Your session has ended You were signed out after a while without activity, or your access changed. Reload the page to sign in again. code: session_not_found"
	)
	for _, tc := range []struct {
		name    string
		cookies func(t *testing.T, f *fixture) []string
		title   string
		text    string
		csp     string
	}{
		{"no cookie at all: not signed in", func(*testing.T, *fixture) []string { return nil },
			"You are not signed in", notSignedIn, frameNone},
		{"a session cookie without a hint (it never signed in here): not signed in", func(*testing.T, *fixture) []string {
			return []string{"embedsso_session=" + strings.Repeat("A", 43)}
		}, "You are not signed in", notSignedIn, frameNone},
		{"a hint that does not parse: not signed in", func(*testing.T, *fixture) []string {
			return []string{"embedsso_session_org=<script>"}
		}, "You are not signed in", notSignedIn, frameNone},
		{"a hint of a past sign-in: the session ended", func(t *testing.T, f *fixture) []string {
			_, hint := f.signInto(t, "org_abc123", secretABC)
			return []string{hint}
		}, "Your session has ended", ended, customerCSP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			w := f.visit(f.page(false), "/dashboard", tc.cookies(t, f), nil)
			assert.Equal(t, http.StatusUnauthorized, w.Code)
			assert.Equal(t, pageHeaders(tc.csp), w.Header(), "the whole header")
			body := w.Body.String()
			assert.Equal(t, tc.title, regexp.MustCompile(`<title>(.*)</title>`).FindStringSubmatch(body)[1])
			assert.Equal(t, tc.text, visibleText(body))
			assert.Equal(t, embedsso.EventSessionEnded, f.lastEvent(t).Kind)
		})
	}
}

// A resume that carries the user's own session (due for its idle renewal,
// so reading it would write) is still refused, with no write tried, when
// the ticket or the request fails a check: the session is read only after
// every check passed.
func TestARefusedResumeWritesNothingEvenWithTheUsersSession(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		ticket  func(f *fixture, checkURL, ticket string) string
		headers map[string]string
		want    embedsso.Kind
	}{
		{"from another site", func(_ *fixture, _, ticket string) string { return ticket },
			map[string]string{"Sec-Fetch-Site": "cross-site"}, embedsso.ErrCrossSite},
		{"a forged ticket", func(*fixture, string, string) string { return "not-a-ticket" }, nil, embedsso.ErrTicketInvalid},
		{"an expired ticket", func(f *fixture, _, ticket string) string {
			f.now = f.now.Add(3 * time.Minute)
			return ticket
		}, nil, embedsso.ErrTicketInvalid},
		{"a check ticket", func(_ *fixture, checkURL, _ string) string {
			u, _ := url.Parse(checkURL)
			return u.Query().Get("sso_check")
		}, nil, embedsso.ErrTicketInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, gate, session := gatedFixture(t)
			_, checkURL, page := f.blockedLogin(t, "")
			ticket := tc.ticket(f, checkURL, formTicket(t, page.Body.String()))
			gate.arm()
			h := map[string]string{"Cookie": session}
			for k, v := range tc.headers {
				h[k] = v
			}
			w := f.post(checkURL, resumeForm(ticket), h)
			assert.Equal(t, tc.want.Status(), w.Code, w.Body.String())
			assert.Contains(t, w.Body.String(), "code: "+string(tc.want))
			assert.Empty(t, w.Result().Header.Values("Set-Cookie"))
			assert.Empty(t, gate.attempted())
		})
	}
}
