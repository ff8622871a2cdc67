package embedsso

import (
	"strings"
	"testing"
)

func TestIsLocalPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"the root is local", "/", true},
		{"a path with a query and fragment is local", "/reports/42?tab=2#top", true},
		{"dots inside a segment are not a dot segment", "/files/v1.2/..data/x.", true},
		{"an empty segment inside the path is local", "/a//b", true},
		{"a query may hold slashes and dots", "/x?next=//evil.example/../", true},
		{"a percent-encoded character in a segment is local", "/search/caf%C3%A9", true},

		{"a protocol-relative URL is refused", "//evil.example/x", false},
		{"a backslash is refused", `/\evil.example`, false},
		{"an absolute URL is refused", "https://evil.example/", false},
		{"a javascript URL is refused", "javascript:alert(1)", false},
		{"a relative path is refused", "dashboard", false},
		{"a single dot segment before a slash is refused", "/.//evil.example", false},
		{"a double dot segment before a slash is refused", "/..//evil.example", false},
		{"a dot segment deeper in the path is refused", "/a/../..//evil.example", false},
		{"percent-encoded dots are refused", "/%2e%2e//evil", false},
		{"percent-encoded capital dots are refused", "/%2E//evil.example", false},
		{"a half-encoded double dot is refused", "/.%2e//evil.example", false},
		{"a dot segment with a path parameter is refused", "/..;//evil.example", false},
		{"percent-encoded slashes that make // are refused", "/%2F%2Fevil.example", false},
		{"a percent-encoded slash after the root is refused", "/%2Fevil.example", false},
		{"a percent-encoded backslash is refused", "/%5Cevil.example", false},
		{"a trailing dot segment is refused", "/reports/.", false},
		{"a space is refused", "/a b", false},
		{"an over-long path is refused", "/" + strings.Repeat("a", 2048), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := isLocalPath(tc.in); got != tc.ok {
				t.Fatalf("isLocalPath(%q) = %v, want %v", tc.in, got, tc.ok)
			}
		})
	}
}

// The fast path of isLocalPath (letters, digits, '/', '-', '_') answers as
// the parsing path does, for every such string of up to four characters and
// for longer random ones.
func TestIsLocalPathsFastPathAgreesWithParsing(t *testing.T) {
	t.Parallel()
	const alphabet = "/-_aZ09"
	var walk func(prefix string, n int)
	check := func(s string) {
		if got, want := isLocalPath(s), isLocalPathParsed(s); got != want {
			t.Fatalf("isLocalPath(%q) = %v, parsing says %v", s, got, want)
		}
	}
	walk = func(prefix string, n int) {
		check(prefix)
		if n == 0 {
			return
		}
		for i := range len(alphabet) {
			walk(prefix+alphabet[i:i+1], n-1)
		}
	}
	walk("", 5)
	for i := range 2000 {
		var b strings.Builder
		for j := range 1 + i%60 {
			b.WriteByte(alphabet[(i*31+j*7+j*j)%len(alphabet)])
		}
		check(b.String())
	}
}

// isLocalPathParsed is isLocalPath without its fast path, for strings
// that have no control character or backslash.
func isLocalPathParsed(s string) bool {
	return len(s) <= maxReturnToBytes && strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") && localByParsing(s)
}
