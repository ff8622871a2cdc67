package e2e

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// WebKitGTK, the engine of Safari, driven through WebKitWebDriver (W3C
// WebDriver classic over HTTP) with its MiniBrowser. MiniBrowser has no
// headless mode, so each browser gets an X server of its own (Xvfb).

const webkitDriver = "/usr/bin/WebKitWebDriver"

// miniBrowserPath is WebKitGTK's MiniBrowser, or $E2E_MINIBROWSER.
func miniBrowserPath() string {
	if p := os.Getenv("E2E_MINIBROWSER"); p != "" {
		return p
	}
	return "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
}

var webkitEngine = engine{
	name: "WebKit",
	missing: func() string {
		return missingFiles("apt-get install webkit2gtk-driver xvfb, or set E2E_MINIBROWSER", webkitDriver, miniBrowserPath(), "Xvfb")
	},
	start: startWebKit,
	policies: []policy{
		// MiniBrowser's own default (--cookies-policy=no-third-party):
		// a third-party frame may not set cookies.
		{name: "default settings", frame: seesCookiePage, allow: [2]string{allowIneffective, allowIneffective}},
		{name: "third-party cookies allowed", frame: seesSignedIn, webkit: []string{"--cookies-policy=always"}},
		// Intelligent Tracking Prevention, as Safari has it on by default.
		{name: "tracking prevention", frame: seesCookiePage, allow: [2]string{allowRefused, allowPending}, webkit: []string{"--enable-itp"}},
	},
}

// startXvfb starts an X server on a free display and returns its name.
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start(), "start Xvfb")
	w.Close()
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		r.Close()
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		require.NotEmpty(t, n, "Xvfb named no display:\n%s", out)
		return ":" + n
	case <-time.After(engineWait):
		t.Fatalf("Xvfb did not start within %s:\n%s", engineWait, out)
	}
	return ""
}

func startWebKit(t *testing.T, p policy) driver {
	t.Helper()
	// A fresh MiniBrowser per session: WebKitWebDriver starts it with
	// --automation and an ephemeral profile; p's arguments come after.
	return startWebKitDriver(t, "MiniBrowser", miniBrowserPath(), append([]string{"--automation"}, p.webkit...), p.name)
}

// startWebKitDriver starts WebKitWebDriver on an X server of its own and a
// session in which it runs binary with args, a browser that names itself
// name. The browser's output joins the driver's (webkit.out).
func startWebKitDriver(t *testing.T, name, binary string, args []string, setting string) *webkit {
	t.Helper()
	display := startXvfb(t)
	port, err := freePort()
	require.NoError(t, err)
	cmd := exec.Command(webkitDriver, "--port="+port)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// The browser inherits the driver's output: should it outlive the
	// driver, Wait stops waiting for the pipe after this, not never.
	cmd.WaitDelay = 5 * time.Second
	require.NoError(t, cmd.Start(), "start %s", webkitDriver)
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	w := &webkit{base: "http://127.0.0.1:" + port, out: out}
	t.Cleanup(func() {
		if w.session != "" {
			_ = w.do(http.MethodDelete, "", nil, nil)
		}
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("WebKitWebDriver output:\n%s", out)
		}
	})
	waitUntilFor(t, engineWait, "WebKitWebDriver to answer", func() (bool, string) {
		res, err := http.Get(w.base + "/status")
		if err != nil {
			return false, err.Error()
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK, res.Status
	})
	var res struct {
		SessionID    string         `json:"sessionId"`
		Capabilities map[string]any `json:"capabilities"`
	}
	err = w.do(http.MethodPost, "/session", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName":              name,
		"acceptInsecureCerts":      true,
		"webkitgtk:browserOptions": map[string]any{"binary": binary, "args": args},
	}}}, &res)
	require.NoError(t, err, "new session")
	w.session = "/session/" + res.SessionID
	t.Logf("browser: %v %v (%s), %s", res.Capabilities["browserName"], res.Capabilities["browserVersion"], binary, setting)
	require.NoError(t, w.do(http.MethodPost, "/timeouts", map[string]any{"script": 30_000, "pageLoad": 60_000, "implicit": 0}, nil))
	return w
}

// webkit is one WebDriver classic session. Its commands act on a current
// tab and frame, which each method first switches to.
type webkit struct {
	base    string
	session string      // "/session/ID"
	out     *syncBuffer // the driver's output and its browser's
}

// do sends one command of the session (path after /session/ID; with no
// session yet, the whole path) and decodes its value into out.
func (w *webkit) do(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, w.base+w.session+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	c := http.Client{Timeout: 2 * engineWait}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var v struct {
		Value json.RawMessage `json:"value"`
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("%s %s: %s: %.200q", method, path, res.Status, b)
	}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(v.Value, &e)
		return fmt.Errorf("%s %s: %s: %s", method, path, e.Error, e.Message)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(v.Value, out)
}

func (w *webkit) tabs() ([]string, error) {
	var handles []string
	err := w.do(http.MethodGet, "/window/handles", nil, &handles)
	return handles, err
}

// The key of an element reference in WebDriver's JSON.
const elementKey = "element-6066-11e4-a52e-4f735466cecf"

// enter makes p the current browsing context.
func (w *webkit) enter(p place) error {
	if err := w.do(http.MethodPost, "/window", map[string]any{"handle": p.tab}, nil); err != nil {
		return err
	}
	if err := w.do(http.MethodPost, "/frame", map[string]any{"id": nil}, nil); err != nil {
		return err
	}
	if !p.frame {
		return nil
	}
	el, err := w.find("#app")
	if err != nil {
		return err
	}
	return w.do(http.MethodPost, "/frame", map[string]any{"id": map[string]string{elementKey: el}}, nil)
}

func (w *webkit) find(css string) (string, error) {
	var ref map[string]string
	if err := w.do(http.MethodPost, "/element", map[string]any{"using": "css selector", "value": css}, &ref); err != nil {
		return "", err
	}
	if ref[elementKey] == "" {
		return "", errors.New("no element " + css)
	}
	return ref[elementKey], nil
}

func (w *webkit) navigate(tab, url string) error {
	if err := w.enter(place{tab: tab}); err != nil {
		return err
	}
	return w.do(http.MethodPost, "/url", map[string]any{"url": url}, nil)
}

func (w *webkit) eval(p place, expr string, out any) error {
	if err := w.enter(p); err != nil {
		return err
	}
	var text string
	err := w.do(http.MethodPost, "/execute/async", map[string]any{
		"script": "const done = arguments[arguments.length - 1]; " + jsonScript(expr) +
			`.then(done, e => done(JSON.stringify({__e2eError: String(e)})))`,
		"args": []any{},
	}, &text)
	if err != nil {
		return err
	}
	var failed struct {
		Err string `json:"__e2eError"`
	}
	if json.Unmarshal([]byte(text), &failed) == nil && failed.Err != "" {
		return errors.New("script threw: " + failed.Err)
	}
	return decodeJSON(text, out)
}

func (w *webkit) click(p place, css string) error {
	if err := w.enter(p); err != nil {
		return err
	}
	el, err := w.find(css)
	if err != nil {
		return err
	}
	return w.do(http.MethodPost, "/element/"+el+"/click", map[string]any{}, nil)
}

func (w *webkit) screenshot(tab string) ([]byte, error) {
	if err := w.enter(place{tab: tab}); err != nil {
		return nil, err
	}
	var data string
	if err := w.do(http.MethodGet, "/screenshot", nil, &data); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(data)
}
