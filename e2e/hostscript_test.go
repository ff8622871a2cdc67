package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The customer page's script (package hostscript, served by the app at
// /embedsso/v1.js), in every engine. The example's customer page with
// ?embed=manual imports it (window.embedsso) and frames nothing, so each
// test embeds the app with a getURL of its own and watches what the script
// does. The example's own customer page, which frames the app through the
// script, runs in TestEngines' scenarios.

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
func openManual(r *run, s *server) {
	r.t.Helper()
	r.open(s.customer + "/?embed=manual")
	waitUntilFor(r.t, engineWait, "the script's module", func() (bool, string) {
		var ok bool
		if err := r.d.eval(r.top(), `typeof window.embedsso === "object" && typeof window.embedsso.embed === "function"`, &ok); err != nil {
			return false, err.Error()
		}
		return ok, "no window.embedsso"
	})
}

// embedWith embeds the app in the page with a getURL that records its
// calls and answers with urls in turn (the last one again when they run
// out; "" means a promise that never settles), and opts (JavaScript
// properties, such as `returnTo: "/x",`) among embed's options. It counts
// the message listeners the script adds to and removes from window. The
// frame gets the id "app", which the drivers find it by (a renewal's new
// frame keeps it).
func embedWith(r *run, opts string, urls ...string) {
	r.t.Helper()
	evalIn[bool](r, r.top(), fmt.Sprintf(`(() => {
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
		app.iframe.id = "app";
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

const stateJS = `({events: state.events, calls: state.calls, added: state.added, removed: state.removed,
	frames: document.querySelectorAll("iframe").length, src: app.iframe ? app.iframe.src : "",
	hasIframe: app.iframe !== null, origin: app.origin})`

func waitState(r *run, what string, ok func(scriptState) bool) scriptState {
	r.t.Helper()
	var st scriptState
	waitUntilFor(r.t, engineWait, what, func() (bool, string) {
		st = scriptState{}
		if err := r.d.eval(r.top(), stateJS, &st); err != nil {
			return false, err.Error()
		}
		return ok(st), fmt.Sprintf("%+v", st)
	})
	return st
}

// postFromFrame makes the app's frame post msg to its parent, once, as the
// app's pages do. It first waits for the frame's page to have loaded; the
// post's own answer is not awaited, since a renewal may replace the frame
// before the driver hears it (WebKit's does), and posting again would be a
// second message. The caller waits for what the message causes.
func postFromFrame(r *run, site, msg string) {
	r.t.Helper()
	waitUntilFor(r.t, engineWait, "the frame's page", func() (bool, string) {
		var href string
		if err := r.d.eval(r.frame(), `document.readyState === "complete" ? location.href : ""`, &href); err != nil {
			return false, err.Error()
		}
		return strings.HasPrefix(href, site+"/"), href
	})
	var ok bool
	if err := r.d.eval(r.frame(), `(setTimeout(() => parent.postMessage(`+msg+`, "*")), true)`, &ok); err != nil {
		r.t.Logf("post %s: %v", msg, err)
	}
}

// TestTheCustomerScript runs the script's own tests in every engine, one
// browser at a time, each with its own server (-tls, for WebKit's cookies'
// sake: the same setup as TestEngines) and a fresh profile.
func TestTheCustomerScript(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			requireEngine(t, e)
			start := time.Now()
			t.Cleanup(func() { t.Logf("%s: wall time %s", e.name, time.Since(start).Round(time.Second)) })
			p := e.policies[0]
			for _, sc := range scriptScenarios {
				t.Run(sc.name, func(t *testing.T) {
					s := startServer(t, nil, "-tls")
					r := newRun(t, e, p)
					openManual(r, s)
					sc.run(r, s)
				})
			}
		})
	}
}

var scriptScenarios = []struct {
	name string
	run  func(r *run, s *server)
}{
	{"the browser runs the script only with its integrity hash", func(r *run, s *server) {
		load := func(query, integrity string) string {
			return evalIn[string](r, r.top(), fmt.Sprintf(`new Promise((resolve) => {
				const el = document.createElement("script");
				el.type = "module"; el.crossOrigin = "anonymous"; el.integrity = %q;
				el.src = %q;
				el.onload = () => resolve("ran"); el.onerror = () => resolve("refused");
				document.head.appendChild(el);
			})`, integrity, s.app+"/embedsso/v1.js?"+query))
		}
		good := evalIn[string](r, r.top(), `document.querySelector("script[integrity]").integrity`)
		assert.True(r.t, strings.HasPrefix(good, "sha384-"), good)
		assert.Equal(r.t, "ran", load("a", good), "the hash the app publishes")
		assert.Equal(r.t, "refused", load("b", "sha384-"+strings.Repeat("A", 64)), "another hash")
	}},
	{"it listens to the app's frame only, renews on session-expired with a new frame, and stops renewing a loop", func(r *run, s *server) {
		t := r.t
		embedWith(r, "", s.app+"/signed-out", s.app+"/signed-out?renewed")
		st := waitState(r, "the frame's first URL", func(st scriptState) bool { return st.Src != "" })
		assert.Equal(t, s.app+"/signed-out", st.Src)
		assert.Equal(t, []getURLCall{{}}, st.Calls)
		assert.Equal(t, s.app, st.Origin)
		evalIn[bool](r, r.top(), `(window.firstFrame = app.iframe, true)`)

		// The page itself, another origin, says the session expired: ignored.
		evalIn[bool](r, r.top(), `(window.postMessage({type: "embedsso:session-expired", orgId: "org_x", returnTo: "/x"}, "*"), true)`)
		// The app's frame says it signed in.
		postFromFrame(r, s.app, `{type: "embedsso:signed-in", orgId: "org_demo"}`)
		st = waitState(r, "the signed-in event", func(st scriptState) bool { return len(st.Events) > 0 })
		assert.Equal(t, []scriptEvent{{Type: "signed-in", OrgID: "org_demo"}}, st.Events, "the page's own message was not heard")
		assert.Len(t, st.Calls, 1)

		// The app's frame says its session expired: getURL is asked with
		// its returnTo, and a new frame loads the fresh URL in the old
		// one's place.
		postFromFrame(r, s.app, `{type: "embedsso:session-expired", orgId: "org_demo", returnTo: "/reports?tab=2"}`)
		st = waitState(r, "the renewal", func(st scriptState) bool { return strings.HasSuffix(st.Src, "?renewed") })
		assert.Equal(t, []getURLCall{{}, {ReturnTo: "/reports?tab=2"}}, st.Calls)
		assert.Equal(t, scriptEvent{Type: "session-expired", OrgID: "org_demo", ReturnTo: "/reports?tab=2"}, st.Events[1])
		assert.Equal(t, 1, st.Frames, "one frame in the page")
		assert.True(t, evalIn[bool](r, r.top(), `app.iframe !== window.firstFrame && !window.firstFrame.isConnected && app.iframe.id === "app"`),
			"a new frame, the old one gone")

		// Three renewals a minute at most: a frame that keeps ending does
		// not loop.
		for i := 2; i <= 4; i++ {
			postFromFrame(r, s.app, `{type: "embedsso:session-expired", orgId: "org_demo", returnTo: "/"}`)
			want := i
			waitState(r, fmt.Sprintf("session-expired #%d", i), func(st scriptState) bool {
				n := 0
				for _, e := range st.Events {
					if e.Type == "session-expired" {
						n++
					}
				}
				return n == want && len(st.Calls) == min(want+1, 4)
			})
		}
		st = waitState(r, "the error", func(st scriptState) bool { return st.Events[len(st.Events)-1].Type == "error" })
		assert.Len(t, st.Calls, 4, "the first URL and three renewals")
		assert.Equal(t, scriptEvent{Type: "error", Phase: "renew", Message: "embedsso: the session ended 3 times within a minute; not signing in again"}, st.Events[len(st.Events)-1])
	}},
	{"a URL off the app is refused with an error event and never loaded", func(r *run, s *server) {
		embedWith(r, "", s.customer+"/")
		st := waitState(r, "the error", func(st scriptState) bool { return len(st.Events) > 0 })
		assert.Equal(r.t, []scriptEvent{{Type: "error", Phase: "load", Message: "embedsso: getURL returned a URL outside the app (" + s.customer + ")"}}, st.Events)
		assert.Empty(r.t, st.Src)
	}},
	{"returnTo is given to the first getURL, and appOrigin names the only origin heard and loaded", func(r *run, s *server) {
		// The customer's own origin stands in for an app served elsewhere.
		embedWith(r, fmt.Sprintf("returnTo: %q, appOrigin: %q,", "/reports?tab=2", s.customer), s.customer+"/?embed=manual")
		st := waitState(r, "the frame's first URL", func(st scriptState) bool { return st.Src != "" })
		assert.Equal(r.t, []getURLCall{{ReturnTo: "/reports?tab=2"}}, st.Calls)
		assert.Equal(r.t, s.customer, st.Origin)
		assert.Equal(r.t, s.customer+"/?embed=manual", st.Src)
		assert.Empty(r.t, st.Events)

		// A window of that origin other than the frame (the page itself)
		// is not heard; the frame is.
		evalIn[bool](r, r.top(), `(window.postMessage({type: "embedsso:session-expired", orgId: "org_x", returnTo: "/x"}, "*"), true)`)
		// The frame is of the page's own origin here, so the page runs a
		// script inside it (Chromium's driver reaches only frames of
		// another site).
		waitUntilFor(r.t, engineWait, "the frame's page", func() (bool, string) {
			var ok bool
			err := r.d.eval(r.top(), `app.iframe.contentDocument !== null && app.iframe.contentDocument.readyState === "complete" &&
				app.iframe.contentWindow.location.href !== "about:blank"`, &ok)
			return err == nil && ok, fmt.Sprint(err)
		})
		evalIn[bool](r, r.top(), `(() => {
			const d = app.iframe.contentDocument, el = d.createElement("script");
			el.textContent = 'parent.postMessage({type: "embedsso:signed-in", orgId: "org_demo"}, "*")';
			d.body.appendChild(el);
			return true;
		})()`)
		st = waitState(r, "the frame's message", func(st scriptState) bool { return len(st.Events) > 0 })
		assert.Equal(r.t, []scriptEvent{{Type: "signed-in", OrgID: "org_demo"}}, st.Events)
		assert.Len(r.t, st.Calls, 1, "no renewal")
	}},
	{"destroy removes the frame and its listener and abandons a pending getURL", func(r *run, s *server) {
		embedWith(r, "", "") // a getURL that never answers
		st := waitState(r, "the pending call", func(st scriptState) bool { return len(st.Calls) == 1 })
		assert.Equal(r.t, 1, st.Added)
		assert.Equal(r.t, 1, st.Frames)
		evalIn[bool](r, r.top(), `(app.destroy(), app.destroy(), true)`)
		st = waitState(r, "the state after destroy", func(scriptState) bool { return true })
		assert.Equal(r.t, 1, st.Removed, "the listener it added, once")
		assert.Zero(r.t, st.Frames, "no iframe left in the page")
		assert.False(r.t, st.HasIframe)
		assert.Equal(r.t, []getURLCall{{Aborted: true}}, st.Calls, "getURL's signal aborted")
		assert.Empty(r.t, st.Events)
	}},
}

// TestTheCustomerPageFramesTheAppThroughTheScriptInChromium: the example's
// customer page loads the script pinned by its integrity and hears the
// frame sign in through it.
func TestTheCustomerPageFramesTheAppThroughTheScriptInChromium(t *testing.T) {
	chromiumPath(t)
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
}
