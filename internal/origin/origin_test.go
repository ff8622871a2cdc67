package origin

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListAllows(t *testing.T) {
	t.Parallel()
	l, err := ParseList([]string{"https://app.customer.example", "https://*.partner.example", "http://127.0.0.1:8081", "https://*.ported.example:8443"})
	require.NoError(t, err)
	for _, tc := range []struct {
		origin string
		want   bool
	}{
		{"https://app.customer.example", true},
		{"https://eu.partner.example", true},
		{"https://a.b.partner.example", true},
		{"http://127.0.0.1:8081", true},
		{"https://x.ported.example:8443", true},
		{"https://partner.example", false},
		{"https://evilpartner.example", false},
		{"http://eu.partner.example", false},
		{"https://app.customer.example:8443", false},
		{"https://app.customer.example.evil.example", false},
		{"http://127.0.0.1:8082", false},
		{"https://x.ported.example", false},
		{"null", false},
		{"", false},
	} {
		assert.Equal(t, tc.want, l.Allows(tc.origin), tc.origin)
	}
}

func TestParsePatternRefusesWhatCouldWidenTheList(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		"customer.example", "https://*.com", "https://*", "*", "https://a.example/path", "https://a.example?x",
		"ftp://a.example", "https://user@a.example", "javascript:alert(1)", "https://a.example; script-src *",
		"https://*.*.example", "null", "",
	} {
		_, err := ParsePattern(bad)
		assert.Error(t, err, bad)
	}
}

func TestOfRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, origin, referer, want string
		ok                          bool
	}{
		{"the Origin header wins", "https://A.example:443", "https://b.example/x", "https://a.example", true},
		{"else the Referer's origin", "", "https://b.example:8443/page?q=1#f", "https://b.example:8443", true},
		{"an opaque origin is null", "null", "https://b.example/", "null", true},
		{"a garbage Origin is null, not the Referer", "%%%", "https://b.example/", "null", true},
		{"neither header", "", "", "", false},
		{"a relative Referer is ignored", "", "/just/a/path", "", false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if tc.referer != "" {
			r.Header.Set("Referer", tc.referer)
		}
		got, ok := OfRequest(r)
		assert.Equal(t, tc.want, got, tc.name)
		assert.Equal(t, tc.ok, ok, tc.name)
	}
}

func TestFrameAncestors(t *testing.T) {
	t.Parallel()
	l, err := ParseList([]string{"https://a.example", "https://*.b.example"})
	require.NoError(t, err)
	assert.Equal(t, "frame-ancestors 'self' https://a.example https://*.b.example", l.FrameAncestors())
	assert.Equal(t, "frame-ancestors *", List(nil).FrameAncestors())
}

// FuzzPattern checks that whatever a pattern is, it parses to something that
// renders as a single CSP source expression and matches only http(s) origins.
func FuzzPattern(f *testing.F) {
	for _, s := range []string{"https://a.example", "https://*.b.example:8443", "http://127.0.0.1:80", "https://[::1]:9", "https://a.example; x"} {
		f.Add(s, "https://x.b.example:8443")
	}
	f.Fuzz(func(t *testing.T, pattern, origin string) {
		p, err := ParsePattern(pattern)
		if err != nil {
			return
		}
		src := p.String()
		if strings.ContainsAny(src, " ;,'\"\r\n\t") {
			t.Fatalf("pattern %q renders as %q, which would break the CSP header", pattern, src)
		}
		if p.Match(origin) && !strings.HasPrefix(origin, "http://") && !strings.HasPrefix(origin, "https://") {
			t.Fatalf("pattern %q matched non-http origin %q", pattern, origin)
		}
		if n, err := Normalize(origin); err == nil && p.Match(origin) != p.Match(n) && origin == n {
			t.Fatal("normalization changed the match")
		}
	})
}

// FuzzOfRequest sends arbitrary Origin and Referer headers. Whatever they
// hold, the origin found is "null", empty, or one that Normalize accepts
// unchanged, so it can neither match a list by accident nor break a header.
func FuzzOfRequest(f *testing.F) {
	f.Add("https://a.example", "")
	f.Add("", "https://b.example:8443/x?y#z")
	f.Add("null", "https://b.example/")
	f.Add("https://*.example", "javascript:alert(1)")
	f.Add("", "http://[::1]:80/")
	f.Fuzz(func(t *testing.T, originHeader, referer string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Origin"] = []string{originHeader}
		r.Header["Referer"] = []string{referer}
		o, ok := OfRequest(r)
		if !ok || o == "null" {
			return
		}
		if n, err := Normalize(o); err != nil || n != o {
			t.Fatalf("OfRequest returned %q, which Normalize gives as %q, %v", o, n, err)
		}
	})
}
