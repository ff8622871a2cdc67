package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The customer page's script (package hostscript, served by the app at
// /embedsso/v1.js), in a real browser. The example's customer page with
// ?embed=manual imports it (window.embedsso) and frames nothing, so each
// test embeds the app with a getURL of its own and watches what the script
// does.

// scriptEvent is one event the script raised, as the test page records it.
type scriptEvent struct {
	Type     string `json:"type"`
	OrgID    string `json:"orgId"`
	ReturnTo string `json:"returnTo"`
	Phase    string `json:"phase"`
	Message  string `json:"message"`
}

// getURLCall is one call of the test's getURL.
type getURLCall struct {
	ReturnTo string `json:"returnTo"`
	Aborted  bool   `json:"aborted"`
}

// scriptState is what the test page knows of the script.
type scriptState struct {
	Events    []scriptEvent `json:"events"`
	Calls     []getURLCall  `json:"calls"`
	Added     int           `json:"added"`   // message listeners added to window
	Removed   int           `json:"removed"` // and removed, the same function
	Frames    int           `json:"frames"`  // iframes in the page
	Src       string        `json:"src"`     // the script's iframe's src
	HasIframe bool          `json:"hasIframe"`
	Origin    string        `json:"origin"`
}

// openManual opens the customer page with ?embed=manual and waits for the
// script's module.
func openManual(t *testing.T, b *browser, s *server) {
	t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(s.customer+"/?embed=manual"))
	require.NoError(t, err)
	waitUntil(t, "the script's module", func() (bool, string) {
		ok := eval[bool](t, b.ctx, `typeof window.embedsso === "object" && typeof window.embedsso.embed === "function"`)
		return ok, "no window.embedsso"
	})
}

// embedWith embeds the app in the page with a getURL that records its
// calls and answers with urls in turn (the last one again when they run
// out; "" means a promise that never settles), and opts (JavaScript
// properties, such as `returnTo: "/x",`) among embed's options. It counts
// the message listeners the script adds to and removes from window.
func embedWith(t *testing.T, b *browser, opts string, urls ...string) {
	t.Helper()
	eval[bool](t, b.ctx, fmt.Sprintf(`(() => {
		const urls = %s;
		window.state = {events: [], calls: [], added: 0, removed: 0};
		const add = window.addEventListener, remove = window.removeEventListener;
		const mine = new Set();
		window.addEventListener = function (type, fn, o) {
			if (type === "message") { state.added++; mine.add(fn); }
			return add.call(this, type, fn, o);
		};
		window.removeEventListener = function (type, fn, o) {
			if (type === "message" && mine.has(fn)) state.removed++;
			return remove.call(this, type, fn, o);
		};
		const app = embedsso.embed({
			container: document.getElementById("frame-slot"),
			title: "under test", %s
			getURL: ({returnTo, signal}) => {
				const call = {returnTo: returnTo || "", aborted: false};
				state.calls.push(call);
				signal.addEventListener("abort", () => { call.aborted = true; });
				const u = urls[Math.min(state.calls.length - 1, urls.length - 1)];
				return u === "" ? new Promise(() => {}) : Promise.resolve(u);
			},
		});
		for (const type of ["signed-in", "session-expired", "error"]) {
			app.addEventListener(type, (e) => state.events.push({type, orgId: e.detail.orgId || "", returnTo: e.detail.returnTo || "",
				phase: e.detail.phase || "", message: e.detail.error ? e.detail.error.message : ""}));
		}
		window.app = app;
		return true;
	})()`, jsArray(urls), opts))
}

func jsArray(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ",") + "]"
}

func readState(t *testing.T, b *browser) scriptState {
	t.Helper()
	return eval[scriptState](t, b.ctx, `({events: state.events, calls: state.calls, added: state.added, removed: state.removed,
		frames: document.querySelectorAll("iframe").length, src: app.iframe ? app.iframe.src : "",
		hasIframe: app.iframe !== null, origin: app.origin})`)
}

func waitState(t *testing.T, b *browser, what string, ok func(scriptState) bool) scriptState {
	t.Helper()
	var st scriptState
	waitUntil(t, what, func() (bool, string) {
		st = readState(t, b)
		return ok(st), fmt.Sprintf("%+v", st)
	})
	return st
}

// postFromFrame makes the app's frame post msg to its parent, as the app's
// pages do.
func postFromFrame(t *testing.T, f *frame, msg string) {
	t.Helper()
	eval[bool](t, f.ctx, `(parent.postMessage(`+msg+`, "*"), true)`)
}

func TestTheCustomerScriptInChromium(t *testing.T) {
	chromiumPath(t)

	t.Run("the customer page frames the app with the script, pinned by its integrity, and hears it sign in", func(t *testing.T) {
		s := startServer(t, nil)
		b := newBrowser(t, thirdPartyCookies(true))
		signIn(t, b, s, "")
		waitUntil(t, "the signed-in event", func() (bool, string) {
			st := eval[string](t, b.ctx, `document.getElementById("frame-status").textContent`)
			return st == "· signed in", st
		})
		ms := hostMessages(t, b)
		require.NotEmpty(t, ms)
		assert.Equal(t, message{Type: "embedsso:signed-in", OrgID: "org_demo"}, ms[0])
		assert.Equal(t, s.app, eval[string](t, b.ctx, `embedded.origin`), "the app's origin, from the script's own URL")
		assert.Equal(t, "Analytics, powered by Chartly", eval[string](t, b.ctx, `document.getElementById("app").title`))
		integrity := eval[string](t, b.ctx, `document.querySelector("script[integrity]").integrity`)
		assert.True(t, strings.HasPrefix(integrity, "sha384-"), integrity)
	})

	t.Run("the browser runs the script only with its integrity hash", func(t *testing.T) {
		s := startServer(t, nil)
		b := newBrowser(t, thirdPartyCookies(true))
		openManual(t, b, s)
		load := func(query, integrity string) string {
			return eval[string](t, b.ctx, fmt.Sprintf(`new Promise((resolve) => {
				const el = document.createElement("script");
				el.type = "module"; el.crossOrigin = "anonymous"; el.integrity = %q;
				el.src = %q;
				el.onload = () => resolve("ran"); el.onerror = () => resolve("refused");
				document.head.appendChild(el);
			})`, integrity, s.app+"/embedsso/v1.js?"+query))
		}
		good := eval[string](t, b.ctx, `document.querySelector("script[integrity]").integrity`)
		assert.Equal(t, "ran", load("a", good), "the hash the app publishes")
		assert.Equal(t, "refused", load("b", "sha384-"+strings.Repeat("A", 64)), "another hash")
	})

	t.Run("it listens to the app's frame only, renews on session-expired, and stops renewing a loop", func(t *testing.T) {
		s := startServer(t, nil)
		b := newBrowser(t, thirdPartyCookies(true))
		openManual(t, b, s)
		embedWith(t, b, "", s.app+"/signed-out", s.app+"/signed-out?renewed")
		st := waitState(t, b, "the frame's first URL", func(st scriptState) bool { return st.Src != "" })
		assert.Equal(t, s.app+"/signed-out", st.Src)
		assert.Equal(t, []getURLCall{{}}, st.Calls)
		assert.Equal(t, s.app, st.Origin)
		f := b.frame(t, s.app)

		// The page itself, another origin, says the session expired: ignored.
		eval[bool](t, b.ctx, `(window.postMessage({type: "embedsso:session-expired", orgId: "org_x", returnTo: "/x"}, "*"), true)`)
		// The app's frame says it signed in.
		postFromFrame(t, f, `{type: "embedsso:signed-in", orgId: "org_demo"}`)
		st = waitState(t, b, "the signed-in event", func(st scriptState) bool { return len(st.Events) > 0 })
		assert.Equal(t, []scriptEvent{{Type: "signed-in", OrgID: "org_demo"}}, st.Events, "the page's own message was not heard")
		assert.Len(t, st.Calls, 1)

		// The app's frame says its session expired: getURL is asked with
		// its returnTo, and the frame loads the fresh URL.
		postFromFrame(t, f, `{type: "embedsso:session-expired", orgId: "org_demo", returnTo: "/reports?tab=2"}`)
		st = waitState(t, b, "the renewal", func(st scriptState) bool { return strings.HasSuffix(st.Src, "?renewed") })
		assert.Equal(t, []getURLCall{{}, {ReturnTo: "/reports?tab=2"}}, st.Calls)
		assert.Equal(t, scriptEvent{Type: "session-expired", OrgID: "org_demo", ReturnTo: "/reports?tab=2"}, st.Events[1])

		// Three renewals a minute at most: a frame that keeps ending does
		// not loop.
		for i := 2; i <= 4; i++ {
			f = b.frame(t, s.app)
			postFromFrame(t, f, `{type: "embedsso:session-expired", orgId: "org_demo", returnTo: "/"}`)
			want := i
			waitState(t, b, fmt.Sprintf("session-expired #%d", i), func(st scriptState) bool {
				n := 0
				for _, e := range st.Events {
					if e.Type == "session-expired" {
						n++
					}
				}
				return n == want && (len(st.Calls) == min(want+1, 4))
			})
		}
		st = waitState(t, b, "the error", func(st scriptState) bool { return st.Events[len(st.Events)-1].Type == "error" })
		assert.Len(t, st.Calls, 4, "the first URL and three renewals")
		assert.Equal(t, scriptEvent{Type: "error", Phase: "renew", Message: "embedsso: the session ended 3 times within a minute; not signing in again"}, st.Events[len(st.Events)-1])
	})

	t.Run("a URL off the app is refused with an error event and never loaded", func(t *testing.T) {
		s := startServer(t, nil)
		b := newBrowser(t, thirdPartyCookies(true))
		openManual(t, b, s)
		embedWith(t, b, "", s.customer+"/")
		st := waitState(t, b, "the error", func(st scriptState) bool { return len(st.Events) > 0 })
		assert.Equal(t, []scriptEvent{{Type: "error", Phase: "load", Message: "embedsso: getURL returned a URL outside the app (" + s.customer + ")"}}, st.Events)
		assert.Empty(t, st.Src)
	})

	t.Run("returnTo is given to the first getURL, and appOrigin names the only origin heard and loaded", func(t *testing.T) {
		s := startServer(t, nil)
		b := newBrowser(t, thirdPartyCookies(true))
		openManual(t, b, s)
		// The customer's own origin stands in for an app served elsewhere.
		embedWith(t, b, fmt.Sprintf("returnTo: %q, appOrigin: %q,", "/reports?tab=2", s.customer), s.customer+"/?embed=manual")
		st := waitState(t, b, "the frame's first URL", func(st scriptState) bool { return st.Src != "" })
		assert.Equal(t, []getURLCall{{ReturnTo: "/reports?tab=2"}}, st.Calls)
		assert.Equal(t, s.customer, st.Origin)
		assert.Equal(t, s.customer+"/?embed=manual", st.Src)
		assert.Empty(t, st.Events)
	})

	t.Run("destroy removes the frame and its listener and abandons a pending getURL", func(t *testing.T) {
		s := startServer(t, nil)
		b := newBrowser(t, thirdPartyCookies(true))
		openManual(t, b, s)
		embedWith(t, b, "", "") // a getURL that never answers
		st := waitState(t, b, "the pending call", func(st scriptState) bool { return len(st.Calls) == 1 })
		assert.Equal(t, 1, st.Added)
		assert.Equal(t, 1, st.Frames)
		eval[bool](t, b.ctx, `(app.destroy(), app.destroy(), true)`)
		st = readState(t, b)
		assert.Equal(t, 1, st.Removed, "the listener it added, once")
		assert.Zero(t, st.Frames, "no iframe left in the page")
		assert.False(t, st.HasIframe)
		assert.Equal(t, []getURLCall{{Aborted: true}}, st.Calls, "getURL's signal aborted")
		assert.Empty(t, st.Events)
	})
}
