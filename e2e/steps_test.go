package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The steps the tests share, each one a user's action and what it must show.

// signIn opens the customer page with query and waits for the frame to land
// on the dashboard, signed in. It checks the hops the frame went through:
// the login, the cookie check and the dashboard.
func signIn(t *testing.T, b *browser, s *server, query string) (*frame, doc) {
	t.Helper()
	b.open(t, s.customer+"/"+query)
	_, hops := b.loadFrame(t, s.app)
	require.Equal(t, []string{"302 /api/sso/jwt?jwt", "302 /api/sso/jwt?sso_check", "200 /dashboard"}, statuses(hops),
		"the frame's document requests")
	f := b.frame(t, s.app)
	d := waitDoc(t, f.ctx, "the dashboard, signed in", func(d doc) bool {
		return strings.HasSuffix(d.URL, "/dashboard") && strings.Contains(d.Text, "Signed in as")
	})
	return f, d
}

// openReports clicks the dashboard's Reports link inside the frame: a second
// navigation, which only a session cookie can keep signed in.
func openReports(t *testing.T, f *frame) doc {
	t.Helper()
	require.NoError(t, chromedp.Do(f.ctx, chromedp.Click(chromedp.CSS("#reports-link"))))
	return waitDoc(t, f.ctx, "the reports page", func(d doc) bool {
		return strings.HasSuffix(d.URL, "/reports") && (strings.Contains(d.Text, "Signed in as") || strings.Contains(d.Text, "not signed in"))
	})
}

// apiMe fetches /api/me from inside the frame, as the app's own scripts do.
type meResponse struct {
	Status int            `json:"status"`
	Body   map[string]any `json:"body"` // strings, and the attributes and groups
}

func apiMe(t *testing.T, f *frame) meResponse {
	t.Helper()
	return eval[meResponse](t, f.ctx, `fetch("/api/me").then(r => r.json().then(body => ({status: r.status, body})))`)
}

// assertOneSessionCookie checks the browser holds exactly one session
// cookie, with the attributes a cross-site frame needs, partitioned under
// topLevelSite.
func assertOneSessionCookie(t *testing.T, b *browser, topLevelSite string, crossSiteAncestor bool) {
	t.Helper()
	cookies := b.sessionCookies(t)
	require.Len(t, cookies, 1, "session cookies in the profile")
	c := cookies[0]
	assert.Equal(t, "localhost", c.Domain)
	assert.Equal(t, "/", c.Path)
	assert.True(t, c.HTTPOnly, "HttpOnly")
	assert.True(t, c.Secure, "Secure")
	assert.Equal(t, network.CookieSameSiteNone, c.SameSite)
	require.NotNil(t, c.PartitionKey, "the cookie is Partitioned (CHIPS)")
	assert.Equal(t, network.CookiePartitionKey{TopLevelSite: topLevelSite, HasCrossSiteAncestor: crossSiteAncestor}, *c.PartitionKey)
}

// unpartitionedCookieSticks sets an ordinary (unpartitioned) SameSite=None
// cookie from inside the frame and reports whether the browser kept it: the
// control that shows whether third-party cookies really are blocked here.
func unpartitionedCookieSticks(t *testing.T, f *frame) bool {
	t.Helper()
	return eval[bool](t, f.ctx, `(() => {
		document.cookie = "e2e_probe=1; SameSite=None; Secure; Path=/";
		const kept = document.cookie.split("; ").includes("e2e_probe=1");
		document.cookie = "e2e_probe=; SameSite=None; Secure; Path=/; Max-Age=0";
		return kept;
	})()`)
}

// checkPage is what the cookie-check page offers.
type checkPage struct {
	RequestStorageAccess bool   `json:"rsa"`         // the browser has document.requestStorageAccess
	ButtonShown          bool   `json:"buttonShown"` // the Storage Access button is visible
	Button               string `json:"button"`
	Link                 string `json:"link"`
	LinkHref             string `json:"linkHref"`
	LinkTarget           string `json:"linkTarget"`
	Status               string `json:"status"` // the line under the buttons
}

func readCheckPage(t *testing.T, ctx context.Context) checkPage {
	t.Helper()
	return eval[checkPage](t, ctx, `(() => {
		const b = document.getElementById("allow"), a = document.getElementById("newtab");
		return {rsa: typeof document.requestStorageAccess === "function",
			buttonShown: !!b && !b.hidden && b.offsetParent !== null, button: b ? b.textContent : "",
			link: a ? a.textContent : "", linkHref: a ? a.href : "", linkTarget: a ? a.target : "",
			status: document.getElementById("status").textContent};
	})()`)
}

const checkPageHeading = "Your browser blocked this app's sign-in cookie"

// waitCheckPage waits for the cookie-check page in ctx.
func waitCheckPage(t *testing.T, ctx context.Context) doc {
	t.Helper()
	return waitDoc(t, ctx, "the cookie-check page", func(d doc) bool { return strings.Contains(d.Text, checkPageHeading) })
}

// waitContinuePage waits for the "Continue as" page of a resume link in ctx.
func waitContinuePage(t *testing.T, ctx context.Context) doc {
	t.Helper()
	return waitDoc(t, ctx, "the Continue page", func(d doc) bool { return strings.Contains(d.Text, "Continue as") })
}

// mark tags the document in ctx, so that a later look can tell whether it
// is still the same document (no reload, no navigation).
func mark(t *testing.T, ctx context.Context) {
	t.Helper()
	eval[bool](t, ctx, `(window.__e2eMark = true)`)
}

func stillMarked(t *testing.T, ctx context.Context) bool {
	t.Helper()
	return eval[bool](t, ctx, `window.__e2eMark === true`)
}

// historyURLs lists the URLs of the frame's session history entries, as the
// Navigation API shows them to the frame itself.
func historyURLs(t *testing.T, f *frame) []string {
	t.Helper()
	return eval[[]string](t, f.ctx, `navigation.entries().map(e => e.url)`)
}

func containsAny(list []string, substr string) bool {
	for _, s := range list {
		if strings.Contains(s, substr) {
			return true
		}
	}
	return false
}

func shortURLs(urls []string) []string {
	out := make([]string, len(urls))
	for i, u := range urls {
		out[i] = shortURL(u)
	}
	return out
}
