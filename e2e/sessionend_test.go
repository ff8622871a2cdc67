package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sessionMax is the example's -session-max in these tests: short enough to
// watch a session end, long enough for the sign-in's own hops.
const sessionMax = "3s"

// sessionMaxDuration is sessionMax as a duration.
const sessionMaxDuration = 3 * time.Second

// message is one message the portal page received from the frame, as its
// listener keeps them in window.embedMessages.
type message struct {
	Type     string `json:"type"`
	OrgID    string `json:"orgId"`
	ReturnTo string `json:"returnTo"`
}

func hostMessages(t *testing.T, b *browser) []message {
	t.Helper()
	return eval[[]message](t, b.ctx, `window.embedMessages`)
}

func messageTypes(ms []message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Type
	}
	return out
}

// waitSessionEnded waits until the browser has dropped the session cookie:
// its Max-Age is -session-max, as is the session's life on the server.
func waitSessionEnded(t *testing.T, b *browser) {
	t.Helper()
	waitUntil(t, "the session to end", func() (bool, string) {
		n := len(b.sessionCookies(t))
		return n == 0, fmt.Sprint(n, " session cookies")
	})
}

// painted waits until the frame's document has been painted twice, so that
// a screenshot shows it rather than the frame's previous document: after a
// trip through the portal's own site, the frame is drawn by a new process.
func painted(t *testing.T, f *frame) {
	t.Helper()
	eval[bool](t, f.ctx, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`)
}

// goTo makes the frame's own document navigate to path, as a click on one
// of its links does. Deferred, so the evaluation answers first.
func goTo(t *testing.T, f *frame, path string) {
	t.Helper()
	eval[bool](t, f.ctx, fmt.Sprintf(`(setTimeout(() => location.assign(%q)), true)`, path))
}

// hopsAfter waits until the frame's document requests after the first n
// end in a final answer, and returns them.
func hopsAfter(t *testing.T, b *browser, frameID string, n int) []hop {
	t.Helper()
	var hops []hop
	waitUntil(t, "the frame's next document", func() (bool, string) {
		all := b.rec.frameHops(frameID)
		if len(all) <= n {
			return false, "no new answer"
		}
		hops = all[n:]
		last := hops[len(hops)-1]
		return last.Status < 300 || last.Status >= 400, fmt.Sprint(statuses(hops))
	})
	return hops
}

// TestWhenTheSessionEndsInsideTheFrame runs the example with sessions of
// a few seconds and lets one end inside the customer's page.
func TestWhenTheSessionEndsInsideTheFrame(t *testing.T) {
	chromiumPath(t)

	for name, prefs := range map[string]map[string]any{
		"":                                   thirdPartyCookies(true),
		", with third-party cookies blocked": thirdPartyCookies(false),
	} {
		t.Run("the frame comes back signed in on the same page through the LoginURL, with no action"+name, func(t *testing.T) {
			s := startServer(t, nil, "-session-max", sessionMax)
			b := newBrowser(t, prefs)
			f, _ := signIn(t, b, s, "?email=ada@example.com&firstName=Ada&lastName=Lovelace")
			waitUntil(t, "the frame to tell the portal it is signed in", func() (bool, string) {
				ms := hostMessages(t, b)
				return len(ms) == 1, fmt.Sprint(ms)
			})
			assert.Equal(t, []message{{Type: "embedsso:signed-in", OrgID: "org_demo"}}, hostMessages(t, b))
			mark(t, b.ctx)
			waitSessionEnded(t, b)

			n := len(b.rec.frameHops(f.id))
			goTo(t, f, "/reports?tab=monthly")
			hops := hopsAfter(t, b, f.id, n)
			assert.Equal(t, []string{
				"302 /reports?tab",               // no session: to the customer's LoginURL
				"302 /sso/embed-login?return_to", // the customer mints a token
				"302 /api/sso/jwt?jwt&return_to", // the login
				"302 /api/sso/jwt?sso_check",     // the cookie check
				"200 /reports?tab",               // the same page
			}, statuses(hops))
			f = b.frame(t, s.app)
			d := waitDoc(t, f.ctx, "the reports page, signed in", func(d doc) bool { return strings.Contains(d.Text, "Signed in as") })
			assert.Equal(t, s.app+"/reports?tab=monthly", d.URL)
			assert.Contains(t, d.Text, "Signed in as Ada Lovelace · ada@example.com")
			assert.Contains(t, d.Text, "Showing monthly")

			assert.True(t, stillMarked(t, b.ctx), "the portal page did not reload")
			waitUntil(t, "the frame to tell the portal again", func() (bool, string) {
				ms := hostMessages(t, b)
				return len(ms) == 2, fmt.Sprint(ms)
			})
			assert.Equal(t, []string{"embedsso:signed-in", "embedsso:signed-in"}, messageTypes(hostMessages(t, b)), "no session-expired message")
			assertOneSessionCookie(t, b, "http://127.0.0.1", true)
			assert.Equal(t, 1, s.logCount("embedsso: login_redirect", "org=org_demo"))
			assert.Equal(t, 2, s.logCount("embedsso: signed_in"))
			if name != "" {
				assert.False(t, unpartitionedCookieSticks(t, f), "the control: third-party cookies are blocked here")
			}
		})
	}

	t.Run("a session left unused for -session-idle comes back through the LoginURL too", func(t *testing.T) {
		const idle = 3 * time.Second
		s := startServer(t, nil, "-session-idle", idle.String(), "-session-max", "1h")
		b := newBrowser(t, thirdPartyCookies(false))
		f, _ := signIn(t, b, s, "")
		// The cookie lives as long as -session-max: only the server knows
		// the session went unused, so the wait is the idle limit itself.
		time.Sleep(idle + 500*time.Millisecond)
		require.Len(t, b.sessionCookies(t), 1, "the browser still holds the cookie")

		n := len(b.rec.frameHops(f.id))
		goTo(t, f, "/reports?tab=monthly")
		hops := hopsAfter(t, b, f.id, n)
		assert.Equal(t, []string{"302 /reports?tab", "302 /sso/embed-login?return_to", "302 /api/sso/jwt?jwt&return_to",
			"302 /api/sso/jwt?sso_check", "200 /reports?tab"}, statuses(hops))
		f = b.frame(t, s.app)
		d := waitDoc(t, f.ctx, "the reports page, signed in", func(d doc) bool { return strings.Contains(d.Text, "Signed in as") })
		assert.Equal(t, s.app+"/reports?tab=monthly", d.URL)
	})

	t.Run("the LoginURL never sees the portal's own cookie when it is SameSite=Lax", func(t *testing.T) {
		s := startServer(t, nil, "-session-max", sessionMax)
		b := newBrowser(t, thirdPartyCookies(true))
		f, _ := signIn(t, b, s, "?samesite=lax")
		waitSessionEnded(t, b)

		n := len(b.rec.frameHops(f.id))
		goTo(t, f, "/reports?tab=monthly")
		hops := hopsAfter(t, b, f.id, n)
		// The request reaches the customer's site, the top-level page's own
		// site, but at the end of a redirect from the app, another site: the
		// browser leaves a Lax cookie out, and the portal does not know
		// its user.
		assert.Equal(t, []string{"302 /reports?tab", "401 /sso/embed-login?return_to"}, statuses(hops))
		assert.Equal(t, 1, s.logCount("embedsso: login_redirect"))
		assert.Equal(t, 1, s.logCount("embedsso: signed_in"), "only the first sign-in")
	})

	t.Run("without a LoginURL the portal page hears that the session ended and renews the frame", func(t *testing.T) {
		s := startServer(t, nil, "-session-max", sessionMax, "-no-login-url")
		b := newBrowser(t, thirdPartyCookies(false))
		f, _ := signIn(t, b, s, "?email=grace@example.com&firstName=Grace&lastName=Hopper")
		waitUntil(t, "the signed-in message", func() (bool, string) { return len(hostMessages(t, b)) == 1, "" })
		mark(t, b.ctx)

		// The portal's listener takes messages from its frame only: the same
		// message from the portal page itself is ignored.
		eval[bool](t, b.ctx, `(window.postMessage({type: "embedsso:session-expired", orgId: "org_demo", returnTo: "/"}, "*"), true)`)
		waitSessionEnded(t, b)

		n := len(b.rec.frameHops(f.id))
		goTo(t, f, "/reports?tab=monthly")
		hops := hopsAfter(t, b, f.id, n)
		require.Equal(t, []string{"401 /reports?tab"}, statuses(hops), "the session-ended page")
		// The portal's script puts a new iframe in the old one's place
		// (customer.go says why): a frame of its own.
		var renewed string
		waitUntil(t, "the new iframe", func() (bool, string) {
			id, ok := b.rec.lastAppFrame(s.app)
			renewed = id
			return ok && id != f.id, "still the old frame"
		})
		hops = hopsAfter(t, b, renewed, 0)
		assert.Equal(t, []string{
			"302 /api/sso/jwt?jwt&return_to",
			"302 /api/sso/jwt?sso_check",
			"200 /reports?tab",
		}, statuses(hops))
		f = b.frame(t, s.app)
		d := waitDoc(t, f.ctx, "the reports page, signed in", func(d doc) bool { return strings.Contains(d.Text, "Signed in as") })
		assert.Equal(t, s.app+"/reports?tab=monthly", d.URL)
		assert.Contains(t, d.Text, "Signed in as Grace Hopper · grace@example.com")

		assert.True(t, stillMarked(t, b.ctx), "the portal page did not reload")
		waitUntil(t, "the frame to tell the portal again", func() (bool, string) {
			ms := hostMessages(t, b)
			return len(ms) == 3, fmt.Sprint(ms)
		})
		assert.Equal(t, []message{
			{Type: "embedsso:signed-in", OrgID: "org_demo"},
			{Type: "embedsso:session-expired", OrgID: "org_demo", ReturnTo: "/reports?tab=monthly"},
			{Type: "embedsso:signed-in", OrgID: "org_demo"},
		}, hostMessages(t, b))
		assert.Zero(t, s.logCount("embedsso: login_redirect"))
		assert.Equal(t, 1, s.logCount("embedsso: session_ended", "org=org_demo"))
		assert.Equal(t, 2, s.logCount("embedsso: signed_in"))
	})

	t.Run("when the customer's LoginURL fails the frame stops after two tries and stays put", func(t *testing.T) {
		s := startServer(t, nil, "-session-max", sessionMax)
		b := newBrowser(t, thirdPartyCookies(true))
		f, _ := signIn(t, b, s, "?renew=fail")
		mark(t, b.ctx)
		waitSessionEnded(t, b)

		n := len(b.rec.frameHops(f.id))
		goTo(t, f, "/dashboard")
		hops := hopsAfter(t, b, f.id, n)
		assert.Equal(t, []string{
			"302 /dashboard",
			"302 /sso/embed-login?return_to", // the broken endpoint sends the frame straight back
			"302 /dashboard",
			"302 /sso/embed-login?return_to",
			"401 /dashboard", // and the app stops
		}, statuses(hops))
		f = b.frame(t, s.app)
		d := waitDoc(t, f.ctx, "the stopped page", func(d doc) bool { return strings.Contains(d.Text, "Your session has ended") })
		assert.Contains(t, d.Text, "We tried to sign you in again automatically, but it did not work.")
		waitUntil(t, "the portal's script to give up", func() (bool, string) {
			st := eval[string](t, b.ctx, `document.getElementById("frame-status").textContent`)
			return strings.Contains(st, "a new sign-in failed (503)"), st
		})
		painted(t, f)
		b.screenshot(t, "session-ended-login-url-failed.png")

		// No loop: nothing more happens in the frame, nor in the portal.
		mark(t, f.ctx)
		requests, navigations := b.stillFor(f.id, quietPeriod)
		assert.Zero(t, requests, "document requests in the frame during %s", quietPeriod)
		assert.Zero(t, navigations, "navigations in the frame during %s", quietPeriod)
		assert.True(t, stillMarked(t, f.ctx), "the same document in the frame")
		assert.True(t, stillMarked(t, b.ctx), "the portal page did not reload")
		assert.Equal(t, 2, s.logCount("embedsso: login_redirect"))
		assert.Equal(t, 1, s.logCount("embedsso: session_ended"))
		assert.Equal(t, 1, s.logCount("embedsso: signed_in"), "only the first sign-in")
	})

	t.Run("without a LoginURL and with a portal that cannot renew, the frame shows the session-ended page and stays put", func(t *testing.T) {
		s := startServer(t, nil, "-session-max", sessionMax, "-no-login-url")
		b := newBrowser(t, thirdPartyCookies(true))
		f, _ := signIn(t, b, s, "?renew=fail")
		mark(t, b.ctx)
		waitSessionEnded(t, b)

		n := len(b.rec.frameHops(f.id))
		goTo(t, f, "/reports?tab=monthly")
		hops := hopsAfter(t, b, f.id, n)
		require.Equal(t, []string{"401 /reports?tab"}, statuses(hops))
		assert.Equal(t, "frame-ancestors 'self' "+s.customer, hops[0].CSP, "the customer may frame it")
		f = b.frame(t, s.app)
		d := waitDoc(t, f.ctx, "the session-ended page", func(d doc) bool { return strings.Contains(d.Text, "Your session has ended") })
		assert.Equal(t, "Your session has ended", d.Title)
		assert.Contains(t, d.Text, "Reload the page to sign in again.")
		waitUntil(t, "the portal's script to give up", func() (bool, string) {
			st := eval[string](t, b.ctx, `document.getElementById("frame-status").textContent`)
			return strings.Contains(st, "a new sign-in failed (503)"), st
		})
		painted(t, f)
		b.screenshot(t, "session-ended.png")

		mark(t, f.ctx)
		requests, navigations := b.stillFor(f.id, quietPeriod)
		assert.Zero(t, requests+navigations, "the frame stays on the page")
		assert.True(t, stillMarked(t, f.ctx), "the same document in the frame")
		assert.True(t, stillMarked(t, b.ctx), "the portal page did not reload")
	})
}
