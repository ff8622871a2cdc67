package email

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// emailPathCases are addresses and whether the fast path, plainEmail, takes
// them. They seed FuzzEmailFastPath too.
var emailPathCases = []struct {
	name  string
	in    string
	taken bool
}{
	{"a lower-case address", "jane@example.com", true},
	{"capitals in the local part and the domain", "Jane.Doe@Example.COM", true},
	{"every atext character in the local part", "a!#$%&'*+-/=?^_`{|}~.Z9@x.example", true},
	{"a hyphen inside a label", "jane@my-company.example", true},
	{"digits-only labels", "jane@123.456", true},
	{"a 63-byte label", "jane@" + strings.Repeat("a", 63) + ".example", true},
	{"a 251-byte domain of four 62-byte labels", "j@" + strings.Join([]string{strings.Repeat("d", 62), strings.Repeat("e", 62), strings.Repeat("f", 62), strings.Repeat("g", 62)}, "."), true},
	{"a 254-byte address", strings.Repeat("j", 242) + "@example.com", true},

	{"a 64-byte label", "jane@" + strings.Repeat("a", 64) + ".example", false},
	{"a 255-byte address", strings.Repeat("j", 243) + "@example.com", false},
	{"an xn-- label", "jane@xn--bcher-kva.example", false},
	{"an XN-- label in capitals", "jane@XN--BCHER-KVA.example", false},
	{"a -- in the third and fourth places", "jane@ab--cd.example", false},
	{"a -- elsewhere in a label", "jane@a--b.example", false},
	{"a label starting with a hyphen", "jane@-a.example", false},
	{"a label ending with a hyphen", "jane@a-.example", false},
	{"localhost", "jane@localhost", false},
	{"a domain without a dot", "jane@example", false},
	{"a trailing dot in the domain", "jane@example.com.", false},
	{"a leading dot in the domain", "jane@.example.com", false},
	{"a double dot in the domain", "jane@example..com", false},
	{"an underscore in the domain", "jane@exa_mple.com", false},
	{"a leading dot in the local part", ".jane@example.com", false},
	{"a trailing dot in the local part", "jane.@example.com", false},
	{"a double dot in the local part", "a..b@x.y", false},
	{"a quoted local part", `"jane"@example.com`, false},
	{"a display name", "Jane <jane@example.com>", false},
	{"a space", "ja ne@example.com", false},
	{"a non-ASCII local part", "j\u00f6rg@example.com", false},
	{"the KELVIN SIGN in the local part", "\u212Aate@example.com", false},
	{"a Unicode domain", "jane@b\u00fccher.example", false},
	{"a fullwidth domain", "kate@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com", false},
	{"two @", "a@b@example.com", false},
	{"no local part", "@example.com", false},
	{"no domain", "jane@", false},
	{"no @", "jane.example.com", false},
	{"nothing", "", false},
	{"a control character", "ja\x01ne@example.com", false},
	{"invalid UTF-8", "ja\xffne@example.com", false},
	{"a domain literal", "jane@[127.0.0.1]", false},
}

func TestEmailFastPathTakesOnlyPlainAddresses(t *testing.T) {
	t.Parallel()
	for _, tc := range emailPathCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fast, taken := plainEmail(tc.in)
			assert.Equal(t, tc.taken, taken)
			if !taken {
				return
			}
			full, err := parseEmail(tc.in)
			require.NoError(t, err)
			assert.Equal(t, full, fast)
		})
	}
}

// Not parallel: testing.AllocsPerRun refuses to run beside parallel tests.
func TestAPlainEmailCostsAtMostItsLowerCasing(t *testing.T) {
	for _, tc := range []struct {
		in     string
		allocs float64
	}{
		{"jane.doe@example.com", 0},
		{"Jane.Doe@Example.com", 1},
	} {
		var got string
		assert.Equal(t, tc.allocs, testing.AllocsPerRun(100, func() { got, _ = Normalize(tc.in) }), tc.in)
		assert.Equal(t, "jane.doe@example.com", got)
	}
}

// FuzzEmailFastPath checks that normalizeEmail, with its fast path, gives
// byte for byte the result and the verdict of the full path alone, and that
// every address the fast path takes is one the full path accepts.
func FuzzEmailFastPath(f *testing.F) {
	for _, tc := range emailPathCases {
		f.Add(tc.in)
	}
	for _, s := range []string{
		"x@y.z", "X@Y.Z", "jane@EXAMPLE.com", "jane@1.2.3.4", "jane@0.0", "jane@a.b-c.d",
		"jane@xn--zz.example", "jane@xn--.example", "jane@xn-a.example", "jane@a.xn--p1ai",
		"jane@localhost", "jane@LOCALHOST", "jane@localhost.", "jane@.", "jane@a.", ".@a.b", "a.@b.c",
		"a..b@x.y", ".a@x.y", "a@x..y", "\"a b\"@x.y", "a\\b@x.y", "a(b)@x.y", "a@x.y (comment)",
		"jane@b\u00fccher.example", "J\u00d6rg@Example.com", "jane@stra\u00dfe.de", "jane@\u0130stanbul.example",
		"jane@" + strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 57),
		"jane@" + strings.Repeat("a.", 120) + "com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		full, fullErr := parseEmail(s)
		got, err := Normalize(s)
		if (err == nil) != (fullErr == nil) || got != full {
			t.Fatalf("Normalize(%q) = %q, %v; the full path gives %q, %v", s, got, err, full, fullErr)
		}
		fast, taken := plainEmail(s)
		if !taken {
			return
		}
		if fullErr != nil || fast != full {
			t.Fatalf("the fast path took %q as %q; the full path gives %q, %v", s, fast, full, fullErr)
		}
	})
}
