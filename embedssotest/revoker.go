package embedssotest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/orgapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSessionRevoker checks an [orgapi.SessionRevoker]. newStores returns
// a session store that is also the revoker, and a user store, over the same
// empty database.
func TestSessionRevoker(t *testing.T, newStores func(t *testing.T) (cookiesession.Store, embedsso.UserStore)) {
	ctx := context.Background()
	type fixture struct {
		s cookiesession.Store
		r orgapi.SessionRevoker
		// sessions by name: jane (two, org_a), sam (org_a), jane@org_b.
		ids map[string]string
	}
	setup := func(t *testing.T) fixture {
		s, users := newStores(t)
		r, ok := s.(orgapi.SessionRevoker)
		require.True(t, ok, "the session store does not implement orgapi.SessionRevoker")
		f := fixture{s: s, r: r, ids: map[string]string{}}
		for _, x := range []struct{ name, org, email string }{
			{"jane-laptop", "org_a", "jane@example.com"},
			{"jane-phone", "org_a", "jane@example.com"},
			{"sam", "org_a", "sam@example.com"},
			{"jane-at-b", "org_b", "jane@example.com"},
		} {
			u, err := users.UpsertUser(ctx, embedsso.Profile{OrgID: x.org, Email: x.email})
			require.NoError(t, err)
			f.ids[x.name] = hashOf(x.name)
			require.NoError(t, s.CreateSession(ctx, embedsso.Session{IDHash: f.ids[x.name], User: u, CreatedAt: epoch, ExpiresAt: epoch.Add(time.Hour)}))
		}
		return f
	}
	alive := func(t *testing.T, f fixture, name string, want bool) {
		t.Helper()
		_, err := f.s.FindSession(ctx, f.ids[name], epoch)
		if want {
			assert.NoError(t, err, "session %s must survive", name)
			return
		}
		assert.True(t, errors.Is(err, embedsso.ErrSessionNotFound), "session %s must be gone, got %v", name, err)
	}

	t.Run("revoking an organization's sessions ends all of its users' and no other org's", func(t *testing.T) {
		f := setup(t)
		n, err := f.r.RevokeOrgSessions(ctx, "org_a")
		require.NoError(t, err)
		assert.Equal(t, 3, n)
		alive(t, f, "jane-laptop", false)
		alive(t, f, "jane-phone", false)
		alive(t, f, "sam", false)
		alive(t, f, "jane-at-b", true)
	})
	t.Run("revoking by email ends that user's sessions in that org only", func(t *testing.T) {
		f := setup(t)
		n, err := f.r.RevokeEmailSessions(ctx, "org_a", "jane@example.com")
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		alive(t, f, "jane-laptop", false)
		alive(t, f, "jane-phone", false)
		alive(t, f, "sam", true)
		alive(t, f, "jane-at-b", true)
	})
	t.Run("revoking for an unknown org or email is 0 and no error", func(t *testing.T) {
		f := setup(t)
		n, err := f.r.RevokeOrgSessions(ctx, "org_nope")
		require.NoError(t, err)
		assert.Equal(t, 0, n)
		n, err = f.r.RevokeEmailSessions(ctx, "org_a", "nobody@example.com")
		require.NoError(t, err)
		assert.Equal(t, 0, n)
		alive(t, f, "sam", true)
	})
}
