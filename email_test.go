package embedsso_test

import (
	"testing"

	"github.com/embedsso/embedsso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
