package e2e

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// Chromium as one of the engines: the same headless browser as
// TestEmbeddingInChromium (newBrowser), seen through the driver interface.

var chromiumEngine = engine{
	name: "Chromium",
	missing: func() string {
		if p := os.Getenv("E2E_CHROMIUM"); p != "" {
			return missingFiles("set E2E_CHROMIUM", p)
		}
		return missingFiles("apt-get install chromium, or set E2E_CHROMIUM", "/usr/bin/chromium")
	},
	start: func(t *testing.T, p policy) driver {
		t.Helper()
		// The example's -tls certificate is its own: accept it, as a
		// developer does once by hand.
		b := newBrowserWith(t, p.chromium, chromedp.Flag("ignore-certificate-errors", true))
		t.Logf("browser: Chromium, %s", p.name)
		return &chromium{b: b, first: chromedp.FromContext(b.ctx).Target.TargetID, attached: map[target.ID]context.Context{}}
	},
	policies: []policy{
		{name: "default settings", frame: seesSignedIn, chromium: thirdPartyCookies(true)},
		{name: "third-party cookies blocked", frame: seesSignedIn, chromium: thirdPartyCookies(false)},
		// A site exception, as chrome://settings/content/cookies adds it:
		// the app's site may not use cookies inside the customer's site.
		{name: "the app's cookies blocked in the customer's site", frame: seesCookiePage, allow: [2]string{allowRefused, allowRefused}, chromium: blockCookies("[*.]localhost", "127.0.0.1")},
	},
}

// chromium drives the tabs and the cross-site iframe, each a target of its
// own, by attaching to them.
type chromium struct {
	b     *browser
	first target.ID

	mu       sync.Mutex
	attached map[target.ID]context.Context
}

func (c *chromium) tabs() ([]string, error) {
	infos, err := chromedp.Targets(c.b.ctx)
	if err != nil {
		return nil, err
	}
	out := []string{string(c.first)}
	for _, i := range infos {
		if i.Type == "page" && i.TargetID != c.first {
			out = append(out, string(i.TargetID))
		}
	}
	return out, nil
}

// ctx is p's target: the tab, or the tab's out-of-process iframe. The
// customer page has one iframe, on another site, so the one iframe target
// is the app's frame (while it is on the customer's own site, during a
// LoginURL round trip, it has none and this fails: the callers poll).
func (c *chromium) ctx(p place) (context.Context, target.ID, error) {
	id := target.ID(p.tab)
	if p.frame {
		infos, err := chromedp.Targets(c.b.ctx)
		if err != nil {
			return nil, "", err
		}
		id = ""
		for _, i := range infos {
			if i.Type == "iframe" {
				id = i.TargetID
			}
		}
		if id == "" {
			return nil, "", errors.New("no out-of-process iframe")
		}
	}
	if id == c.first {
		return c.b.ctx, id, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ctx, ok := c.attached[id]; ok {
		return ctx, id, nil
	}
	ctx, _ := chromedp.NewContext(c.b.ctx, chromedp.WithTargetID(id), chromedp.WithDetachOnCancel())
	if err := chromedp.Do(ctx); err != nil {
		return nil, "", err
	}
	c.attached[id] = ctx
	return ctx, id, nil
}

// forget drops an attachment that failed: the target may be gone, and a
// new one with the same id (the frame back on the app's site) needs a new
// attachment.
func (c *chromium) forget(id target.ID) {
	if id == c.first {
		return
	}
	c.mu.Lock()
	delete(c.attached, id)
	c.mu.Unlock()
}

// runIn runs a in p's target, bounded by engineWait.
func runIn[T any](c *chromium, p place, a chromedp.Action[T]) (T, error) {
	ctx, id, err := c.ctx(p)
	if err != nil {
		var zero T
		return zero, err
	}
	tctx, cancel := context.WithTimeout(ctx, engineWait)
	defer cancel()
	v, err := chromedp.Run(tctx, a)
	if err != nil {
		c.forget(id)
	}
	return v, err
}

func (c *chromium) navigate(tab, url string) error {
	_, err := runIn(c, place{tab: tab}, chromedp.Navigate(url))
	return err
}

func (c *chromium) eval(p place, expr string, out any) error {
	text, err := runIn(c, p, chromedp.Evaluate[string](jsonScript(expr), chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	return decodeJSON(text, out)
}

func (c *chromium) click(p place, css string) error {
	_, err := runIn(c, p, chromedp.Click(chromedp.CSS(css)))
	return err
}

func (c *chromium) screenshot(tab string) ([]byte, error) {
	return runIn(c, place{tab: tab}, chromedp.CaptureScreenshot())
}
