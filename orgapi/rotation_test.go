package orgapi_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/orgapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRotateSecrets(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	next := embedsso.Secret{KeyID: "new", Value: "n"}
	for _, tc := range []struct {
		name    string
		secrets []embedsso.Secret
		grace   time.Duration
		want    []embedsso.Secret
	}{
		{"the new secret comes first and the old one enters its grace period",
			[]embedsso.Secret{{KeyID: "old", Value: "o"}}, time.Hour,
			[]embedsso.Secret{next, {KeyID: "old", Value: "o", ExpiresAt: now.Add(time.Hour)}}},
		{"a secret already in its grace period keeps its expiry",
			[]embedsso.Secret{{KeyID: "a", Value: "a"}, {KeyID: "b", Value: "b", ExpiresAt: now.Add(time.Minute)}}, time.Hour,
			[]embedsso.Secret{next, {KeyID: "a", Value: "a", ExpiresAt: now.Add(time.Hour)}, {KeyID: "b", Value: "b", ExpiresAt: now.Add(time.Minute)}}},
		{"an expired secret is dropped",
			[]embedsso.Secret{{KeyID: "a", Value: "a"}, {KeyID: "gone", Value: "g", ExpiresAt: now}}, time.Hour,
			[]embedsso.Secret{next, {KeyID: "a", Value: "a", ExpiresAt: now.Add(time.Hour)}}},
		{"a grace of zero drops every old secret at once",
			[]embedsso.Secret{{KeyID: "a", Value: "a"}, {KeyID: "b", Value: "b", ExpiresAt: now.Add(time.Minute)}}, 0,
			[]embedsso.Secret{next, {KeyID: "b", Value: "b", ExpiresAt: now.Add(time.Minute)}}},
		{"a next secret that carries an expiry becomes current anyway",
			nil, time.Hour, []embedsso.Secret{next}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]embedsso.Secret(nil), tc.secrets...)
			n := next
			if tc.secrets == nil {
				n.ExpiresAt = now.Add(time.Minute)
			}
			assert.Equal(t, tc.want, orgapi.RotateSecrets(tc.secrets, n, now, tc.grace))
			assert.Equal(t, in, tc.secrets, "the input is not modified")
		})
	}

	t.Run("beyond MaxSecrets the secrets that expire first are dropped", func(t *testing.T) {
		var secrets []embedsso.Secret
		for i := range orgapi.MaxSecrets + 3 {
			secrets = orgapi.RotateSecrets(secrets, embedsso.Secret{KeyID: fmt.Sprint(i)}, now.Add(time.Duration(i)*time.Minute), time.Hour)
		}
		require.Len(t, secrets, orgapi.MaxSecrets)
		for i, s := range secrets {
			assert.Equal(t, fmt.Sprint(orgapi.MaxSecrets+2-i), s.KeyID, "newest first, oldest dropped")
		}
	})
	t.Run("CurrentSecret is the first without an expiry", func(t *testing.T) {
		cur, ok := orgapi.CurrentSecret([]embedsso.Secret{{KeyID: "a", ExpiresAt: now}, {KeyID: "b"}, {KeyID: "c"}})
		assert.True(t, ok)
		assert.Equal(t, "b", cur.KeyID)
		_, ok = orgapi.CurrentSecret([]embedsso.Secret{{KeyID: "a", ExpiresAt: now}})
		assert.False(t, ok)
	})
}
