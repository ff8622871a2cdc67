package sqlstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/sqlstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// PutOrg validates: an org the handler could only refuse at login is
// refused when it is stored, and nothing is written.
func TestPutOrgRefusesAnInvalidOrg(t *testing.T) {
	const secret = "q3Jv9xPpA1mS7cT0bW2eY5uK8hN4dF6gL1zR0sV3wXa"
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			s := sqlstore.New(newDatabase(t, kind).open(t))
			for _, tc := range []struct {
				name string
				org  embedsso.Org
			}{
				{"a 5-byte secret", embedsso.Org{ID: "org_bad", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{Value: "12345"}}}},
				{"a dashboard URL on another site", embedsso.Org{ID: "org_bad", Secrets: []embedsso.Secret{{Value: secret}}, DashboardURL: "https://evil.example/phish"}},
				{"an origin that does not parse", embedsso.Org{ID: "org_bad", Secrets: []embedsso.Secret{{Value: secret}}, AllowedOrigins: []string{"evil.example; script-src *"}}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					err := s.PutOrg(ctx, tc.org)
					require.Error(t, err)
					assert.True(t, errors.Is(err, embedsso.ErrOrgInvalid), "got %v", err)
					_, err = s.FindOrg(ctx, "org_bad")
					assert.True(t, errors.Is(err, embedsso.ErrOrgNotFound), "an invalid org was written: %v", err)
				})
			}
		})
	}
}
