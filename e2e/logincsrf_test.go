package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// portalToken signs query's user in to the customer's portal, outside the
// browser, and returns the token its page puts in the iframe's src: the
// token an attacker who is a user of the customer gets for themselves.
func portalToken(t *testing.T, s *server, query string) string {
	t.Helper()
	res, err := http.Get(s.customer + "/" + query)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	// The page's script gives the frame this URL first (its getURL).
	m := regexp.MustCompile(`let first = ("(?:[^"\\]|\\.)*");`).FindSubmatch(body)
	require.NotNil(t, m, "the portal page's first SSO URL")
	var src string
	require.NoError(t, json.Unmarshal(m[1], &src), "a JavaScript string as html/template writes it")
	_, token, ok := strings.Cut(src, "jwt=")
	require.True(t, ok, src)
	token, _, _ = strings.Cut(token, "&")
	return token
}

// attackerSite serves one page, on a site other than the app's, with
// Referrer-Policy: no-referrer: its button opens the app top-level, then
// 1.5 s later sends that same window to the app's login with the
// attacker's own token.
func attackerSite(t *testing.T, app, token string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Referrer-Policy", "no-referrer")
		fmt.Fprintf(w, `<!doctype html><title>Win a prize</title><button id="go">Claim</button>
<script>
document.getElementById("go").onclick = () => {
  const w = window.open(%q, "_blank");
  setTimeout(() => { w.location = %q; }, 1500);
};
</script>`, app+"/dashboard", app+"/api/sso/jwt?jwt="+token)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Issue 16, finding 1, as the issue saw it in Chromium: a victim who once
// signed in top-level (the cookie-blocked page's "Open in a new tab") and
// whose session has since ended visits an attacker's page, which opens the
// app top-level and then sends the same window to the login with the
// attacker's own token and no Referer. Before the fix the victim's browser
// ended up signed in as the attacker.
func TestTheLoginURLLoginCSRFIsRefusedInChromium(t *testing.T) {
	chromiumPath(t)
	s := startServer(t, nil, "-session-max", sessionMax)
	b := newBrowser(t, blockCookies(s.app, s.customer))

	// The victim signs in top-level once, through the resume in a new tab.
	// Their portal's LoginURL cannot mint a token (renew=fail), as when the
	// victim is no longer signed in at the customer's either.
	b.open(t, s.customer+"/?email=victim@example.com&firstName=Vic&lastName=Tim&renew=fail")
	_, hops := b.loadFrame(t, s.app)
	require.Equal(t, []string{"302 /api/sso/jwt?jwt", "401 /api/sso/jwt?sso_check"}, statuses(hops))
	f := b.frame(t, s.app)
	waitCheckPage(t, f.ctx)
	require.NoError(t, chromedp.Do(f.ctx, chromedp.Click(chromedp.CSS("#newtab"))))
	tab := b.newTab(t, s.app)
	waitContinuePage(t, tab)
	require.NoError(t, chromedp.Do(tab, chromedp.Click(chromedp.CSS("#continue"))))
	d := waitDoc(t, tab, "the dashboard in the new tab", func(d doc) bool { return strings.Contains(d.Text, "Signed in as") })
	require.Contains(t, d.Text, "victim@example.com")
	_, err := chromedp.Call(tab, page.Close, cdp.Empty{})
	require.NoError(t, err)
	waitSessionEnded(t, b)

	// The attacker, a user of the same customer, has a token of their own.
	token := portalToken(t, s, "?email=mallory@example.com&firstName=Mal&lastName=Lory")
	evil := attackerSite(t, s.app, token)
	_, err = chromedp.Run(b.ctx, chromedp.NavigateResponse(evil+"/"))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#go"))))

	popup := b.newTab(t, s.app)
	d = waitDoc(t, popup, "the attacker's login to be answered", func(d doc) bool {
		return strings.Contains(d.URL, "/api/sso/jwt") || strings.Contains(d.Text, "Signed in as")
	})
	assert.NotContains(t, d.Text, "mallory@example.com", "the victim's browser is not signed in as the attacker")
	assert.Contains(t, d.Text, "code: origin_missing")
	assert.Empty(t, b.sessionCookies(t), "no session cookie anywhere in the profile")

	assert.Equal(t, 1, s.logCount("embedsso: refused", "code=origin_missing", "status=403"))
	assert.Zero(t, s.logCount("mallory"), "no outcome names the attacker: no signature was judged")
	assert.Zero(t, s.logCount("embedsso: login_redirect"), "the app opened top-level began no LoginURL trip")
	assert.Equal(t, 1, s.logCount("embedsso: signed_in"), "only the victim's first login in the frame")
}
