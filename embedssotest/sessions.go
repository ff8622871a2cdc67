package embedssotest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSessionStore checks an [cookiesession.Store]. newStores returns the
// session store and a user store over the same empty database: sessions
// belong to users the user store created. If the session store also has
// PurgeExpired(ctx, now) (int, error), purging is checked too.
func TestSessionStore(t *testing.T, newStores func(t *testing.T) (cookiesession.Store, embedsso.UserStore)) {
	ctx := context.Background()
	var lastUsers embedsso.UserStore // the user store of the latest setup
	setup := func(t *testing.T) (cookiesession.Store, embedsso.User, embedsso.User) {
		s, users := newStores(t)
		lastUsers = users
		jane, err := users.UpsertUser(ctx, embedsso.Profile{OrgID: "org_a", Email: "jane@example.com", FirstName: "Jane", Role: "MEMBER"})
		require.NoError(t, err)
		sam, err := users.UpsertUser(ctx, embedsso.Profile{OrgID: "org_a", Email: "sam@example.com", Role: "VIEWER"})
		require.NoError(t, err)
		return s, jane, sam
	}
	create := func(t *testing.T, s cookiesession.Store, name string, u embedsso.User, ttl time.Duration) embedsso.Session {
		sess := embedsso.Session{IDHash: hashOf(name), User: u, CreatedAt: epoch, ExpiresAt: epoch.Add(ttl)}
		require.NoError(t, s.CreateSession(ctx, sess))
		return sess
	}
	notFound := func(t *testing.T, s cookiesession.Store, idHash string, now time.Time) {
		t.Helper()
		_, err := s.FindSession(ctx, idHash, now)
		require.Error(t, err)
		assert.True(t, errors.Is(err, embedsso.ErrSessionNotFound), "got %v", err)
	}

	t.Run("a created session is found by its hash, with its user", func(t *testing.T) {
		s, jane, _ := setup(t)
		want := create(t, s, "one", jane, time.Hour)
		got, err := s.FindSession(ctx, want.IDHash, epoch.Add(time.Minute))
		require.NoError(t, err)
		assert.Equal(t, want.IDHash, got.IDHash)
		assert.Equal(t, profileOf(jane), profileOf(got.User))
		assert.Equal(t, jane.ID, got.User.ID)
		assert.WithinDuration(t, want.ExpiresAt, got.ExpiresAt, time.Millisecond)
	})
	t.Run("a session keeps the organization epoch it was created with", func(t *testing.T) {
		// The guard refuses a session whose OrgEpoch is not its
		// organization's Epoch (embedsso.Org.Epoch): a store that drops it
		// ends every session of an organization that ever ended them all.
		s, jane, sam := setup(t)
		for i, u := range []embedsso.User{jane, sam} {
			want := embedsso.Session{IDHash: hashOf(fmt.Sprint("epoch", i)), User: u, CreatedAt: epoch, ExpiresAt: epoch.Add(time.Hour),
				OrgEpoch: int64(i) * (1 << 40)}
			require.NoError(t, s.CreateSession(ctx, want))
			got, err := s.FindSession(ctx, want.IDHash, epoch)
			require.NoError(t, err)
			assert.Equal(t, want.OrgEpoch, got.OrgEpoch)
		}
	})
	t.Run("a forged or unknown hash is ErrSessionNotFound", func(t *testing.T) {
		s, jane, _ := setup(t)
		real := create(t, s, "real", jane, time.Hour)
		notFound(t, s, hashOf("forged"), epoch)
		notFound(t, s, real.IDHash[:63]+"0", epoch)
		notFound(t, s, "", epoch)
		notFound(t, s, "' OR '1'='1", epoch)
	})
	t.Run("a session expires at its expiry time", func(t *testing.T) {
		s, jane, _ := setup(t)
		sess := create(t, s, "short", jane, time.Minute)
		_, err := s.FindSession(ctx, sess.IDHash, sess.ExpiresAt.Add(-time.Second))
		require.NoError(t, err, "valid one second before expiry")
		notFound(t, s, sess.IDHash, sess.ExpiresAt)
		notFound(t, s, sess.IDHash, sess.ExpiresAt.Add(time.Hour))
	})
	t.Run("a revoked session is not found, and revoking twice is fine", func(t *testing.T) {
		s, jane, _ := setup(t)
		sess := create(t, s, "revoke-me", jane, time.Hour)
		keep := create(t, s, "keep-me", jane, time.Hour)
		require.NoError(t, s.RevokeSession(ctx, sess.IDHash))
		require.NoError(t, s.RevokeSession(ctx, sess.IDHash))
		require.NoError(t, s.RevokeSession(ctx, hashOf("never existed")))
		notFound(t, s, sess.IDHash, epoch)
		_, err := s.FindSession(ctx, keep.IDHash, epoch)
		assert.NoError(t, err, "other sessions survive")
	})
	t.Run("revoking a user's sessions revokes all of theirs and no one else's", func(t *testing.T) {
		s, jane, sam := setup(t)
		a := create(t, s, "jane-laptop", jane, time.Hour)
		b := create(t, s, "jane-phone", jane, time.Hour)
		c := create(t, s, "sam", sam, time.Hour)
		require.NoError(t, s.RevokeUserSessions(ctx, "org_other", jane.ID))
		_, err := s.FindSession(ctx, a.IDHash, epoch)
		require.NoError(t, err, "the org must match too")
		require.NoError(t, s.RevokeUserSessions(ctx, jane.OrgID, jane.ID))
		notFound(t, s, a.IDHash, epoch)
		notFound(t, s, b.IDHash, epoch)
		_, err = s.FindSession(ctx, c.IDHash, epoch)
		assert.NoError(t, err)
	})
	t.Run("a session ends at its idle expiry, and touching moves it", func(t *testing.T) {
		s, jane, _ := setup(t)
		sess := embedsso.Session{IDHash: hashOf("idle"), User: jane, CreatedAt: epoch,
			ExpiresAt: epoch.Add(8 * time.Hour), IdleExpiresAt: epoch.Add(30 * time.Minute)}
		require.NoError(t, s.CreateSession(ctx, sess))
		got, err := s.FindSession(ctx, sess.IDHash, epoch.Add(29*time.Minute))
		require.NoError(t, err, "valid before its idle expiry")
		assert.WithinDuration(t, sess.IdleExpiresAt, got.IdleExpiresAt, time.Millisecond)
		notFound(t, s, sess.IDHash, epoch.Add(30*time.Minute))

		require.NoError(t, s.TouchSession(ctx, sess.IDHash, epoch.Add(time.Hour)))
		got, err = s.FindSession(ctx, sess.IDHash, epoch.Add(59*time.Minute))
		require.NoError(t, err, "touched: valid until the new idle expiry")
		assert.WithinDuration(t, epoch.Add(time.Hour), got.IdleExpiresAt, time.Millisecond)
		notFound(t, s, sess.IDHash, epoch.Add(time.Hour))
		require.NoError(t, s.TouchSession(ctx, hashOf("never existed"), epoch.Add(time.Hour)), "touching an unknown session is not an error")
	})
	t.Run("a session carries its user as the user store holds it now", func(t *testing.T) {
		s, jane, _ := setup(t)
		sess := create(t, s, "current", jane, time.Hour)
		// A later login changes the user's role and names.
		changed, err := lastUsers.UpsertUser(ctx, embedsso.Profile{OrgID: jane.OrgID, Email: jane.Email, FirstName: "Janet", LastName: "Roe", Role: "ADMIN"})
		require.NoError(t, err)
		require.Equal(t, jane.ID, changed.ID)
		got, err := s.FindSession(ctx, sess.IDHash, epoch)
		require.NoError(t, err)
		assert.Equal(t, profileOf(changed), profileOf(got.User))
	})
	t.Run("expired sessions are purged", func(t *testing.T) {
		s, jane, _ := setup(t)
		p, ok := s.(purger)
		if !ok {
			t.Skip("the session store has no PurgeExpired method")
		}
		old := create(t, s, "old", jane, time.Minute)
		fresh := create(t, s, "fresh", jane, time.Hour)
		n, err := p.PurgeExpired(ctx, epoch.Add(2*time.Minute))
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		// The purged session is gone even for a clock that would still accept it.
		notFound(t, s, old.IDHash, epoch)
		_, err = s.FindSession(ctx, fresh.IDHash, epoch)
		assert.NoError(t, err)
	})
}

func hashOf(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])
}
