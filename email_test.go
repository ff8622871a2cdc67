package embedsso_test

import (
	"fmt"
	"testing"

	"github.com/embedsso/embedsso"
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
			got, err := embedsso.NormalizeEmail(tc.in)
			if tc.want == "" {
				assert.Error(t, err, "accepted as %q", got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			again, err := embedsso.NormalizeEmail(got)
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

// TestEmailIdentity signs in twice and checks whether the two emails made
// one user or two. One user means the second login updated the first's
// names and role; two users mean it could not touch them.
func TestEmailIdentity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		a, b       string
		sameUser   bool
		wantStored string // the first user's stored email
	}{
		{"Kate@ and kate@ are one user", "Kate@example.com", "kate@example.com", true, "kate@example.com"},
		{"a domain in capitals is the same user", "kate@EXAMPLE.com", "kate@example.com", true, "kate@example.com"},
		{"an IDN domain in Unicode and in punycode is one user", "jane@b\u00fccher.example", "jane@xn--bcher-kva.example", true, "jane@xn--bcher-kva.example"},
		{"the KELVIN SIGN is not k", "\u212Aate@example.com", "kate@example.com", false, "\u212Aate@example.com"},
		{"a dotted capital I is not i with a combining dot", "\u0130an@example.com", "i\u0307an@example.com", false, "\u0130an@example.com"},
		{"a dotted capital I is not i", "\u0130an@example.com", "ian@example.com", false, "\u0130an@example.com"},
		{"a capital sharp s is not a sharp s", "stra\u1E9Ee@example.com", "stra\u00dfe@example.com", false, "stra\u1E9Ee@example.com"},
		{"a sharp s is not ss", "stra\u00dfe@example.com", "strasse@example.com", false, "stra\u00dfe@example.com"},
		{"fullwidth capitals are not fullwidth small letters", "\uff2b\uff41\uff54\uff45@example.com", "\uff4b\uff41\uff54\uff45@example.com", false, "\uff2b\uff41\uff54\uff45@example.com"},
		{"fullwidth letters are not ASCII letters", "\uff4b\uff41\uff54\uff45@example.com", "kate@example.com", false, "\uff4b\uff41\uff54\uff45@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			first := f.get(loginURL(rawToken(hs256, with(f.claims(), "email", tc.a, "firstName", "First", "role", "ADMIN"), secretABC)), nil)
			require.Equal(t, 302, first.Code, first.Body.String())
			second := f.get(loginURL(rawToken(hs256, with(f.claims(), "email", tc.b, "firstName", "Second", "role", "VIEWER"), secretABC)), nil)
			require.Equal(t, 302, second.Code, second.Body.String())

			users := f.store.Users()
			byEmail := map[string]embedsso.User{}
			for _, u := range users {
				byEmail[u.Email] = u
			}
			if tc.sameUser {
				require.Len(t, users, 1)
				assert.Equal(t, tc.wantStored, users[0].Email)
				assert.Equal(t, "Second", users[0].FirstName)
				return
			}
			require.Len(t, users, 2, "the second login took over the first user")
			require.Contains(t, byEmail, tc.wantStored)
			assert.Equal(t, "First", byEmail[tc.wantStored].FirstName, "the second login changed the first user's names")
			assert.Equal(t, "ADMIN", byEmail[tc.wantStored].Role, "the second login changed the first user's role")
		})
	}
}

// Two spellings of one address are one user; a look-alike is another.
func ExampleNormalizeEmail() {
	for _, e := range []string{"Jane@B\u00fccher.Example", "jane@xn--bcher-kva.example", "\u212Aate@example.com", "kate@\uff45xample.com"} {
		n, err := embedsso.NormalizeEmail(e)
		fmt.Printf("%+q %v\n", n, err != nil) // %+q: non-ASCII as \u escapes
	}
	// Output:
	// "jane@xn--bcher-kva.example" false
	// "jane@xn--bcher-kva.example" false
	// "\u212aate@example.com" false
	// "" true
}
