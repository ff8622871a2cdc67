package cookiesession

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cookieConfigs are the cookie settings the lines are checked under.
var cookieConfigs = []struct {
	name string
	cfg  Config
}{
	{"the defaults", Config{}},
	{"a name, a path and a domain", Config{Name: "sid", Path: "/app", Domain: "example.com"}},
	{"a path http.Cookie drops bytes of", Config{Path: "/a;b\x01c"}},
	{"a domain http.Cookie leaves out", Config{Domain: "bad domain"}},
	{"SameSite=Lax, not partitioned", Config{SameSite: http.SameSiteLaxMode, NotPartitioned: true}},
	{"SameSite=Strict and a one-second TTL", Config{SameSite: http.SameSiteStrictMode, TTL: time.Second}},
	{"a 90-day TTL", Config{TTL: 90 * 24 * time.Hour}},
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
		c, err := New(Config{Store: nopStore{}, Name: cc.cfg.Name, Path: cc.cfg.Path,
			Domain: cc.cfg.Domain, SameSite: cc.cfg.SameSite, NotPartitioned: cc.cfg.NotPartitioned, TTL: cc.cfg.TTL})
		require.NoError(t, err, cc.name)
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
					assert.Equal(t, want.String(), c.sessionLine.String(v.v, tm.t), "the session cookie")
				})
			}
		}
	}
}

func TestAPlainCookieLineIsOneAllocation(t *testing.T) {
	c, err := New(Config{Store: nopStore{}})
	require.NoError(t, err)
	id, expires := "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE", c.now().Add(c.ttl)
	allocs := testing.AllocsPerRun(100, func() { _ = c.sessionLine.String(id, expires) })
	assert.Equal(t, 1.0, allocs, "a session id takes the hand-written path, not http.Cookie")
}

func FuzzCookieLine(f *testing.F) {
	f.Add("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE", int64(1795669539), int64(0))
	f.Add("a b", int64(-11676096000), int64(999999999))
	f.Add("", int64(253402300800), int64(1))
	f.Add("é\"", int64(0), int64(5))
	c, err := New(Config{Store: nopStore{}, Domain: "example.com", Path: "/app"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, v string, sec, nsec int64) {
		at := time.Unix(sec, nsec)
		want := c.cookie("x", at)
		want.Value = v
		if got := c.sessionLine.String(v, at); got != want.String() {
			t.Fatalf("session line %q, http.Cookie %q", got, want.String())
		}
	})
}

// The hint cookie's half of these tests is in the root package
// (TestHintCookieLinesAreWhatSetCookieWrites, FuzzHintCookieLine).

// nopStore is a Store that keeps nothing: no session is ever found. This
// package's own tests cannot import package memstore, which imports this one.
type nopStore struct{}

func (nopStore) CreateSession(context.Context, embedsso.Session) error { return nil }
func (nopStore) FindSession(context.Context, string, time.Time) (embedsso.Session, error) {
	return embedsso.Session{}, embedsso.ErrSessionNotFound
}
func (nopStore) TouchSession(context.Context, string, time.Time) error    { return nil }
func (nopStore) RevokeSession(context.Context, string) error              { return nil }
func (nopStore) RevokeUserSessions(context.Context, string, string) error { return nil }
