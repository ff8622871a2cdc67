package replay

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)

// The store keys its map with digests. This test holds the digests to the
// pairs they stand for: different pairs are different entries, whatever
// their shape.
func TestMemoryReplayStoreKeepsEveryOrgAndIDApart(t *testing.T) {
	t.Parallel()
	s := &Store{}
	exp := t0.Add(time.Minute)
	pairs := [][2]string{{"ab", "c"}, {"a", "bc"}, {"abc", ""}, {"", "abc"}, {"a\x01", "bc"}, {"org", "jti"}, {"org2", "jti"}}
	for _, p := range pairs {
		require.True(t, s.Use(p[0], p[1], exp, t0), "%q/%q is a first use", p[0], p[1])
	}
	for _, p := range pairs {
		require.False(t, s.Use(p[0], p[1], exp, t0), "%q/%q again", p[0], p[1])
	}
	assert.Equal(t, len(pairs), s.Len())
}

func TestATokenDigestAllocatesNothing(t *testing.T) {
	orgID, tokenID := "org_acme", "sso_check:0123456789abcdef0123456789abcdef"
	var k [32]byte
	allocs := testing.AllocsPerRun(100, func() { k = tokenDigest(orgID, tokenID) })
	assert.Zero(t, allocs)
	// The digest is SHA-256 of the org's length as a uvarint, the org and the id.
	want := sha256.Sum256([]byte("\x08org_acmesso_check:0123456789abcdef0123456789abcdef"))
	assert.Equal(t, want, k)
}
