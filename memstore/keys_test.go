package memstore

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The memory store keys its sessions with digests (sessions.go). These
// tests hold the digests to the strings they stand for: different strings are
// different entries, whatever their shape.

var t0 = time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)

func TestMemorySessionStoreKeepsEveryIDHashApart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lower := strings.Repeat("ab", 32) // the handler's shape: lowercase hex SHA-256
	ids := map[string]string{
		"the handler's lowercase hex":                 lower,
		"the same digits in upper case":               strings.ToUpper(lower),
		"hex one digit short":                         lower[:63],
		"hex one digit long":                          lower + "a",
		"not hex at all":                              "session-1",
		"empty":                                       "",
		"the bytes the lowercase hex decodes to, raw": "\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab",
		"a prefix byte and the same 32 bytes, raw":    "\x00\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab",
	}
	s := &sessionStore{}
	for name, id := range ids {
		u := embedsso.User{ID: "usr_" + name, OrgID: "org_a", Email: "a@example.com"}
		require.NoError(t, s.CreateSession(ctx, embedsso.Session{IDHash: id, User: u, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	}
	require.Equal(t, len(ids), s.Len(), "every id hash is its own session")
	for name, id := range ids {
		got, err := s.FindSession(ctx, id, t0, nil)
		require.NoError(t, err, name)
		assert.Equal(t, "usr_"+name, got.User.ID, name)
		assert.Equal(t, id, got.IDHash, "%s: the session comes back under the id hash it was found by", name)
	}
	require.NoError(t, s.RevokeSession(ctx, strings.ToUpper(lower)))
	_, err := s.FindSession(ctx, strings.ToUpper(lower), t0, nil)
	require.ErrorIs(t, err, embedsso.ErrSessionNotFound)
	_, err = s.FindSession(ctx, lower, t0, nil)
	require.NoError(t, err, "revoking the upper-case id left the lower-case one")
}

// FuzzDecodeLowerHex holds decodeLowerHex to encoding/hex on lowercase
// input and to a refusal on anything else.
func FuzzDecodeLowerHex(f *testing.F) {
	for _, s := range []string{strings.Repeat("0f", 32), strings.Repeat("AB", 32), strings.Repeat("g1", 32), "\xff\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s)%2 != 0 {
			return
		}
		dst := make([]byte, len(s)/2)
		got := decodeLowerHex(dst, s)
		want, err := hex.DecodeString(s)
		wantOK := err == nil && s == strings.ToLower(s)
		require.Equal(t, wantOK, got, "%q", s)
		if wantOK {
			require.Equal(t, want, dst)
		}
	})
}
