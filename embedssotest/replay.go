package embedssotest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReplayStore checks an [embedsso.ReplayStore]. newStores returns two
// handles on the same empty database (for an in-memory store, the same value
// twice): a token id used through one must be refused through the other. If
// the store also has PurgeExpired(ctx, now) (int, error), purging is checked
// too.
func TestReplayStore(t *testing.T, newStores func(t *testing.T) (a, b embedsso.ReplayStore)) {
	ctx := context.Background()
	until := epoch.Add(10 * time.Minute)
	replayed := func(t *testing.T, err error) {
		t.Helper()
		require.Error(t, err)
		assert.True(t, errors.Is(err, embedsso.ErrTokenReplayed), "got %v", err)
	}

	t.Run("a token id is accepted once and refused afterwards", func(t *testing.T) {
		a, _ := newStores(t)
		require.NoError(t, a.UseTokenID(ctx, "org_a", "jti-1", until, epoch))
		replayed(t, a.UseTokenID(ctx, "org_a", "jti-1", until, epoch.Add(time.Second)))
		replayed(t, a.UseTokenID(ctx, "org_a", "jti-1", until, until.Add(-time.Second)))
	})
	t.Run("a refused attempt changes nothing, not even the expiry", func(t *testing.T) {
		a, _ := newStores(t)
		require.NoError(t, a.UseTokenID(ctx, "org_a", "jti-1", until, epoch))
		replayed(t, a.UseTokenID(ctx, "org_a", "jti-1", until.Add(time.Hour), epoch.Add(time.Second)))
		// Had the refused call stored its later expiry, the id would still be blocked.
		require.NoError(t, a.UseTokenID(ctx, "org_a", "jti-1", until.Add(time.Hour), until))
	})
	t.Run("the same id in another org is another token", func(t *testing.T) {
		a, _ := newStores(t)
		require.NoError(t, a.UseTokenID(ctx, "org_a", "jti-1", until, epoch))
		require.NoError(t, a.UseTokenID(ctx, "org_b", "jti-1", until, epoch))
	})
	t.Run("a token id used through one handle is refused through another", func(t *testing.T) {
		a, b := newStores(t)
		require.NoError(t, a.UseTokenID(ctx, "org_a", "shared", until, epoch))
		replayed(t, b.UseTokenID(ctx, "org_a", "shared", until, epoch))
	})
	t.Run("50 requests presenting one id at once: exactly one wins", func(t *testing.T) {
		a, b := newStores(t)
		errs := make([]error, racers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range racers {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = s.UseTokenID(ctx, "org_a", "race", until, epoch)
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for i, err := range errs {
			if err == nil {
				wins++
				continue
			}
			assert.True(t, errors.Is(err, embedsso.ErrTokenReplayed), "request %d: %v", i, err)
		}
		assert.Equal(t, 1, wins)
	})
	t.Run("an expired entry no longer blocks its id", func(t *testing.T) {
		a, _ := newStores(t)
		require.NoError(t, a.UseTokenID(ctx, "org_a", "old", until, epoch))
		require.NoError(t, a.UseTokenID(ctx, "org_a", "old", until.Add(10*time.Minute), until))
		replayed(t, a.UseTokenID(ctx, "org_a", "old", until.Add(10*time.Minute), until.Add(time.Minute)))
	})
	t.Run("expired entries are purged", func(t *testing.T) {
		a, _ := newStores(t)
		p, ok := a.(purger)
		if !ok {
			t.Skip("the replay store has no PurgeExpired method")
		}
		require.NoError(t, a.UseTokenID(ctx, "org_a", "stale-1", until, epoch))
		require.NoError(t, a.UseTokenID(ctx, "org_a", "stale-2", until, epoch))
		require.NoError(t, a.UseTokenID(ctx, "org_a", "live", until.Add(time.Hour), epoch))
		n, err := p.PurgeExpired(ctx, until)
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		replayed(t, a.UseTokenID(ctx, "org_a", "live", until.Add(time.Hour), until))
	})
}
