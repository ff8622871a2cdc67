package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The cookie-check page's ways out in WebKit with tracking prevention on,
// through to a signed-in frame. After the user has visited the app in a
// tab, WebKit answers the frame's document.requestStorageAccess() by asking
// the browser to ask the user, and MiniBrowser cannot be made to answer:
// WebKitWebDriver 2.50 has no "Set Storage Access" or "Set Permission"
// command, and MiniBrowser under automation shows no question to click (see
// TestEngines' WebKit "tracking prevention" rows, which keep its real
// behaviour). So these scenarios run WebKitGTK in a browser of the test's
// own, testdata/webkitshell.py: about eighty lines of Python over the same
// libwebkit2gtk-4.1 MiniBrowser uses (GObject introspection), which
// WebKitWebDriver starts and drives exactly as it does MiniBrowser
// (--automation; WebKit's automation session; acceptInsecureCerts for the
// example's made certificate). It turns tracking prevention on as
// MiniBrowser's --enable-itp does, keeps MiniBrowser's default cookie
// policy (no third-party cookies), and answers WebKit's Storage Access
// question (a WebKitWebsiteDataAccessPermissionRequest) with Allow, as the
// user's click on Allow would, printing a line for each. It decides
// nothing else: whether to ask at all, and what the grant lets the frame
// keep, stay WebKit's.

// shellPython runs the shell: Debian's Python, where python3-gi and
// gir1.2-webkit2-4.1 install (not whatever python3 comes first on PATH).
const shellPython = "/usr/bin/python3"

// The shell's line for each Storage Access question it answered, the app
// (localhost) asking under the customer's site.
const (
	shellAllowed = "webkitshell: allowed storage access for localhost under 127.0.0.1"
	shellDenied  = "webkitshell: denied storage access for localhost under 127.0.0.1"
)

// webkitShellEngine is WebKitGTK in testdata/webkitshell.py.
var webkitShellEngine = engine{
	name: "WebKit",
	missing: func() string {
		if m := missingFiles("apt-get install webkit2gtk-driver xvfb python3-gi gir1.2-webkit2-4.1", webkitDriver, "Xvfb", shellPython); m != "" {
			return m
		}
		out, err := exec.Command(shellPython, "-c", `import gi; gi.require_version("Gtk", "3.0"); gi.require_version("WebKit2", "4.1"); from gi.repository import WebKit2`).CombinedOutput()
		if err != nil {
			return "no WebKit2 4.1 for Python (apt-get install python3-gi gir1.2-webkit2-4.1): " + strings.TrimSpace(string(out))
		}
		return ""
	},
	start: func(t *testing.T, p policy) driver {
		script, err := filepath.Abs(filepath.Join("testdata", "webkitshell.py"))
		require.NoError(t, err)
		return startWebKitDriver(t, "embedsso-webkitshell", shellPython, append([]string{script, "--automation"}, p.webkit...), p.name)
	},
}

// TestTheWaysOutInWebKit takes the cookie-check page's two ways out in
// WebKit with tracking prevention on, in both orders, and reaches a
// signed-in frame in each, with one sign-in: the frame, granted storage
// access, goes on with the session the tab made. And when the user answers
// WebKit's question with "Don't Allow", the page says so and stays.
func TestTheWaysOutInWebKit(t *testing.T) {
	start := time.Now()
	t.Cleanup(func() { t.Logf("wall time %s", time.Since(start).Round(time.Second)) })
	itp := policy{name: "tracking prevention, the test's browser", webkit: []string{"--enable-itp"}}

	t.Run("Allow (refused), new tab, Continue, Allow: the frame signs in", func(t *testing.T) {
		webkitWaysOut(t, itp, true)
	})
	t.Run("new tab, Continue, Allow: the frame signs in", func(t *testing.T) {
		webkitWaysOut(t, itp, false)
	})
	t.Run("new tab, Continue, Allow, the user says Don't Allow: the page says so", func(t *testing.T) {
		p := itp
		p.webkit = append([]string{"--deny-storage-access"}, p.webkit...)
		s, r, w := webkitBlockedFrame(t, p)
		webkitContinueInNewTab(t, s, r)
		r.click(r.frame(), "#allow")
		waitUntilFor(t, engineWait, "the Storage Access answer", func() (bool, string) {
			st := evalIn[checkPage](r, r.frame(), checkPageJS).Status
			return st == accessRefused, st
		})
		waitUntilFor(t, engineWait, "the shell's answer in its output", func() (bool, string) { return strings.Contains(w.out.String(), shellDenied), "" })
		assert.Equal(t, 1, strings.Count(w.out.String(), shellDenied), "WebKit asked, and the user said no")
		r.stays(r.frame(), "the cookie-check page after the refusal")
		assert.Equal(t, 1, s.logCount("embedsso: resumed"), "only the tab's Continue: nothing posted from the frame")
		assert.Equal(t, 1, s.logCount("embedsso: cookie_blocked"))
		assert.Zero(t, s.logCount("embedsso: refused"))
	})
}

// webkitBlockedFrame opens the customer page in a new browser under p and
// waits for the cookie-check page in its frame.
func webkitBlockedFrame(t *testing.T, p policy) (*server, *run, *webkit) {
	t.Helper()
	s := startServer(t, nil, "-tls")
	r := newRun(t, webkitShellEngine, p)
	r.open(s.customer + "/?email=lin@example.com&firstName=Lin&lastName=Ng")
	got, d := r.settle(r.frame(), "the frame to settle")
	require.Equal(t, seesCookiePage, got, "tracking prevention keeps no cookie of the app's in the frame: %.300q", d.Text)
	require.True(t, evalIn[bool](r, r.top(), `(window.__e2eMark = true)`))
	return s, r, r.d.(*webkit)
}

// webkitContinueInNewTab clicks "Open in a new tab" and the tab's Continue,
// and waits for the dashboard there; the frame keeps its page meanwhile.
func webkitContinueInNewTab(t *testing.T, s *server, r *run) {
	t.Helper()
	r.click(r.frame(), "#newtab")
	tab := place{tab: r.newTab()}
	got, d := r.settle(tab, "the new tab")
	require.Equal(t, seesContinuePage, got, "the new tab asks first: %.200q", d.Text)
	assert.Contains(t, d.Text, "Continue as lin@example.com")
	r.click(tab, "#continue")
	d = r.waitIn(tab, "the new tab after Continue", func(d doc) bool { k := sees(d); return k != "" && k != seesContinuePage })
	require.Equal(t, seesSignedIn, sees(d), "the new tab: %.200q", d.Text)
	assert.Equal(t, s.app+"/dashboard", d.URL)
	assert.Contains(t, d.Text, "Signed in as Lin Ng · lin@example.com · MEMBER · org_demo")
	assert.Equal(t, 1, s.logCount("embedsso: resumed"), "the tab's Continue signed in")
	got, d = r.settle(r.frame(), "the frame meanwhile")
	assert.Equal(t, seesCookiePage, got, "the frame is where it was: %.200q", d.Text)
}

// webkitWaysOut: with allowFirst, Allow before any visit to the app (WebKit
// refuses by itself), then the new tab and Allow; else the new tab, then
// Allow. Each ends with the frame signed in on the dashboard.
func webkitWaysOut(t *testing.T, p policy, allowFirst bool) {
	s, r, w := webkitBlockedFrame(t, p)
	asked := func() int { return strings.Count(w.out.String(), shellAllowed) }

	if allowFirst {
		// No visit to the app yet: WebKit refuses without asking the
		// browser. The page says so and stays.
		r.click(r.frame(), "#allow")
		waitUntilFor(t, engineWait, "the Storage Access answer", func() (bool, string) {
			st := evalIn[checkPage](r, r.frame(), checkPageJS).Status
			return st == accessRefused, st
		})
		r.stays(r.frame(), "the cookie-check page after the refusal")
		assert.Zero(t, asked(), "WebKit refused without asking the browser")
		assert.Equal(t, 1, s.logCount("embedsso: cookie_blocked"))
		assert.Zero(t, s.logCount("embedsso: resumed"), "nothing posted")
	}

	webkitContinueInNewTab(t, s, r)

	// Allow, now that the user has visited the app: WebKit asks the
	// browser, the shell answers Allow (the user's click), and the frame
	// goes on with the session the tab made.
	r.click(r.frame(), "#allow")
	d := r.waitIn(r.frame(), "the dashboard in the frame", func(d doc) bool { return sees(d) == seesSignedIn })
	assert.Equal(t, s.app+"/dashboard", d.URL)
	assert.Contains(t, d.Text, "Signed in as Lin Ng · lin@example.com · MEMBER · org_demo")
	waitUntilFor(t, engineWait, "the shell's answer in its output", func() (bool, string) { return asked() > 0, "" })
	assert.Equal(t, 1, asked(), "WebKit asked the browser once, after the tab's visit")
	r.screenshot("tracking-prevention-granted-" + map[bool]string{true: "allow-first", false: "tab-first"}[allowFirst] + ".png")

	assert.Equal(t, 1, s.logCount("embedsso: signed_in"), "the frame's one login")
	assert.Equal(t, 1, s.logCount("embedsso: resumed"), "no second sign-in: the frame used the tab's session")
	assert.Equal(t, 1, s.logCount("embedsso: cookie_confirmed", "email=lin@example.com", "user="), "the frame's resume found the session")
	assert.Zero(t, s.logCount("embedsso: refused"), "no ticket_invalid")
	assert.Equal(t, 1, s.logCount("embedsso: cookie_blocked"), "only the frame's first check failed")

	// The frame's next page and the API know the user too.
	r.click(r.frame(), "#reports-link")
	d = r.waitIn(r.frame(), "the reports page", func(d doc) bool { return strings.HasSuffix(d.URL, "/reports") && sees(d) != "" })
	assert.Equal(t, seesSignedIn, sees(d), "the frame's second page: %.200q", d.Text)
	assert.Contains(t, d.Text, "Signed in as Lin Ng · lin@example.com")
	me := evalIn[meResponse](r, r.frame(), `fetch("/api/me").then(r => r.json().then(body => ({status: r.status, body})))`)
	assert.Equal(t, 200, me.Status)
	assert.Equal(t, "lin@example.com", me.Body["email"])
	assert.True(t, evalIn[bool](r, r.top(), `window.__e2eMark === true`), "the customer page did not reload")
}
