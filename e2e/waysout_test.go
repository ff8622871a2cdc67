package e2e

import (
	"context"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The ways out of the cookie-blocked page, as Safari's tracking prevention
// leaves them: the example's cookies without Partitioned (-unpartitioned)
// and Chromium blocking third-party cookies, so the frame keeps no cookie,
// a tab of the app's own keeps a first-party one, and a frame granted
// storage access sees that first-party cookie. Chromium shows a prompt for
// storage access that headless Chromium cannot show; the test grants the
// permission through the DevTools protocol (Browser.setPermission
// "storage-access" for the app embedded in the customer's site), the
// automation hook that stands in for the user's "Allow" on the prompt, and
// the page's own click on "Allow cookies and continue" still makes the
// request, with the user activation a click gives.

// grantStorageAccess makes Chromium grant the app's frame storage access
// under the customer's site, as a user's Allow on the prompt would.
func grantStorageAccess(t *testing.T, b *browser, s *server) {
	t.Helper()
	_, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission: &cdpbrowser.PermissionDescriptor{Name: "storage-access"}, Setting: cdpbrowser.PermissionSettingGranted,
		Origin: s.customer, EmbeddedOrigin: s.app,
	})
	require.NoError(t, err)
}

const (
	tabPageText = "does not let the app keep its cookie, even in a tab of its own"
)

// blockedFrame opens the customer page and waits for the cookie-blocked
// page in its frame.
func blockedFrame(t *testing.T, b *browser, s *server, query string) *frame {
	t.Helper()
	b.open(t, s.customer+"/"+query)
	_, hops := b.loadFrame(t, s.app)
	require.Equal(t, []string{"302 /api/sso/jwt?jwt", "401 /api/sso/jwt?sso_check"}, statuses(hops))
	f := b.frame(t, s.app)
	waitCheckPage(t, f.ctx)
	return f
}

// continueInNewTab clicks the frame's "Open in a new tab" and the new tab's
// Continue, and waits for the dashboard there, signed in.
func continueInNewTab(t *testing.T, b *browser, s *server, f *frame) context.Context {
	t.Helper()
	require.NoError(t, chromedp.Do(f.ctx, chromedp.Click(chromedp.CSS("#newtab"))))
	tab := b.newTab(t, s.app)
	waitContinuePage(t, tab)
	require.NoError(t, chromedp.Do(tab, chromedp.Click(chromedp.CSS("#continue"))))
	d := waitDoc(t, tab, "the dashboard in the new tab", func(d doc) bool { return strings.Contains(d.Text, "Signed in as") })
	assert.Equal(t, s.app+"/dashboard", d.URL)
	return tab
}

// waitStatus waits for the line under the cookie-blocked page's buttons.
func waitStatus(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	waitUntil(t, "the page to say: "+want, func() (bool, string) {
		st := readCheckPage(t, ctx).Status
		return st == want, st
	})
}

func TestTheWaysOutInChromium(t *testing.T) {
	chromiumPath(t)

	t.Run("new tab first, then Allow: the frame goes on with the session the tab made, and makes none", func(t *testing.T) {
		s := startServer(t, nil, "-unpartitioned")
		b := newBrowser(t, thirdPartyCookies(false))
		f := blockedFrame(t, b, s, "?email=ada@example.com&firstName=Ada&lastName=Lovelace")

		// As under Safari's tracking prevention: no storage access before
		// the user has visited the app itself. Nothing is posted.
		require.NoError(t, chromedp.Do(f.ctx, chromedp.Click(chromedp.CSS("#allow"))))
		waitStatus(t, f.ctx, accessRefused)

		continueInNewTab(t, b, s, f)
		assert.Equal(t, 1, s.logCount("embedsso: resumed"), "the tab's Continue signed in")

		grantStorageAccess(t, b, s)
		require.NoError(t, chromedp.Do(f.ctx, chromedp.Click(chromedp.CSS("#allow"))))
		d := waitDoc(t, f.ctx, "the dashboard in the frame", func(d doc) bool { return strings.Contains(d.Text, "Signed in as") })
		assert.Equal(t, s.app+"/dashboard", d.URL)
		assert.Contains(t, d.Text, "Signed in as Ada Lovelace · ada@example.com · MEMBER · org_demo")
		b.screenshot(t, "ways-out-tab-then-allow.png")

		assert.Equal(t, 1, s.logCount("embedsso: resumed"), "no second sign-in: the frame used the tab's session")
		assert.Equal(t, 1, s.logCount("embedsso: cookie_confirmed", "email=ada@example.com", "user="), "the frame's resume found the session")
		assert.Zero(t, s.logCount("embedsso: refused"), "no ticket_invalid")
		cookies := b.sessionCookies(t)
		require.Len(t, cookies, 1, "one session cookie in the profile: the tab's, first-party")
		assert.Nil(t, cookies[0].PartitionKey)

		d = openReports(t, f)
		assert.Contains(t, d.Text, "Signed in as Ada Lovelace", "the frame stays signed in on its next page")
	})

	t.Run("Allow first, then the new tab: the frame signs in, and the tab's Continue goes on with that session", func(t *testing.T) {
		s := startServer(t, nil, "-unpartitioned")
		b := newBrowser(t, thirdPartyCookies(false))
		f := blockedFrame(t, b, s, "?email=lin@example.com&firstName=Lin&lastName=Ng")
		// The tab is opened first, and left on its Continue page.
		require.NoError(t, chromedp.Do(f.ctx, chromedp.Click(chromedp.CSS("#newtab"))))
		tab := b.newTab(t, s.app)
		waitContinuePage(t, tab)

		grantStorageAccess(t, b, s)
		require.NoError(t, chromedp.Do(f.ctx, chromedp.Click(chromedp.CSS("#allow"))))
		d := waitDoc(t, f.ctx, "the dashboard in the frame", func(d doc) bool { return strings.Contains(d.Text, "Signed in as") })
		assert.Equal(t, s.app+"/dashboard", d.URL)
		assert.Contains(t, d.Text, "Signed in as Lin Ng · lin@example.com")
		assert.Equal(t, 1, s.logCount("embedsso: resumed"), "the frame's Allow signed in")

		require.NoError(t, chromedp.Do(tab, chromedp.Click(chromedp.CSS("#continue"))))
		d = waitDoc(t, tab, "the dashboard in the tab", func(d doc) bool { return strings.Contains(d.Text, "Signed in as") })
		assert.Equal(t, s.app+"/dashboard", d.URL)
		assert.Contains(t, d.Text, "Signed in as Lin Ng · lin@example.com")
		assert.Equal(t, 1, s.logCount("embedsso: resumed"), "the tab's spent ticket made no second session")
		assert.Equal(t, 1, s.logCount("embedsso: cookie_confirmed", "email=lin@example.com", "user="), "the tab's resume found the frame's session")
		assert.Zero(t, s.logCount("embedsso: refused"))
		require.Len(t, b.sessionCookies(t), 1, "one first-party session cookie, which the frame set with storage access")
	})

	t.Run("a grant that leaves the cookie blocked says so and signs no one in", func(t *testing.T) {
		s := startServer(t, nil)
		// The user blocked the app's cookies under the customer's site:
		// storage access granted changes nothing there.
		b := newBrowser(t, blockCookies(s.app, s.customer))
		f := blockedFrame(t, b, s, "")
		mark(t, f.ctx)
		grantStorageAccess(t, b, s)
		require.NoError(t, chromedp.Do(f.ctx, chromedp.Click(chromedp.CSS("#allow"))))
		// Chromium resolves the request (the permission is granted) but
		// keeps the user's block: the cookie set in the frame does not stick.
		waitStatus(t, f.ctx, accessIneffective)
		requests, navigations := b.stillFor(f.id, quietPeriod)
		assert.Zero(t, requests+navigations, "nothing posted")
		assert.True(t, stillMarked(t, f.ctx), "the same document")
		assert.Zero(t, s.logCount("embedsso: resumed"), "no second sign-in")
		assert.Empty(t, b.sessionCookies(t))
		b.screenshot(t, "ways-out-grant-changes-nothing.png")
	})

	t.Run("in a tab whose cookie is blocked too, the page speaks of the tab and offers no new tab", func(t *testing.T) {
		s := startServer(t, nil)
		b := newBrowser(t, blockCookies(s.app, "*"))
		f := blockedFrame(t, b, s, "")
		require.NoError(t, chromedp.Do(f.ctx, chromedp.Click(chromedp.CSS("#newtab"))))
		tab := b.newTab(t, s.app)
		waitContinuePage(t, tab)
		require.NoError(t, chromedp.Do(tab, chromedp.Click(chromedp.CSS("#continue"))))
		d := waitCheckPage(t, tab)
		assert.Contains(t, d.Text, tabPageText)
		assert.NotContains(t, d.Text, "inside another site")
		assert.NotContains(t, d.Text, "Open in a new tab")
		assert.Contains(t, d.Text, "Allow cookies for this site in the browser's settings")
		assert.False(t, eval[bool](t, tab, `!!document.getElementById("newtab") || !!document.getElementById("allow")`), "no link, no button")
		b.screenshot(t, "cookies-blocked-in-a-tab.png")
	})

	t.Run("the visitor who never signed in is told so", func(t *testing.T) {
		s := startServer(t, nil)
		b := newBrowser(t, thirdPartyCookies(true))
		_, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(s.app+"/dashboard"))
		require.NoError(t, err)
		d := waitDoc(t, b.ctx, "the page", func(d doc) bool { return d.Text != "" })
		assert.Equal(t, "You are not signed in", d.Title)
		assert.Contains(t, d.Text, "You are not signed in")
		assert.NotContains(t, d.Text, "session has ended")
	})
}
