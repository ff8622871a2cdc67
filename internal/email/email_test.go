package email_test

import (
	"fmt"
	"testing"

	"github.com/embedsso/embedsso/internal/email"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string // want "" means refused
	}{
		{"a lower-case ASCII address is kept", "jane@example.com", "jane@example.com"},
		{"ASCII capitals are folded in the local part and the domain", "Jane.Doe@Example.COM", "jane.doe@example.com"},
		{"the KELVIN SIGN in the local part is kept, not folded to k", "\u212Aate@example.com", "\u212Aate@example.com"},
		{"a dotted capital I in the local part is kept, not folded to i", "\u0130an@example.com", "\u0130an@example.com"},
		{"a capital sharp s in the local part is kept", "stra\u1E9Ee@example.com", "stra\u1E9Ee@example.com"},
		{"a sharp s in the local part is kept, not folded to ss", "stra\u00dfe@example.com", "stra\u00dfe@example.com"},
		{"fullwidth capitals in the local part are kept", "\uff2b\uff21\uff34\uff25@example.com", "\uff2b\uff21\uff34\uff25@example.com"},
		{"non-ASCII letters keep their case while ASCII ones fold", "J\u00d6rg@Example.com", "j\u00d6rg@example.com"},
		{"a Unicode domain becomes its ASCII form", "jane@b\u00fccher.example", "jane@xn--bcher-kva.example"},
		{"a punycode domain is kept", "jane@xn--bcher-kva.example", "jane@xn--bcher-kva.example"},
		{"a punycode domain in capitals is folded", "jane@XN--BCHER-KVA.example", "jane@xn--bcher-kva.example"},
		{"a sharp s in the domain is IDNA2008's, not folded to ss", "jane@stra\u00dfe.de", "jane@xn--strae-oqa.de"},
		{"localhost is a domain", "jane@localhost", "jane@localhost"},

		{"a fullwidth domain is refused, not mapped", "kate@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com", ""},
		{"a KELVIN SIGN in the domain is refused, not mapped", "kate@\u212Aexample.com", ""},
		{"a capital sharp s in the domain is refused", "jane@stra\u1E9Ee.de", ""},
		{"a dotted capital I in the domain is refused", "jane@\u0130stanbul.example", ""},
		{"non-ASCII capitals in the domain are refused", "jane@B\u00dcCHER.example", ""},
		{"invalid punycode is refused", "jane@xn--zz.example", ""},
		{"an underscore in the domain is refused", "jane@exa_mple.com", ""},
		{"a trailing dot in the domain is refused", "jane@example.com.", ""},
		{"a domain without a dot is refused", "jane@example", ""},
		{"a no-break space in the local part is refused", "ja\u00a0ne@example.com", ""},
		{"an ideographic space in the local part is refused", "ja\u3000ne@example.com", ""},
		{"a display name is refused", "Jane <jane@example.com>", ""},
		{"a quoted local part is refused", `"jane"@example.com`, ""},
		{"an empty address is refused", "", ""},
		{"an address whose ASCII form exceeds 254 bytes is refused", "jane@" + repeat("\u00fc", 120) + ".example", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := email.Normalize(tc.in)
			if tc.want == "" {
				assert.Error(t, err, "accepted as %q", got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			again, err := email.Normalize(got)
			require.NoError(t, err)
			assert.Equal(t, got, again, "normalizing twice changes nothing")
		})
	}
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

// Two spellings of one address are one user; a look-alike is another.
func ExampleNormalize() {
	for _, e := range []string{"Jane@B\u00fccher.Example", "jane@xn--bcher-kva.example", "\u212Aate@example.com", "kate@\uff45xample.com"} {
		n, err := email.Normalize(e)
		fmt.Printf("%+q %v\n", n, err != nil) // %+q: non-ASCII as \u escapes
	}
	// Output:
	// "jane@xn--bcher-kva.example" false
	// "jane@xn--bcher-kva.example" false
	// "\u212aate@example.com" false
	// "" true
}
