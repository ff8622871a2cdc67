package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
)

// Firefox ESR, driven through WebDriver BiDi, which Firefox speaks itself
// (--remote-debugging-port): no geckodriver. A fresh profile holds the
// cookie setting in user.js.

// firefoxPath is Debian's firefox-esr, or $E2E_FIREFOX.
func firefoxPath() string {
	if p := os.Getenv("E2E_FIREFOX"); p != "" {
		return p
	}
	return "/usr/bin/firefox-esr"
}

var firefoxEngine = engine{
	name:    "Firefox",
	missing: func() string { return missingFiles("apt-get install firefox-esr, or set E2E_FIREFOX", firefoxPath()) },
	start:   startFirefox,
	policies: []policy{
		// 5: Enhanced Tracking Protection's standard mode, the default:
		// third-party cookies are kept, each partitioned by top-level site.
		{name: "default settings", frame: seesSignedIn, firefox: map[string]any{"network.cookie.cookieBehavior": 5}},
		// 1: Settings → Privacy → Custom → Cookies: "All third-party cookies".
		{name: "third-party cookies blocked", frame: seesCookiePage, allow: [2]string{allowRefused, allowRefused}, firefox: map[string]any{"network.cookie.cookieBehavior": 1}},
	},
}

// firefoxPrefs keep a test profile quiet: no first-run pages, no updates,
// no telemetry. Nothing else differs from a new user's profile.
var firefoxPrefs = map[string]any{
	"browser.shell.checkDefaultBrowser":          false,
	"browser.startup.homepage_override.mstone":   "ignore",
	"browser.aboutwelcome.enabled":               false,
	"datareporting.policy.dataSubmissionEnabled": false,
	"toolkit.telemetry.reportingpolicy.firstRun": false,
	"app.update.disabledForTesting":              true,
	"browser.safebrowsing.malware.enabled":       false,
	"browser.safebrowsing.phishing.enabled":      false,
	"network.captive-portal-service.enabled":     false,
	"network.connectivity-service.enabled":       false,
	"browser.tabs.warnOnClose":                   false,
	"browser.link.open_newwindow":                3, // target=_blank opens a tab
}

var bidiListening = regexp.MustCompile(`WebDriver BiDi listening on (ws://\S+)`)

func startFirefox(t *testing.T, p policy) driver {
	t.Helper()
	profile := t.TempDir()
	prefs := map[string]any{}
	for k, v := range firefoxPrefs {
		prefs[k] = v
	}
	for k, v := range p.firefox {
		prefs[k] = v
	}
	var userJS strings.Builder
	keys := make([]string, 0, len(prefs))
	for k := range prefs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, _ := json.Marshal(prefs[k])
		fmt.Fprintf(&userJS, "user_pref(%q, %s);\n", k, v)
	}
	require.NoError(t, os.WriteFile(filepath.Join(profile, "user.js"), []byte(userJS.String()), 0o600))

	cmd := exec.Command(firefoxPath(), "--headless", "--no-remote", "--remote-debugging-port=0",
		"--profile", profile, "--width=1024", "--height=700", "about:blank")
	cmd.Env = append(os.Environ(), "MOZ_CRASHREPORTER_DISABLE=1", "MOZ_DISABLE_AUTO_SAFE_MODE=1")
	out := &syncBuffer{}
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	cmd.Stdout = out
	require.NoError(t, cmd.Start(), "start %s", firefoxPath())
	exited := make(chan struct{})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			out.Write([]byte(line + "\n"))
			if m := bidiListening.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(out, stderr)
	}()
	go func() { _ = cmd.Wait(); close(exited) }()

	f := &firefox{calls: map[int64]chan bidiAnswer{}}
	t.Cleanup(func() {
		if f.conn != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, _ = f.call(ctx, "browser.close", map[string]any{})
			cancel()
			_ = f.conn.CloseNow()
		}
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("firefox output:\n%s", out)
		}
	})

	var url string
	select {
	case url = <-found:
	case <-exited:
		t.Fatalf("firefox exited before WebDriver BiDi listened:\n%s", out)
	case <-time.After(engineWait):
		t.Fatalf("firefox did not say where WebDriver BiDi listens within %s:\n%s", engineWait, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), engineWait)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url+"/session", nil)
	require.NoError(t, err, "connect to %s", url)
	conn.SetReadLimit(64 << 20) // screenshots
	f.conn = conn
	go f.read()
	res, err := f.call(ctx, "session.new", map[string]any{"capabilities": map[string]any{
		"alwaysMatch": map[string]any{"acceptInsecureCerts": true},
	}})
	require.NoError(t, err, "session.new")
	var caps struct {
		Capabilities struct {
			BrowserName    string `json:"browserName"`
			BrowserVersion string `json:"browserVersion"`
		} `json:"capabilities"`
	}
	_ = json.Unmarshal(res, &caps)
	t.Logf("browser: %s %s (%s), %s", caps.Capabilities.BrowserName, caps.Capabilities.BrowserVersion, firefoxPath(), p.name)
	return f
}

// firefox is one WebDriver BiDi session.
type firefox struct {
	conn *websocket.Conn

	mu     sync.Mutex
	nextID int64
	calls  map[int64]chan bidiAnswer
	broken error
}

type bidiAnswer struct {
	Type    string          `json:"type"` // success, error or event
	ID      *int64          `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
}

// read hands each answer to its caller; events are not subscribed to.
func (f *firefox) read() {
	for {
		_, b, err := f.conn.Read(context.Background())
		if err != nil {
			f.mu.Lock()
			f.broken = err
			for id, c := range f.calls {
				close(c)
				delete(f.calls, id)
			}
			f.mu.Unlock()
			return
		}
		var a bidiAnswer
		if json.Unmarshal(b, &a) != nil || a.ID == nil {
			continue
		}
		f.mu.Lock()
		c := f.calls[*a.ID]
		delete(f.calls, *a.ID)
		f.mu.Unlock()
		if c != nil {
			c <- a
		}
	}
}

// call sends one command and waits for its answer.
func (f *firefox) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	f.mu.Lock()
	if f.broken != nil {
		f.mu.Unlock()
		return nil, f.broken
	}
	f.nextID++
	id := f.nextID
	c := make(chan bidiAnswer, 1)
	f.calls[id] = c
	f.mu.Unlock()
	b, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return nil, err
	}
	if err := f.conn.Write(ctx, websocket.MessageText, b); err != nil {
		return nil, err
	}
	select {
	case a, ok := <-c:
		if !ok {
			return nil, errors.New("the BiDi connection closed")
		}
		if a.Type == "error" {
			return nil, fmt.Errorf("%s: %s: %s", method, a.Error, a.Message)
		}
		return a.Result, nil
	case <-ctx.Done():
		f.mu.Lock()
		delete(f.calls, id)
		f.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

func (f *firefox) do(method string, params, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), engineWait)
	defer cancel()
	res, err := f.call(ctx, method, params)
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(res, out)
}

type bidiContext struct {
	Context  string        `json:"context"`
	URL      string        `json:"url"`
	Children []bidiContext `json:"children"`
}

func (f *firefox) tree(root string) ([]bidiContext, error) {
	params := map[string]any{}
	if root != "" {
		params["root"] = root
	}
	var res struct {
		Contexts []bidiContext `json:"contexts"`
	}
	err := f.do("browsingContext.getTree", params, &res)
	return res.Contexts, err
}

func (f *firefox) tabs() ([]string, error) {
	ctxs, err := f.tree("")
	var out []string
	for _, c := range ctxs {
		out = append(out, c.Context)
	}
	return out, err
}

// context is p's browsing context: the tab's, or its first child's (the
// customer page has one iframe).
func (f *firefox) context(p place) (string, error) {
	if !p.frame {
		return p.tab, nil
	}
	ctxs, err := f.tree(p.tab)
	if err != nil {
		return "", err
	}
	if len(ctxs) != 1 || len(ctxs[0].Children) == 0 {
		return "", errors.New("no iframe in the tab")
	}
	return ctxs[0].Children[0].Context, nil
}

func (f *firefox) navigate(tab, url string) error {
	return f.do("browsingContext.navigate", map[string]any{"context": tab, "url": url, "wait": "complete"}, nil)
}

// evaluate runs expr in p and returns BiDi's remote value of its result.
func (f *firefox) evaluate(p place, expr string) (json.RawMessage, error) {
	ctx, err := f.context(p)
	if err != nil {
		return nil, err
	}
	var res struct {
		Type             string          `json:"type"` // success or exception
		Result           json.RawMessage `json:"result"`
		ExceptionDetails struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	err = f.do("script.evaluate", map[string]any{
		"expression": expr, "target": map[string]any{"context": ctx},
		"awaitPromise": true, "resultOwnership": "none", "userActivation": false,
	}, &res)
	if err != nil {
		return nil, err
	}
	if res.Type != "success" {
		return nil, fmt.Errorf("script threw: %s", res.ExceptionDetails.Text)
	}
	return res.Result, nil
}

func (f *firefox) eval(p place, expr string, out any) error {
	raw, err := f.evaluate(p, jsonScript(expr))
	if err != nil {
		return err
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	return decodeJSON(v.Value, out)
}

// click moves a pointer onto the element and presses it: input actions
// in the element's own browsing context, which a frame can be in BiDi.
func (f *firefox) click(p place, css string) error {
	raw, err := f.evaluate(p, fmt.Sprintf(`document.querySelector(%q)`, css))
	if err != nil {
		return err
	}
	var node struct {
		Type     string `json:"type"`
		SharedID string `json:"sharedId"`
	}
	if err := json.Unmarshal(raw, &node); err != nil {
		return err
	}
	if node.Type != "node" || node.SharedID == "" {
		return fmt.Errorf("no element %s (%s)", css, raw)
	}
	ctx, err := f.context(p)
	if err != nil {
		return err
	}
	return f.do("input.performActions", map[string]any{"context": ctx, "actions": []any{map[string]any{
		"type": "pointer", "id": "mouse", "parameters": map[string]any{"pointerType": "mouse"},
		"actions": []any{
			map[string]any{"type": "pointerMove", "x": 0, "y": 0, "origin": map[string]any{"type": "element", "element": map[string]any{"sharedId": node.SharedID}}},
			map[string]any{"type": "pointerDown", "button": 0},
			map[string]any{"type": "pointerUp", "button": 0},
		},
	}}}, nil)
}

func (f *firefox) screenshot(tab string) ([]byte, error) {
	var res struct {
		Data string `json:"data"`
	}
	if err := f.do("browsingContext.captureScreenshot", map[string]any{"context": tab}, &res); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(res.Data)
}
