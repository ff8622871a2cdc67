package embedsso

import (
	"testing"
	"time"

	"github.com/embedsso/embedsso/internal/cookieline"
	"github.com/stretchr/testify/assert"
)

// The session cookie's half of these tests is in package cookiesession
// (TestCookieLinesAreWhatSetCookieWrites, FuzzCookieLine); this is the
// handler's own cookie's half.

// hintCookieSettings are the hint cookie settings the lines are checked under.
var hintCookieSettings = []struct {
	name        string
	cookie      string
	partitioned bool
}{
	{"the defaults", defaultHintCookie, true},
	{"another name", "sid", true},
	{"not partitioned", defaultHintCookie, false},
}

func TestHintCookieLinesAreWhatSetCookieWrites(t *testing.T) {
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
	for _, cc := range hintCookieSettings {
		hintLine := cookieline.New(hintCookie(cc.cookie, cc.partitioned), false)
		for _, v := range values {
			t.Run(cc.name+", "+v.name, func(t *testing.T) {
				hint := hintCookie(cc.cookie, cc.partitioned)
				hint.Value = v.v
				assert.Equal(t, hint.String(), hintLine.String(v.v, at), "the hint cookie")
			})
		}
	}
}

func FuzzHintCookieLine(f *testing.F) {
	f.Add("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE", int64(1795669539), int64(0))
	f.Add("a b", int64(-11676096000), int64(999999999))
	f.Add("", int64(253402300800), int64(1))
	f.Add("é\"", int64(0), int64(5))
	hintLine := cookieline.New(hintCookie(defaultHintCookie, true), false)
	f.Fuzz(func(t *testing.T, v string, sec, nsec int64) {
		at := time.Unix(sec, nsec)
		hint := hintCookie(defaultHintCookie, true)
		hint.Value = v
		if got := hintLine.String(v, at); got != hint.String() {
			t.Fatalf("hint line %q, http.Cookie %q", got, hint.String())
		}
	})
}
