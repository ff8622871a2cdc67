package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// Every wait is bounded, so that a hang fails the test instead of stalling CI.
const (
	browserTimeout = 90 * time.Second // the whole life of one browser
	waitTimeout    = 15 * time.Second // one condition: a page, a target, a server
	quietPeriod    = 3 * time.Second  // how long a frame must stay put to show it does not loop
	pollInterval   = 100 * time.Millisecond
)

// The example server is built once, into binDir, on first use.
var (
	binDir    string
	buildOnce sync.Once
	serverBin string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "embedsso-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// chromiumPath returns Debian's Chromium. Without it the test skips, or
// fails when $CI is set: CI must never pass by running nothing.
func chromiumPath(t *testing.T) string {
	t.Helper()
	exe := os.Getenv("E2E_CHROMIUM")
	if exe == "" {
		exe = "/usr/bin/chromium"
	}
	if _, err := os.Stat(exe); err != nil {
		msg := fmt.Sprintf("no Chromium at %s (apt-get install chromium, or set E2E_CHROMIUM): %v", exe, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return exe
}

// serverBinary builds examples/server (its own module, joined to the core
// by go.work) and returns the binary's path.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		serverBin = filepath.Join(binDir, "server")
		cmd := exec.Command("go", "build", "-o", serverBin, ".")
		cmd.Dir = filepath.Join("..", "examples", "server")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./examples/server: %w\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return serverBin
}

// server is one run of the example server, as an outside process: the app on
// http://localhost:P2 and the customer site on http://127.0.0.1:P1.
type server struct {
	app, customer string
	out           *syncBuffer // its stdout and stderr: the banner and the slog lines
}

// org is one entry of the server's -orgs file.
type org struct {
	ID               string   `json:"id"`
	EmbeddingEnabled bool     `json:"embeddingEnabled"`
	JWTSecrets       []string `json:"jwtSecrets"`
	AllowedOrigins   []string `json:"allowedOrigins"`
	AllowedRoles     []string `json:"allowedRoles"`
}

// newSecret returns a fresh organization secret: 32 random bytes, as
// signer.GenerateSecret makes them.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// startServer runs the example server on two free loopback ports, with orgs
// as its -orgs file when not nil (else its demo org, which allows the
// customer site), and flags (such as -session-max 3s) after them, and stops
// it when the test ends.
func startServer(t *testing.T, orgs []org, flags ...string) *server {
	t.Helper()
	bin := serverBinary(t)
	var args []string
	if orgs != nil {
		b, err := json.Marshal(orgs)
		require.NoError(t, err)
		file := filepath.Join(t.TempDir(), "orgs.json")
		require.NoError(t, os.WriteFile(file, b, 0o600))
		args = append(args, "-orgs", file)
	}
	args = append(args, flags...)
	// A port picked free can be taken before the server binds it: try again.
	for attempt := 1; ; attempt++ {
		s, err := tryStartServer(t, bin, args)
		if err == nil {
			return s
		}
		if attempt == 3 {
			t.Fatalf("start the example server: %v", err)
		}
		t.Logf("start the example server (attempt %d): %v", attempt, err)
	}
}

func tryStartServer(t *testing.T, bin string, extra []string) (*server, error) {
	appPort, err := freePort()
	if err != nil {
		return nil, err
	}
	customerPort, err := freePort()
	if err != nil {
		return nil, err
	}
	scheme := "http://"
	for _, a := range extra {
		if a == "-tls" {
			scheme = "https://"
		}
	}
	s := &server{
		app:      scheme + "localhost:" + appPort,
		customer: scheme + "127.0.0.1:" + customerPort,
		out:      &syncBuffer{},
	}
	args := append([]string{"-addr", "localhost:" + appPort, "-customer-addr", "127.0.0.1:" + customerPort}, extra...)
	cmd := exec.Command(bin, args...)
	// Its working directory is its own, so whatever it stores there (the
	// example keeps a SQLite file by default) starts empty and goes away.
	cmd.Dir = t.TempDir()
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	deadline := time.Now().Add(waitTimeout)
	for !answers(s.app) || !answers(s.customer) {
		select {
		case <-exited:
			return nil, fmt.Errorf("%s exited (%v):\n%s", bin, waitErr, s.out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("%s did not answer within %s:\n%s", bin, waitTimeout, s.out)
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("example server output:\n%s", s.out)
		}
	})
	return s, nil
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// answers reports whether an HTTP server answers at base (any status).
// With -tls the example's certificate is its own, made for the run: no
// check of it here, which the example's own tests make.
func answers(base string) bool {
	c := http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	res, err := c.Get(base + "/e2e-ready")
	if err != nil {
		return false
	}
	res.Body.Close()
	return true
}

// logCount counts the server's log lines that contain every one of parts.
func (s *server) logCount(parts ...string) int {
	n := 0
	for _, line := range strings.Split(s.out.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

// syncBuffer is a bytes.Buffer safe for a process's writes and a test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Chromium profile preferences, written to Default/Preferences of a fresh
// user-data-dir before the browser starts. cookie_controls_mode is what
// chrome://settings/cookies writes: 0 allows third-party cookies, 1 blocks
// them. A cookies exception with setting 2 blocks the cookies of its first
// pattern's site wherever the top-level page matches its second pattern.
func thirdPartyCookies(allowed bool) map[string]any {
	mode := 1
	if allowed {
		mode = 0
	}
	return map[string]any{"profile": map[string]any{"cookie_controls_mode": mode}}
}

func blockCookies(site, topLevel string) map[string]any {
	return map[string]any{"profile": map[string]any{"content_settings": map[string]any{"exceptions": map[string]any{
		"cookies": map[string]any{site + "," + topLevel: map[string]any{"setting": 2}},
	}}}}
}

// browser is one headless Chromium with a fresh profile and one tab.
type browser struct {
	ctx context.Context // the tab
	rec *recorder
}

var logVersion sync.Once

// newBrowser starts Chromium with prefs as its profile's preferences and
// stops it when the test ends.
func newBrowser(t *testing.T, prefs map[string]any) *browser {
	t.Helper()
	return newBrowserWith(t, prefs)
}

// newBrowserWith is newBrowser with more command-line options.
func newBrowserWith(t *testing.T, prefs map[string]any, more ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	exe := chromiumPath(t)
	dir := t.TempDir()
	if prefs != nil {
		b, err := json.Marshal(prefs)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "Default"), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Default", "Preferences"), b, 0o600))
	}
	out := &syncBuffer{}
	// The defaults bring --headless, --no-first-run, --disable-background-networking
	// and --disable-sync.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1024, 700),
		chromedp.CombinedOutput(out),
	)
	opts = append(opts, more...)
	parent, cancelTimeout := context.WithTimeout(context.Background(), browserTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	rec := &recorder{}
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(rec.listen))
	// Registered after t.TempDir, so it runs before the profile is removed.
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit
		cancelTimeout()
		if t.Failed() {
			t.Logf("chromium output:\n%s", out)
		}
	})
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1024, 700)), "start %s", exe)
	logVersion.Do(func() {
		v, err := chromedp.CallBrowser(ctx, cdpbrowser.GetVersion, cdp.Empty{})
		require.NoError(t, err)
		t.Logf("browser: %s (%s), %s", v.Product, exe, v.UserAgent)
	})
	return &browser{ctx: ctx, rec: rec}
}

// open loads a customer page in the tab and returns the token its server
// minted into the iframe's src.
func (b *browser) open(t *testing.T, url string) (token string) {
	t.Helper()
	res, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(url))
	require.NoError(t, err, "open %s", url)
	require.EqualValues(t, http.StatusOK, res.Status, "the customer page %s", url)
	token = eval[string](t, b.ctx, `new URL(document.getElementById("app").src).searchParams.get("jwt") || ""`)
	require.NotEmpty(t, token, "the customer page's iframe carries no token")
	return token
}

// sessionCookies returns the app's session cookies in the whole profile,
// partitioned or not.
func (b *browser) sessionCookies(t *testing.T) []*network.Cookie {
	t.Helper()
	res, err := chromedp.CallBrowser(b.ctx, storage.GetCookies, storage.GetCookiesParams{})
	require.NoError(t, err)
	var out []*network.Cookie
	for _, c := range res.Cookies {
		if c.Name == "embedsso_session" {
			out = append(out, c)
		}
	}
	return out
}

// screenshot saves the tab as the user sees it (the customer page with the
// frame in it) to $E2E_OUT or e2e/out/.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	buf, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	dir := os.Getenv("E2E_OUT")
	if dir == "" {
		dir = "out"
	}
	dir, err = filepath.Abs(dir)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, buf, 0o644))
	t.Logf("screenshot: %s (%d KB)", path, len(buf)/1024)
}

// frame attaches to the tab's iframe once its document is on site (the
// app's origin). Chromium runs a cross-site iframe in its own process, as a
// target of its own (an OOPIF): the page's DOM and events do not reach
// into it, so the test attaches to that target.
func (b *browser) frame(t *testing.T, site string) *frame {
	t.Helper()
	var id string
	waitUntil(t, "an iframe on "+site, func() (bool, string) {
		infos, err := chromedp.Targets(b.ctx)
		if err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, i := range infos {
			if i.Type == "iframe" && strings.HasPrefix(i.URL, site+"/") {
				id = string(i.TargetID)
				return true, ""
			}
			seen = append(seen, string(i.Type)+" "+i.URL)
		}
		return false, strings.Join(seen, "; ")
	})
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(target.ID(id)),
		chromedp.WithListener(b.rec.listen), chromedp.WithDetachOnCancel())
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx), "attach to the iframe")
	return &frame{id: id, ctx: ctx}
}

// newTab waits for a tab other than the first one to load a page on site,
// and attaches to it.
func (b *browser) newTab(t *testing.T, site string) context.Context {
	t.Helper()
	first := chromedp.FromContext(b.ctx).Target.TargetID
	var id string
	waitUntil(t, "a new tab on "+site, func() (bool, string) {
		infos, err := chromedp.Targets(b.ctx)
		if err != nil {
			return false, err.Error()
		}
		for _, i := range infos {
			if i.Type == "page" && i.TargetID != first && strings.HasPrefix(i.URL, site+"/") {
				id = string(i.TargetID)
				return true, ""
			}
		}
		return false, fmt.Sprint(len(infos), " targets")
	})
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(target.ID(id)), chromedp.WithListener(b.rec.listen))
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx), "attach to the new tab")
	return ctx
}

// frame is the app's iframe, attached as a target of its own.
type frame struct {
	id  string // its frame id, which is also its target id
	ctx context.Context
}

// doc is what a document shows and knows about itself.
type doc struct {
	URL      string `json:"url"`
	Title    string `json:"title"`
	Text     string `json:"text"`
	Referrer string `json:"referrer"`
	// Parsed is false while the browser is still parsing the document; its
	// text is then a prefix of the page's and must not be judged.
	Parsed bool `json:"parsed"`
}

const docJS = `({url: location.href, title: document.title, text: document.body ? document.body.innerText : "", referrer: document.referrer, parsed: document.readyState !== "loading"})`

// waitDoc waits until the document in ctx is fully parsed and satisfies ok,
// and returns it.
func waitDoc(t *testing.T, ctx context.Context, what string, ok func(doc) bool) doc {
	t.Helper()
	var d doc
	waitUntil(t, what, func() (bool, string) {
		var err error
		d, err = chromedp.Run(ctx, chromedp.Evaluate[doc](docJS))
		if err != nil {
			return false, err.Error()
		}
		return d.Parsed && ok(d), fmt.Sprintf("at %s (parsed %t): %.300q", d.URL, d.Parsed, d.Text)
	})
	return d
}

// eval evaluates expr in ctx's document and returns its JSON value as T.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	require.NoError(t, err, "evaluate %s", expr)
	return v
}

// waitUntil polls cond until it holds, and fails the test with cond's last
// description of what it saw when it does not within waitTimeout.
func waitUntil(t *testing.T, what string, cond func() (ok bool, seen string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; last saw: %s", waitTimeout, what, seen)
		}
		time.Sleep(pollInterval)
	}
}

// hop is one answer to a document request: a redirect, the final response,
// or a response the browser then refused to show (Failure).
type hop struct {
	FrameID string
	URL     string
	Status  int64
	CSP     string // its Content-Security-Policy header
	Failure string // the net error the browser reported for it, if any
	request network.RequestID
}

func (h hop) String() string {
	s := fmt.Sprintf("%d %s", h.Status, h.URL)
	if h.Failure != "" {
		s += " (" + h.Failure + ")"
	}
	return s
}

// blockedCookie is a Set-Cookie the browser refused to store.
type blockedCookie struct {
	Name    string
	Reasons []network.SetCookieBlockedReason
}

// recorder keeps what the browser reports about documents, cookies and
// navigations, from the tab's target and from every target attached to
// later (the OOPIF frame, a new tab). Its listen runs on each target's
// reading goroutine.
type recorder struct {
	mu          sync.Mutex
	hops        []hop
	requests    []hop // every document request sent, before its answer
	blocked     []blockedCookie
	navigations []hop // Page.frameNavigated: FrameID and URL
	logs        []string
}

func (r *recorder) listen(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Type != network.ResourceTypeDocument {
			return
		}
		if rr := ev.RedirectResponse; rr != nil {
			r.hops = append(r.hops, hop{FrameID: string(ev.FrameID), URL: rr.URL, Status: rr.Status, CSP: header(rr.Headers, "Content-Security-Policy"), request: ev.RequestID})
		}
		r.requests = append(r.requests, hop{FrameID: string(ev.FrameID), URL: ev.Request.URL, request: ev.RequestID})
	case *network.EventResponseReceived:
		if ev.Type == network.ResourceTypeDocument {
			r.hops = append(r.hops, hop{FrameID: string(ev.FrameID), URL: ev.Response.URL, Status: ev.Response.Status, CSP: header(ev.Response.Headers, "Content-Security-Policy"), request: ev.RequestID})
		}
	case *network.EventLoadingFailed:
		if ev.Type != network.ResourceTypeDocument {
			return
		}
		for i := len(r.hops) - 1; i >= 0; i-- {
			if r.hops[i].request == ev.RequestID {
				r.hops[i].Failure = ev.ErrorText
				return
			}
		}
	case *network.EventResponseReceivedExtraInfo:
		for _, c := range ev.BlockedCookies {
			name, _, _ := strings.Cut(c.CookieLine, "=")
			r.blocked = append(r.blocked, blockedCookie{Name: name, Reasons: c.BlockedReasons})
		}
	case *page.EventFrameNavigated:
		r.navigations = append(r.navigations, hop{FrameID: string(ev.Frame.ID), URL: ev.Frame.URL})
	case *cdplog.EventEntryAdded:
		r.logs = append(r.logs, ev.Entry.Text)
	}
}

func header(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// appFrame returns the id of the first frame that requested a document from
// site (the iframe, seen from the tab before it became a target of its own).
func (r *recorder) appFrame(site string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, q := range r.requests {
		if strings.HasPrefix(q.URL, site+"/") {
			return q.FrameID, true
		}
	}
	return "", false
}

// lastAppFrame returns the id of the last frame that requested a document
// from site.
func (r *recorder) lastAppFrame(site string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.requests) - 1; i >= 0; i-- {
		if strings.HasPrefix(r.requests[i].URL, site+"/") {
			return r.requests[i].FrameID, true
		}
	}
	return "", false
}

// frameHops returns the answers to frameID's document requests, in order.
func (r *recorder) frameHops(frameID string) []hop {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []hop
	for _, h := range r.hops {
		if h.FrameID == frameID {
			out = append(out, h)
		}
	}
	return out
}

// frameRequests returns the URLs of frameID's document requests, in order.
func (r *recorder) frameRequests(frameID string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, q := range r.requests {
		if q.FrameID == frameID {
			out = append(out, q.URL)
		}
	}
	return out
}

// frameNavigations returns the URLs frameID committed, as Page.frameNavigated
// reported them (from the frame's own target once attached).
func (r *recorder) frameNavigations(frameID string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.navigations {
		if n.FrameID == frameID {
			out = append(out, n.URL)
		}
	}
	return out
}

func (r *recorder) blockedCookies() []blockedCookie {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]blockedCookie(nil), r.blocked...)
}

func (r *recorder) logEntries() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.logs...)
}

// loadFrame waits until the tab's iframe, loading from site, has a final
// answer (a non-redirect status) and returns the frame's id and its hops.
func (b *browser) loadFrame(t *testing.T, site string) (string, []hop) {
	t.Helper()
	var id string
	var hops []hop
	waitUntil(t, "the iframe's document from "+site, func() (bool, string) {
		var ok bool
		if id, ok = b.rec.appFrame(site); !ok {
			return false, "no request to " + site
		}
		hops = b.rec.frameHops(id)
		if n := len(hops); n > 0 && (hops[n-1].Status < 300 || hops[n-1].Status >= 400) {
			return true, ""
		}
		return false, fmt.Sprint(hops)
	})
	return id, hops
}

// statuses lists hops as "STATUS PATH?QUERY-NAME" for compact assertions,
// e.g. "302 /api/sso/jwt?jwt", "200 /dashboard".
func statuses(hops []hop) []string {
	out := make([]string, len(hops))
	for i, h := range hops {
		out[i] = fmt.Sprintf("%d %s", h.Status, shortURL(h.URL))
	}
	return out
}

// shortURL is a URL's path with only the names of its query parameters, so
// that no token or ticket lands in a test's output.
func shortURL(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[i:]
	} else {
		rest = "/"
	}
	path, query, ok := strings.Cut(rest, "?")
	if !ok {
		return path
	}
	var names []string
	for _, kv := range strings.Split(query, "&") {
		name, _, _ := strings.Cut(kv, "=")
		names = append(names, name)
	}
	return path + "?" + strings.Join(names, "&")
}

// stillFor watches frameID (a frame, or a tab's main frame) for d and
// returns how many document requests it sent and navigations it committed
// meanwhile: a frame that loops cannot show zero.
func (b *browser) stillFor(frameID string, d time.Duration) (requests, navigations int) {
	r0, n0 := len(b.rec.frameRequests(frameID)), len(b.rec.frameNavigations(frameID))
	time.Sleep(d)
	return len(b.rec.frameRequests(frameID)) - r0, len(b.rec.frameNavigations(frameID)) - n0
}
