package embedsso

import (
	"cmp"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cookieConfigs are the cookie settings the lines are checked under.
var cookieConfigs = []struct {
	name string
	cfg  CookieConfig
}{
	{"the defaults", CookieConfig{}},
	{"a name, a path and a domain", CookieConfig{Name: "sid", Path: "/app", Domain: "example.com"}},
	{"a path http.Cookie drops bytes of", CookieConfig{Path: "/a;b\x01c"}},
	{"a domain http.Cookie leaves out", CookieConfig{Domain: "bad domain"}},
	{"SameSite=Lax, not partitioned", CookieConfig{SameSite: http.SameSiteLaxMode, NotPartitioned: true}},
	{"SameSite=Strict and a one-second TTL", CookieConfig{SameSite: http.SameSiteStrictMode, TTL: time.Second}},
	{"a 90-day TTL", CookieConfig{TTL: 90 * 24 * time.Hour}},
}

func TestCookieLinesAreWhatSetCookieWrites(t *testing.T) {
	at := time.Date(2031, 1, 2, 3, 4, 5, 6, time.FixedZone("UTC+2", 7200))
	values := []struct{ name, v string }{
		{"a session id", "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE"},
		{"a hint", "1.0.1795669539.b3JnX2FjbWU"},
		{"an empty value", ""},
		{"a space", "a b"},
		{"a comma", "a,b"},
		{"a quote", `a"b`},
		{"a semicolon", "a;b"},
		{"a backslash", `a\b`},
		{"a control byte", "a\x7fb"},
		{"non-ASCII", "é"},
	}
	times := []struct {
		name string
		t    time.Time
	}{
		{"an expiry in another zone", at},
		{"an expiry before 1601, which http.Cookie leaves out", time.Date(1600, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"an expiry past 9999", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, cc := range cookieConfigs {
		c, err := NewCookieSessions(CookieConfig{Store: nopStore{}, Name: cc.cfg.Name, Path: cc.cfg.Path,
			Domain: cc.cfg.Domain, SameSite: cc.cfg.SameSite, NotPartitioned: cc.cfg.NotPartitioned, TTL: cc.cfg.TTL})
		require.NoError(t, err, cc.name)
		hintName := cmp.Or(cc.cfg.Name, defaultHintCookie)
		hintLine := newCookieLine(hintCookie(hintName, !cc.cfg.NotPartitioned), false)
		for _, v := range values {
			for _, tm := range times {
				t.Run(cc.name+", "+v.name+", "+tm.name, func(t *testing.T) {
					want := c.cookie(v.v, tm.t)
					if v.v == "" {
						// cookie("") is the clearing cookie; the line of an
						// empty value keeps the session cookie's attributes.
						want = c.cookie("x", tm.t)
						want.Value = ""
					}
					assert.Equal(t, want.String(), c.sessionLine.line(v.v, tm.t), "the session cookie")
					hint := hintCookie(hintName, !cc.cfg.NotPartitioned)
					hint.Value = v.v
					assert.Equal(t, hint.String(), hintLine.line(v.v, tm.t), "the hint cookie")
				})
			}
		}
	}
}

func TestAPlainCookieLineIsOneAllocation(t *testing.T) {
	c, err := NewCookieSessions(CookieConfig{Store: nopStore{}})
	require.NoError(t, err)
	id, expires := "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE", c.now().Add(c.ttl)
	allocs := testing.AllocsPerRun(100, func() { _ = c.sessionLine.line(id, expires) })
	assert.Equal(t, 1.0, allocs, "a session id takes the hand-written path, not http.Cookie")
}

func FuzzCookieLine(f *testing.F) {
	f.Add("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE", int64(1795669539), int64(0))
	f.Add("a b", int64(-11676096000), int64(999999999))
	f.Add("", int64(253402300800), int64(1))
	f.Add("é\"", int64(0), int64(5))
	c, err := NewCookieSessions(CookieConfig{Store: nopStore{}, Domain: "example.com", Path: "/app"})
	if err != nil {
		f.Fatal(err)
	}
	hintLine := newCookieLine(hintCookie(defaultHintCookie, true), false)
	f.Fuzz(func(t *testing.T, v string, sec, nsec int64) {
		at := time.Unix(sec, nsec)
		want := c.cookie("x", at)
		want.Value = v
		if got := c.sessionLine.line(v, at); got != want.String() {
			t.Fatalf("session line %q, http.Cookie %q", got, want.String())
		}
		hint := hintCookie(defaultHintCookie, true)
		hint.Value = v
		if got := hintLine.line(v, at); got != hint.String() {
			t.Fatalf("hint line %q, http.Cookie %q", got, hint.String())
		}
	})
}
