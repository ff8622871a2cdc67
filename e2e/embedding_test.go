package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEmbeddingInChromium runs the example server and frames its app from
// its customer site, another site (127.0.0.1 vs localhost), in headless
// Chromium. Each claim gets its own server and a browser with a fresh
// profile. They run one after the other: two browsers at once on a 2-core
// machine only make the timings noisier.
func TestEmbeddingInChromium(t *testing.T) {
	chromiumPath(t) // skip, or fail under CI, before starting anything

	t.Run("the frame signs in, lands on the dashboard and stays signed in on a second page", func(t *testing.T) {
		s := startServer(t, nil)
		b := newBrowser(t, thirdPartyCookies(true))
		f, d := signIn(t, b, s, "?email=Ada@Example.com&firstName=Ada&lastName=Lovelace&role=ADMIN")
		assert.Equal(t, s.app+"/dashboard", d.URL)
		assert.Equal(t, "Dashboard · Chartly", d.Title)
		assert.Contains(t, d.Text, "Signed in as Ada Lovelace · ada@example.com · ADMIN · org_demo")
		assertOneSessionCookie(t, b, "http://127.0.0.1", true)
		b.screenshot(t, "signed-in.png")

		d = openReports(t, f)
		assert.Equal(t, s.app+"/reports", d.URL)
		assert.Contains(t, d.Text, "Signed in as Ada Lovelace · ada@example.com", "the second page knows the user")
		assert.Contains(t, d.Text, "7 reports")
		me := apiMe(t, f)
		assert.Equal(t, http.StatusOK, me.Status)
		assert.Equal(t, "ada@example.com", me.Body["email"])
		assert.Equal(t, "ADMIN", me.Body["role"])
		assert.Equal(t, map[string]any{"region": "eu-west"}, me.Body["attributes"], "the portal's token carried an attribute")
		assert.Equal(t, []any{"analysts"}, me.Body["groups"])

		// The control: this profile really lets third-party cookies through.
		assert.True(t, unpartitionedCookieSticks(t, f), "an unpartitioned cookie set in the frame is kept")
	})

	t.Run("with third-party cookies blocked the Partitioned cookie keeps the frame signed in", func(t *testing.T) {
		s := startServer(t, nil)
		b := newBrowser(t, thirdPartyCookies(false))
		f, d := signIn(t, b, s, "?email=grace@example.com&firstName=Grace&lastName=Hopper&role=VIEWER")
		assert.Contains(t, d.Text, "Signed in as Grace Hopper · grace@example.com · VIEWER · org_demo")
		// The control first: the setting took effect, an ordinary
		// third-party cookie is dropped in this frame.
		assert.False(t, unpartitionedCookieSticks(t, f), "an unpartitioned cookie set in the frame is dropped")
		assertOneSessionCookie(t, b, "http://127.0.0.1", true)
		b.screenshot(t, "signed-in-third-party-cookies-blocked.png")

		d = openReports(t, f)
		assert.Equal(t, s.app+"/reports", d.URL)
		assert.Contains(t, d.Text, "Signed in as Grace Hopper · grace@example.com", "the second page knows the user")
		assert.Equal(t, http.StatusOK, apiMe(t, f).Status)
	})

	t.Run("a page on a site the org does not allow gets a 403 the browser refuses to frame and no session", func(t *testing.T) {
		s := startServer(t, []org{{
			ID: "org_elsewhere", EmbeddingEnabled: true, JWTSecrets: []string{newSecret()},
			AllowedOrigins: []string{"https://portal.customer.example"}, AllowedRoles: []string{"MEMBER"},
		}})
		b := newBrowser(t, thirdPartyCookies(true))
		b.open(t, s.customer+"/")
		id, hops := b.loadFrame(t, s.app)
		require.Equal(t, []string{"403 /api/sso/jwt?jwt"}, statuses(hops), "the app refuses")
		assert.Equal(t, "frame-ancestors 'self' https://portal.customer.example", hops[0].CSP)
		waitUntil(t, "the browser to refuse the framed 403", func() (bool, string) {
			h := b.rec.frameHops(id)
			return h[0].Failure != "", h[0].String()
		})
		assert.Equal(t, "net::ERR_BLOCKED_BY_RESPONSE", b.rec.frameHops(id)[0].Failure, "the browser refuses to frame it")
		waitUntil(t, "the console to say why", func() (bool, string) {
			logs := b.rec.logEntries()
			return containsAny(logs, `violates the following Content Security Policy directive: "frame-ancestors 'self' https://portal.customer.example"`), strings.Join(logs, "\n")
		})

		// What the user sees in the frame is Chromium's own error page, not
		// the app's: the app's 403 page is not rendered.
		f := b.frame(t, s.app)
		d := waitDoc(t, f.ctx, "the frame's error document", func(d doc) bool { return d.Text != "" })
		t.Logf("the refused frame shows: %q", d.Text)
		assert.NotContains(t, d.Text, "origin_not_allowed")
		assert.NotContains(t, d.Text, "Signed in")
		b.screenshot(t, "origin-refused.png")

		assert.Empty(t, b.sessionCookies(t), "no session cookie")
		assert.Empty(t, b.rec.blockedCookies(), "no Set-Cookie at all, not even a refused one")
		assert.Equal(t, 1, s.logCount("embedsso: refused", "code=origin_not_allowed", "status=403", "origin=http://127.0.0.1:"))
	})

	t.Run("an expired token shows the error page inside the frame with status 401", func(t *testing.T) {
		s := startServer(t, nil)
		b := newBrowser(t, thirdPartyCookies(true))
		b.open(t, s.customer+"/?ttl=-1h")
		_, hops := b.loadFrame(t, s.app)
		require.Equal(t, []string{"401 /api/sso/jwt?jwt"}, statuses(hops))
		assert.Equal(t, "frame-ancestors 'self' "+s.customer, hops[0].CSP, "the error page may be framed by the customer")
		f := b.frame(t, s.app)
		d := waitDoc(t, f.ctx, "the error page", func(d doc) bool { return strings.Contains(d.Text, "token_expired") })
		assert.Equal(t, "We could not sign you in", d.Title)
		for _, want := range []string{"Error 401", "We could not sign you in", "The sign-in token has expired. Reload the page to get a new one.", "code: token_expired"} {
			assert.Contains(t, d.Text, want)
		}
		b.screenshot(t, "error-frame.png")
		assert.Empty(t, b.sessionCookies(t), "no session cookie")
		assert.Equal(t, 1, s.logCount("embedsso: refused", "code=token_expired", "status=401"))
	})

	t.Run("a browser that blocks the app's cookies gets a page that says so and offers the ways out, and never loops", func(t *testing.T) {
		s := startServer(t, nil)
		b := newBrowser(t, blockCookies(s.app, "*"))
		b.open(t, s.customer+"/")
		_, hops := b.loadFrame(t, s.app)
		require.Equal(t, []string{"302 /api/sso/jwt?jwt", "401 /api/sso/jwt?sso_check"}, statuses(hops))
		assert.Contains(t, b.rec.blockedCookies(), blockedCookie{Name: "embedsso_session", Reasons: []network.SetCookieBlockedReason{network.SetCookieBlockedReasonUserPreferences}},
			"the browser refused the session cookie, by the user's setting")
		assert.Empty(t, b.sessionCookies(t))

		f := b.frame(t, s.app)
		d := waitCheckPage(t, f.ctx)
		assert.Contains(t, d.Text, "this browser does not let the app keep a cookie while it is shown inside another site")
		page := readCheckPage(t, f.ctx)
		assert.True(t, page.RequestStorageAccess, "Chromium has document.requestStorageAccess")
		assert.True(t, page.ButtonShown, "so the Storage Access button is shown")
		assert.Equal(t, "Allow cookies and continue", page.Button)
		assert.Equal(t, "Open in a new tab", page.Link)
		assert.True(t, strings.HasPrefix(page.LinkHref, s.app+"/api/sso/jwt?sso_resume="), page.LinkHref)
		assert.Equal(t, "_blank", page.LinkTarget)
		b.screenshot(t, "cookies-blocked.png")

		// No loop: the frame stays on this page. No document request, no
		// navigation, the same document, one failed check on the server.
		mark(t, f.ctx)
		requests, navigations := b.stillFor(f.id, quietPeriod)
		assert.Zero(t, requests, "document requests in the frame during %s", quietPeriod)
		assert.Zero(t, navigations, "navigations in the frame during %s", quietPeriod)
		assert.True(t, stillMarked(t, f.ctx), "the same document")
		assert.Len(t, b.rec.frameHops(f.id), 2, "the frame's whole history: the login and the check")
		assert.Equal(t, 1, s.logCount("embedsso: cookie_blocked"))
		assert.Zero(t, s.logCount("embedsso: refused"))

		// The button: Chromium refuses storage access to a site the user
		// blocked. The page says so, and still does not move.
		require.NoError(t, chromedp.Do(f.ctx, chromedp.Click(chromedp.CSS("#allow"))))
		waitUntil(t, "the Storage Access answer", func() (bool, string) {
			st := readCheckPage(t, f.ctx).Status
			return st == "The browser did not allow it. Open the app in a new tab instead.", st
		})
		b.screenshot(t, "cookies-blocked-access-refused.png")
		requests, navigations = b.stillFor(f.id, quietPeriod)
		assert.Zero(t, requests+navigations, "the refused button does not navigate")
		assert.True(t, stillMarked(t, f.ctx), "the same document")

		// The link: a new tab, which asks before it signs in. The site's
		// cookies are blocked there too, so Continue leads to the same page
		// once, and stops there as well.
		require.NoError(t, chromedp.Do(f.ctx, chromedp.Click(chromedp.CSS("#newtab"))))
		tab := b.newTab(t, s.app)
		d = waitContinuePage(t, tab)
		assert.True(t, strings.HasPrefix(d.URL, s.app+"/api/sso/jwt?sso_resume="), shortURL(d.URL))
		assert.Empty(t, d.Referrer, "rel=noreferrer")
		require.NoError(t, chromedp.Do(tab, chromedp.Click(chromedp.CSS("#continue"))))
		d = waitCheckPage(t, tab)
		assert.True(t, strings.HasPrefix(d.URL, s.app+"/api/sso/jwt?sso_check="), shortURL(d.URL))
		mark(t, tab)
		requests, navigations = b.stillFor(string(chromedp.FromContext(tab).Target.TargetID), quietPeriod)
		assert.Zero(t, requests+navigations, "the new tab does not loop either")
		assert.True(t, stillMarked(t, tab), "the same document in the new tab")
		assert.Equal(t, 2, s.logCount("embedsso: cookie_blocked"), "one failed check in the frame, one in the tab")
		assert.Equal(t, 1, s.logCount("embedsso: resumed"), "the Continue button signed in once")
		assert.Empty(t, b.sessionCookies(t))

		// The instrument is live: a reload of the frame, which the test
		// asks for, is counted. So the zeros above were observed, not missed.
		requestsBefore, navigationsBefore := len(b.rec.frameRequests(f.id)), len(b.rec.frameNavigations(f.id))
		eval[bool](t, f.ctx, `(setTimeout(() => location.reload()), true)`)
		waitUntil(t, "the reload to be seen", func() (bool, string) {
			r, n := len(b.rec.frameRequests(f.id))-requestsBefore, len(b.rec.frameNavigations(f.id))-navigationsBefore
			return r == 1 && n == 1, fmt.Sprintf("%d requests, %d navigations", r, n)
		})
	})

	t.Run("when only the frame is refused cookies, Open in a new tab signs the user in there", func(t *testing.T) {
		s := startServer(t, nil)
		b := newBrowser(t, blockCookies(s.app, s.customer))
		b.open(t, s.customer+"/?firstName=Lin&lastName=Ng&email=lin@example.com")
		_, hops := b.loadFrame(t, s.app)
		require.Equal(t, []string{"302 /api/sso/jwt?jwt", "401 /api/sso/jwt?sso_check"}, statuses(hops))
		f := b.frame(t, s.app)
		waitCheckPage(t, f.ctx)
		mark(t, f.ctx)

		require.NoError(t, chromedp.Do(f.ctx, chromedp.Click(chromedp.CSS("#newtab"))))
		tab := b.newTab(t, s.app)
		d := waitContinuePage(t, tab)
		assert.Contains(t, d.Text, "Continue as lin@example.com")
		assert.Empty(t, b.sessionCookies(t), "opening the resume link signed no one in")
		require.NoError(t, chromedp.Do(tab, chromedp.Click(chromedp.CSS("#continue"))))
		d = waitDoc(t, tab, "the dashboard in the new tab", func(d doc) bool { return strings.Contains(d.Text, "Signed in as") })
		assert.Equal(t, s.app+"/dashboard", d.URL)
		assert.Contains(t, d.Text, "Signed in as Lin Ng · lin@example.com · MEMBER · org_demo")
		assert.Empty(t, d.Referrer)
		// A first-party cookie now: partitioned under the app's own site.
		assertOneSessionCookie(t, b, "http://localhost", false)
		assert.Equal(t, 1, s.logCount("embedsso: cookie_blocked"), "only the frame's check failed")
		assert.True(t, stillMarked(t, f.ctx), "the frame stayed on its page")
	})

	t.Run("the token is in neither the final URL, the referrer of linked pages nor the frame's history", func(t *testing.T) {
		s := startServer(t, nil)
		b := newBrowser(t, thirdPartyCookies(true))
		token := b.open(t, s.customer+"/")
		_, hops := b.loadFrame(t, s.app)
		for _, h := range hops[1:] {
			assert.NotContains(t, h.URL, token, "no redirect carries the token")
		}
		f := b.frame(t, s.app)
		d := waitDoc(t, f.ctx, "the dashboard", func(d doc) bool { return strings.Contains(d.Text, "Signed in as") })
		assert.Equal(t, s.app+"/dashboard", d.URL, "the final URL")
		assert.Empty(t, d.Referrer, "the dashboard's referrer")
		assert.Equal(t, []string{s.app + "/dashboard"}, historyURLs(t, f), "the frame's history entry is the dashboard")

		d = openReports(t, f)
		assert.Empty(t, d.Referrer, "the referrer of a page the app links to")
		// The Navigation API hides the URL of an earlier entry whose page
		// was served with Referrer-Policy: no-referrer, as the dashboard is.
		assert.Equal(t, []string{"", s.app + "/reports"}, historyURLs(t, f))

		// Back: the entry the frame returns to is the dashboard, not the
		// login URL, so history does not replay the token.
		// Deferred, so that the evaluation answers before the frame navigates.
		eval[bool](t, f.ctx, `(setTimeout(() => history.back()), true)`)
		d = waitDoc(t, f.ctx, "the dashboard again", func(d doc) bool {
			return strings.HasSuffix(d.URL, "/dashboard") && strings.Contains(d.Text, "Signed in as")
		})
		assert.Equal(t, s.app+"/dashboard", d.URL)
		assert.Equal(t, []string{s.app + "/dashboard", ""}, historyURLs(t, f))
		requests := b.rec.frameRequests(f.id)
		require.NotEmpty(t, requests)
		assert.Contains(t, requests[0], token, "the customer's iframe sent the token, once")
		for _, u := range requests[1:] {
			assert.NotContains(t, u, "jwt=", "no later request of the frame carries a token")
		}
		t.Logf("the frame's document requests: %q", shortURLs(requests))

		entries, err := chromedp.Run(b.ctx, chromedp.NavigationEntries())
		require.NoError(t, err)
		for _, e := range entries.Entries {
			assert.NotContains(t, e.URL, token, "the tab's history")
		}
	})
}
