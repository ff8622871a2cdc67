package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What a frame (or a tab) settles on, as the user sees it.
const (
	seesSignedIn     = "signed in"         // the app's page, "Signed in as …"
	seesCookiePage   = "cookie-check page" // "Your browser blocked this app's sign-in cookie"
	seesContinuePage = "Continue page"     // "Continue as …"
	seesSessionEnded = "session-ended page"
	seesErrorPage    = "error page" // "We could not sign you in", with its code
)

// The cookie-check page's line under its buttons when the browser refused
// the Storage Access request.
const accessRefused = "The browser did not allow it. Open the app in a new tab instead."

// The line when the browser granted it but the frame still keeps no cookie.
const accessIneffective = "The browser allowed it, but still does not keep the app's cookie here. Open the app in a new tab instead."

// What "Allow cookies and continue" leads to (policy.allow).
const (
	// The browser refuses the Storage Access request at once; the page
	// says so (accessRefused) and stays.
	allowRefused = "refused, and the page says so"
	// The request gets no answer: it neither resolves nor rejects, and
	// the page stays as it was, with no line. WebKitGTK hands it to the
	// browser to ask the user; MiniBrowser's question is outside the page,
	// where WebDriver cannot reach it.
	allowPending = "no answer: the request stays pending"
	// The browser grants it, but a cookie set in the frame still does not
	// come back: the page says so and signs no one in again.
	allowIneffective = "granted, but no cookie: the page says so"
)

// sees classifies a document, or "" while it is none of the app's pages.
func sees(d doc) string {
	switch {
	case !d.Parsed:
		return ""
	case strings.Contains(d.Text, "Signed in as"):
		return seesSignedIn
	case strings.Contains(d.Text, checkPageHeading):
		return seesCookiePage
	case strings.Contains(d.Text, "Continue as"):
		return seesContinuePage
	case strings.Contains(d.Text, "Your session has ended"):
		return seesSessionEnded
	case strings.HasPrefix(d.Text, "Error 4"), strings.HasPrefix(d.Text, "Error 5"):
		return seesErrorPage
	}
	return ""
}

// settle waits until p shows one of the app's pages and returns which.
func (r *run) settle(p place, what string) (string, doc) {
	r.t.Helper()
	d := r.waitIn(p, what, func(d doc) bool { return sees(d) != "" })
	return sees(d), d
}

// stays checks that p keeps its document for quietPeriod: no reload, no
// navigation, so no loop. The caller checks the server's log did not move.
func (r *run) stays(p place, what string) {
	r.t.Helper()
	require.True(r.t, evalIn[bool](r, p, `(window.__e2eMark = true)`))
	time.Sleep(quietPeriod)
	assert.True(r.t, evalIn[bool](r, p, `window.__e2eMark === true`), "%s: the same document after %s", what, quietPeriod)
}

// messages are what the customer page heard from the frame.
func (r *run) messages() []message {
	r.t.Helper()
	return evalIn[[]message](r, r.top(), `window.embedMessages`)
}

func (r *run) waitMessages(n int) []message {
	r.t.Helper()
	var ms []message
	waitUntilFor(r.t, engineWait, fmt.Sprintf("%d messages from the frame", n), func() (bool, string) {
		ms = r.messages()
		return len(ms) == n, fmt.Sprint(ms)
	})
	return ms
}

// portalStatus is the customer page's line about its frame.
func (r *run) portalStatus() string {
	r.t.Helper()
	return evalIn[string](r, r.top(), `document.getElementById("frame-status").textContent`)
}

// goTo makes the frame's own document navigate to path, as a click on one
// of its links does. Deferred, so the evaluation answers first.
func (r *run) goTo(path string) {
	r.t.Helper()
	evalIn[bool](r, r.frame(), fmt.Sprintf(`(setTimeout(() => location.assign(%q)), true)`, path))
}

// TestEngines runs the same scenarios in Chromium, Firefox and WebKit, over
// HTTPS (the example's -tls; WebKitGTK keeps no Secure cookie over plain
// http://localhost), under each engine's default cookie setting and its
// stricter ones. Each scenario gets its own server and a browser with a
// fresh profile, one browser at a time. docs/browsers.md is the matrix
// these tests back.
func TestEngines(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			requireEngine(t, e)
			start := time.Now()
			t.Cleanup(func() { t.Logf("%s: wall time %s", e.name, time.Since(start).Round(time.Second)) })
			for _, p := range e.policies {
				t.Run(p.name, func(t *testing.T) {
					t.Run("sign-in", func(t *testing.T) { signInScenario(t, e, p) })
					if p.frame == seesCookiePage {
						t.Run("new tab, then Allow", func(t *testing.T) { waysOutScenario(t, e, p, true) })
						t.Run("Allow, then new tab", func(t *testing.T) { waysOutScenario(t, e, p, false) })
						return // never signed in inside the frame: no session to end there
					}
					t.Run("session ends, LoginURL", func(t *testing.T) { loginURLScenario(t, e, p, false) })
					t.Run("session ends, LoginURL fails", func(t *testing.T) { loginURLScenario(t, e, p, true) })
					t.Run("session ends, customer page renews", func(t *testing.T) { renewScenario(t, e, p, false) })
					t.Run("session ends, customer page cannot renew", func(t *testing.T) { renewScenario(t, e, p, true) })
				})
			}
		})
	}
}

// signInScenario: the customer page frames the app with a fresh token. The
// frame ends signed in, on the dashboard, and a second page and the API
// know the user; or, where the engine keeps no cookie of the app's in the
// frame, on the cookie-check page, which stays put.
func signInScenario(t *testing.T, e engine, p policy) {
	s := startServer(t, nil, "-tls")
	r := newRun(t, e, p)
	r.open(s.customer + "/?email=ada@example.com&firstName=Ada&lastName=Lovelace&role=ADMIN")
	got, d := r.settle(r.frame(), "the frame to settle")
	require.Equal(t, p.frame, got, "what the frame shows: %.300q", d.Text)
	r.screenshot(strings.ReplaceAll(p.name, " ", "-") + ".png")
	assert.Equal(t, 1, s.logCount("embedsso: signed_in"))

	if p.frame == seesCookiePage {
		assert.True(t, strings.HasPrefix(d.URL, s.app+"/api/sso/jwt?sso_check="), shortURL(d.URL))
		assert.Contains(t, d.Text, "this browser does not let the app keep a cookie while it is shown inside another site")
		page := evalIn[checkPage](r, r.frame(), checkPageJS)
		assert.True(t, page.RequestStorageAccess, "%s has document.requestStorageAccess", e.name)
		assert.True(t, page.ButtonShown, "so the Storage Access button is shown")
		assert.Equal(t, "Allow cookies and continue", page.Button)
		assert.Equal(t, "Open in a new tab", page.Link)
		assert.True(t, strings.HasPrefix(page.LinkHref, s.app+"/api/sso/jwt?sso_resume="), shortURL(page.LinkHref))
		assert.Equal(t, "_blank", page.LinkTarget)
		assert.Empty(t, page.Status)
		r.stays(r.frame(), "the cookie-check page")
		assert.Equal(t, 1, s.logCount("embedsso: cookie_blocked"), "one failed check, no loop")
		assert.Zero(t, s.logCount("embedsso: refused"))
		return
	}

	assert.Equal(t, s.app+"/dashboard", d.URL)
	assert.Contains(t, d.Text, "Signed in as Ada Lovelace · ada@example.com · ADMIN · org_demo")
	r.click(r.frame(), "#reports-link")
	d = r.waitIn(r.frame(), "the reports page", func(d doc) bool { return strings.HasSuffix(d.URL, "/reports") })
	assert.Contains(t, d.Text, "Signed in as Ada Lovelace · ada@example.com", "the second page knows the user")
	me := evalIn[meResponse](r, r.frame(), `fetch("/api/me").then(r => r.json().then(body => ({status: r.status, body})))`)
	assert.Equal(t, 200, me.Status)
	assert.Equal(t, "ada@example.com", me.Body["email"])
	assert.Equal(t, 1, s.logCount("embedsso: cookie_confirmed"))
	assert.Zero(t, s.logCount("embedsso: cookie_blocked"))
}

const checkPageJS = `(() => {
	const b = document.getElementById("allow"), a = document.getElementById("newtab");
	return {rsa: typeof document.requestStorageAccess === "function",
		buttonShown: !!b && !b.hidden && b.offsetParent !== null, button: b ? b.textContent : "",
		link: a ? a.textContent : "", linkHref: a ? a.href : "", linkTarget: a ? a.target : "",
		status: document.getElementById("status").textContent};
})()`

// waysOutScenario takes the cookie-check page's two ways out, the new tab
// first or the Storage Access button first. The new tab asks, then signs
// in there (a first-party cookie). The button does what policy.allow says:
// no engine here reaches a signed-in frame through it.
func waysOutScenario(t *testing.T, e engine, p policy, tabFirst bool) {
	s := startServer(t, nil, "-tls")
	r := newRun(t, e, p)
	r.open(s.customer + "/?email=lin@example.com&firstName=Lin&lastName=Ng")
	got, _ := r.settle(r.frame(), "the frame to settle")
	require.Equal(t, seesCookiePage, got)

	newTab := func() {
		r.click(r.frame(), "#newtab")
		tab := place{tab: r.newTab()}
		got, d := r.settle(tab, "the new tab")
		require.Equal(t, seesContinuePage, got, "the new tab asks first: %.200q", d.Text)
		assert.Contains(t, d.Text, "Continue as lin@example.com")
		assert.Empty(t, d.Referrer, "rel=noreferrer")
		r.click(tab, "#continue")
		d = r.waitIn(tab, "the new tab after Continue", func(d doc) bool { k := sees(d); return k != "" && k != seesContinuePage })
		assert.Equal(t, seesSignedIn, sees(d), "the new tab: %.200q", d.Text)
		assert.Equal(t, s.app+"/dashboard", d.URL)
		assert.Contains(t, d.Text, "Signed in as Lin Ng · lin@example.com · MEMBER · org_demo")
		assert.Equal(t, 1, s.logCount("embedsso: resumed"))
		assert.Equal(t, 1, s.logCount("embedsso: cookie_confirmed"), "the tab's check found its cookie")
	}
	allow := func(want string) {
		r.click(r.frame(), "#allow")
		switch want {
		case allowPending:
			r.stays(r.frame(), "the cookie-check page while the browser asks")
			page := evalIn[checkPage](r, r.frame(), checkPageJS)
			assert.Equal(t, "Asking the browser…", page.Status, "no answer")
		case allowIneffective:
			waitUntilFor(t, engineWait, "the page to say the grant changed nothing", func() (bool, string) {
				st := evalIn[checkPage](r, r.frame(), checkPageJS).Status
				return st == accessIneffective, st
			})
			r.stays(r.frame(), "the cookie-check page")
		case allowRefused:
			waitUntilFor(t, engineWait, "the Storage Access answer", func() (bool, string) {
				st := evalIn[checkPage](r, r.frame(), checkPageJS).Status
				return st == accessRefused, st
			})
			r.stays(r.frame(), "the cookie-check page after the refusal")
		default:
			t.Fatalf("no expectation for Allow: %q", want)
		}
	}
	if tabFirst {
		newTab()
		allow(p.allow[1])
	} else {
		allow(p.allow[0])
		newTab()
	}
	d := r.waitIn(r.frame(), "the frame", func(d doc) bool { return d.Text != "" })
	assert.Equal(t, seesCookiePage, sees(d), "the frame keeps the cookie-check page")
	r.screenshot(strings.ReplaceAll(p.name+"-"+map[bool]string{true: "tab-first", false: "allow-first"}[tabFirst], " ", "-") + ".png")
	assert.Equal(t, 1, s.logCount("embedsso: cookie_blocked"), "only the frame's checks failed")
	assert.Equal(t, 1, s.logCount("embedsso: signed_in"), "the frame's login")
	assert.Equal(t, 1, s.logCount("embedsso: resumed"), "the tab's Continue")
	assert.Zero(t, s.logCount("embedsso: refused"), "no ticket refused")
}

// loginURLScenario: a session of sessionMax ends; the frame's next page
// goes through the organization's LoginURL and comes back signed in on the
// same page, the customer page untouched. With fail, the customer's
// endpoint sends the frame back with no token: after two tries the app
// stops on the session-ended page, which stays put.
func loginURLScenario(t *testing.T, e engine, p policy, fail bool) {
	s := startServer(t, nil, "-tls", "-session-max", sessionMax)
	r := newRun(t, e, p)
	query := "?email=ada@example.com&firstName=Ada&lastName=Lovelace"
	if fail {
		query += "&renew=fail"
	}
	r.open(s.customer + "/" + query)
	got, _ := r.settle(r.frame(), "the frame to sign in")
	require.Equal(t, seesSignedIn, got)
	signedIn := time.Now()
	assert.Equal(t, []message{{Type: "embedsso:signed-in", OrgID: "org_demo"}}, r.waitMessages(1))
	require.True(t, evalIn[bool](r, r.top(), `(window.__e2eMark = true)`))
	time.Sleep(time.Until(signedIn.Add(sessionMaxDuration + time.Second))) // the clock, not a condition

	r.goTo("/reports?tab=monthly")
	if !fail {
		d := r.waitIn(r.frame(), "the reports page, signed in again", func(d doc) bool {
			return d.URL == s.app+"/reports?tab=monthly" && sees(d) == seesSignedIn
		})
		assert.Contains(t, d.Text, "Signed in as Ada Lovelace · ada@example.com")
		assert.Contains(t, d.Text, "Showing monthly")
		assert.Equal(t, []string{"embedsso:signed-in", "embedsso:signed-in"}, messageTypes(r.waitMessages(2)), "no session-expired message")
		assert.Equal(t, 1, s.logCount("embedsso: login_redirect", "org=org_demo"))
		assert.Equal(t, 2, s.logCount("embedsso: signed_in"))
	} else {
		d := r.waitIn(r.frame(), "the stopped page", func(d doc) bool { return sees(d) == seesSessionEnded })
		assert.Contains(t, d.Text, "We tried to sign you in again automatically, but it did not work.")
		waitUntilFor(t, engineWait, "the customer page's script to give up", func() (bool, string) {
			st := r.portalStatus()
			return strings.Contains(st, "a new sign-in failed (503)"), st
		})
		r.stays(r.frame(), "the session-ended page")
		assert.Equal(t, 2, s.logCount("embedsso: login_redirect"), "two tries, then the app stops")
		assert.Equal(t, 1, s.logCount("embedsso: session_ended"))
		assert.Equal(t, 1, s.logCount("embedsso: signed_in"), "only the first sign-in")
	}
	assert.True(t, evalIn[bool](r, r.top(), `window.__e2eMark === true`), "the customer page did not reload")
}

// renewScenario: an organization without a LoginURL. The session ends; the
// frame's next page is the session-ended page, which tells the customer
// page, whose script asks its server for a fresh URL and renews the frame:
// signed in on the same page. With fail, the customer's server cannot mint
// one: the frame keeps the session-ended page and the customer page says
// the new sign-in failed.
func renewScenario(t *testing.T, e engine, p policy, fail bool) {
	s := startServer(t, nil, "-tls", "-session-max", sessionMax, "-no-login-url")
	r := newRun(t, e, p)
	query := "?email=grace@example.com&firstName=Grace&lastName=Hopper"
	if fail {
		query += "&renew=fail"
	}
	r.open(s.customer + "/" + query)
	got, _ := r.settle(r.frame(), "the frame to sign in")
	require.Equal(t, seesSignedIn, got)
	signedIn := time.Now()
	r.waitMessages(1)
	require.True(t, evalIn[bool](r, r.top(), `(window.__e2eMark = true)`))
	time.Sleep(time.Until(signedIn.Add(sessionMaxDuration + time.Second)))

	r.goTo("/reports?tab=monthly")
	if !fail {
		d := r.waitIn(r.frame(), "the reports page, signed in again", func(d doc) bool {
			return d.URL == s.app+"/reports?tab=monthly" && sees(d) == seesSignedIn
		})
		assert.Contains(t, d.Text, "Signed in as Grace Hopper · grace@example.com")
		assert.Equal(t, []message{
			{Type: "embedsso:signed-in", OrgID: "org_demo"},
			{Type: "embedsso:session-expired", OrgID: "org_demo", ReturnTo: "/reports?tab=monthly"},
			{Type: "embedsso:signed-in", OrgID: "org_demo"},
		}, r.waitMessages(3))
		assert.Equal(t, 2, s.logCount("embedsso: signed_in"))
	} else {
		d := r.waitIn(r.frame(), "the session-ended page", func(d doc) bool { return sees(d) == seesSessionEnded })
		assert.Contains(t, d.Text, "Reload the page to sign in again.")
		waitUntilFor(t, engineWait, "the customer page's script to give up", func() (bool, string) {
			st := r.portalStatus()
			return strings.Contains(st, "a new sign-in failed (503)"), st
		})
		r.stays(r.frame(), "the session-ended page")
		assert.Equal(t, 1, s.logCount("embedsso: signed_in"), "only the first sign-in")
	}
	assert.Zero(t, s.logCount("embedsso: login_redirect"))
	assert.Equal(t, 1, s.logCount("embedsso: session_ended", "org=org_demo"))
	assert.True(t, evalIn[bool](r, r.top(), `window.__e2eMark === true`), "the customer page did not reload")
}
