package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The same scenarios in every engine. A driver is the least a scenario
// needs of a browser: load a page in the first tab, run a script in a tab
// or in the app's iframe inside it, click as a user does, list the tabs, and
// take a screenshot. Each engine speaks its own protocol to get there:
// Chromium the DevTools protocol (chromedp), Firefox WebDriver BiDi over a
// websocket, WebKitGTK W3C WebDriver classic over HTTP (WebKitWebDriver).

// engineWait bounds one condition in the engine scenarios: longer than
// waitTimeout, as WebKit under Xvfb on a shared 2-core machine can take
// seconds for one navigation.
const engineWait = 45 * time.Second

// place is where a script runs: a top-level tab (by the driver's handle for
// it), or the iframe #app inside that tab.
type place struct {
	tab   string
	frame bool
}

// driver drives one browser with a fresh profile.
type driver interface {
	// tabs lists the handles of the top-level tabs, the first one first.
	tabs() ([]string, error)
	// navigate loads url in tab and waits for its load event.
	navigate(tab, url string) error
	// eval evaluates the JavaScript expression expr (a promise is awaited)
	// in p's document and decodes its JSON value into out.
	eval(p place, expr string, out any) error
	// click clicks the element css selects in p as a user's mouse would,
	// with the user activation that Storage Access and new tabs require.
	click(p place, css string) error
	// screenshot is the tab as the user sees it, a PNG.
	screenshot(tab string) ([]byte, error)
}

// policy is a cookie setting of an engine's profile, in the words of that
// engine's own settings page.
type policy struct {
	name string // for the test's name and the matrix
	// frame is what the frame shows after the sign-in under this
	// setting: seesSignedIn, or seesCookiePage where the engine keeps no
	// cookie of the app's inside the customer's site.
	frame string
	// allow is what the cookie-check page's "Allow cookies and continue"
	// leads to where the frame shows that page: [0] before the user opened
	// the app in a new tab, [1] after. One of the allow* constants.
	allow [2]string
	// Only one of these is read, by its engine.
	chromium map[string]any // profile preferences
	firefox  map[string]any // user.js prefs
	webkit   []string       // MiniBrowser arguments
}

// engine is one browser engine on this machine.
type engine struct {
	name string
	// missing says what is not installed, or "" when the engine can run.
	missing func() string
	start   func(t *testing.T, p policy) driver
	// policies are the cookie settings its scenarios run under: the
	// engine's default first, then the stricter ones.
	policies []policy
}

var engines = []engine{chromiumEngine, firefoxEngine, webkitEngine}

// requireEngine skips the test when e is not installed, or fails it when
// $CI is set: CI must never pass by running nothing.
func requireEngine(t *testing.T, e engine) {
	t.Helper()
	if m := e.missing(); m != "" {
		msg := fmt.Sprintf("%s: %s", e.name, m)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// missingFiles names the first of paths that is not an executable file.
func missingFiles(hint string, paths ...string) string {
	for _, p := range paths {
		if strings.ContainsRune(p, filepath.Separator) {
			if fi, err := os.Stat(p); err != nil || fi.IsDir() {
				return fmt.Sprintf("no %s (%s)", p, hint)
			}
			continue
		}
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Sprintf("no %s on PATH (%s)", p, hint)
		}
	}
	return ""
}

// run is one scenario's browser: its driver and its first tab.
type run struct {
	t   *testing.T
	d   driver
	tab string // the first tab, where the customer page is
	eng string
}

func newRun(t *testing.T, e engine, p policy) *run {
	t.Helper()
	requireEngine(t, e)
	d := e.start(t, p)
	var tabs []string
	waitUntilFor(t, engineWait, "the browser's first tab", func() (bool, string) {
		var err error
		tabs, err = d.tabs()
		if err != nil {
			return false, err.Error()
		}
		return len(tabs) > 0, "no tab"
	})
	return &run{t: t, d: d, tab: tabs[0], eng: e.name}
}

func (r *run) top() place   { return place{tab: r.tab} }
func (r *run) frame() place { return place{tab: r.tab, frame: true} }

// open loads url in the first tab.
func (r *run) open(url string) {
	r.t.Helper()
	require.NoError(r.t, r.d.navigate(r.tab, url), "open %s", shortURL(url))
}

// eval evaluates expr in p and returns its value as T.
func evalIn[T any](r *run, p place, expr string) T {
	r.t.Helper()
	var v T
	require.NoError(r.t, r.d.eval(p, expr, &v), "evaluate %s", expr)
	return v
}

// waitIn waits until p's document is parsed and satisfies ok, and returns
// it. A script that fails meanwhile (the frame between two documents, or on
// another site for a moment) counts as not yet.
func (r *run) waitIn(p place, what string, ok func(doc) bool) doc {
	r.t.Helper()
	var d doc
	waitUntilFor(r.t, engineWait, what, func() (bool, string) {
		d = doc{}
		if err := r.d.eval(p, docJS, &d); err != nil {
			return false, err.Error()
		}
		return d.Parsed && ok(d), fmt.Sprintf("at %s (parsed %t): %.300q", shortURL(d.URL), d.Parsed, d.Text)
	})
	return d
}

func (r *run) click(p place, css string) {
	r.t.Helper()
	require.NoError(r.t, r.d.click(p, css), "click %s", css)
}

// newTab waits for a second top-level tab and returns its handle.
func (r *run) newTab() string {
	r.t.Helper()
	var tab string
	waitUntilFor(r.t, engineWait, "a new tab", func() (bool, string) {
		tabs, err := r.d.tabs()
		if err != nil {
			return false, err.Error()
		}
		for _, h := range tabs {
			if h != r.tab {
				tab = h
				return true, ""
			}
		}
		return false, fmt.Sprint(len(tabs), " tabs")
	})
	return tab
}

// screenshot saves the first tab to $E2E_OUT or e2e/out/ as ENGINE-name.
func (r *run) screenshot(name string) {
	r.t.Helper()
	buf, err := r.d.screenshot(r.tab)
	if err != nil { // a picture for people, not a claim: say so and go on
		r.t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := os.Getenv("E2E_OUT")
	if dir == "" {
		dir = "out"
	}
	dir, err = filepath.Abs(dir)
	require.NoError(r.t, err)
	require.NoError(r.t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, strings.ToLower(r.eng)+"-"+name)
	require.NoError(r.t, os.WriteFile(path, buf, 0o644))
	r.t.Logf("screenshot: %s (%d KB)", path, len(buf)/1024)
}

// waitUntilFor is waitUntil with its own deadline.
func waitUntilFor(t *testing.T, limit time.Duration, what string, cond func() (ok bool, seen string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; last saw: %s", limit, what, seen)
		}
		time.Sleep(pollInterval)
	}
}

// decodeJSON decodes the JSON text a wrapped script returned into out.
func decodeJSON(text string, out any) error {
	if text == "" || text == "undefined" {
		text = "null"
	}
	if err := json.Unmarshal([]byte(text), out); err != nil {
		return fmt.Errorf("decode %.200q: %w", text, err)
	}
	return nil
}

// jsonScript wraps expr so that it yields its value as JSON text, after
// awaiting it, or throws with the error's text.
func jsonScript(expr string) string {
	return "Promise.resolve((() => (" + expr + "))()).then(v => v === undefined ? \"null\" : JSON.stringify(v))"
}
