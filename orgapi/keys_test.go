package orgapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/embedsso/embedsso/orgapi"
	"github.com/embedsso/embedsso/orgapi/orgapitest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewKey(t *testing.T) {
	t.Parallel()
	shape := regexp.MustCompile(`^esk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$`)
	k1, rec, err := orgapi.NewKey("ci", orgapi.KeyScope{OrgIDs: []string{"org_a"}}, orgapitest.Start)
	require.NoError(t, err)
	k2, _, err := orgapi.NewKey("ci", orgapi.KeyScope{Admin: true}, orgapitest.Start)
	require.NoError(t, err)

	t.Run("a key has the esk_ prefix, a 64-bit id and 256 random bits", func(t *testing.T) {
		assert.Regexp(t, shape, k1)
		assert.NotEqual(t, k1, k2)
		assert.NotEqual(t, k1[4:20], k2[4:20], "ids differ")
	})
	t.Run("the record holds the SHA-256 of the key and never the key", func(t *testing.T) {
		sum := sha256.Sum256([]byte(k1))
		assert.Equal(t, hex.EncodeToString(sum[:]), rec.Hash)
		assert.Equal(t, k1[4:20], rec.ID)
		assert.Equal(t, []string{"org_a"}, rec.OrgIDs)
		assert.False(t, rec.Admin)
		assert.NotContains(t, rec.Hash+rec.ID+rec.Name, k1[21:])
	})
	t.Run("a key is an admin key or scoped to some organizations, not both, not neither", func(t *testing.T) {
		_, _, err := orgapi.NewKey("x", orgapi.KeyScope{}, orgapitest.Start)
		assert.Error(t, err)
		_, _, err = orgapi.NewKey("x", orgapi.KeyScope{Admin: true, OrgIDs: []string{"org_a"}}, orgapitest.Start)
		assert.Error(t, err)
	})
	t.Run("KeyRecord takes only keys shaped as NewKey makes them", func(t *testing.T) {
		rec2, err := orgapi.KeyRecord(k1, "again", orgapi.KeyScope{Admin: true}, orgapitest.Start)
		require.NoError(t, err)
		assert.Equal(t, rec.Hash, rec2.Hash)
		for name, bad := range map[string]string{
			"another prefix":                   "sk__" + k1[4:],
			"upper-case hex in the id":         "esk_" + strings.ToUpper(k1[4:20]) + k1[20:],
			"a short secret":                   k1[:len(k1)-1],
			"a long secret":                    k1 + "A",
			"no separator":                     k1[:20] + "-" + k1[21:],
			"a non-canonical base64 last char": k1[:len(k1)-1] + "B",
			"a password":                       "correct horse battery staple",
		} {
			_, err := orgapi.KeyRecord(bad, "x", orgapi.KeyScope{Admin: true}, orgapitest.Start)
			assert.Error(t, err, name)
		}
	})
}
