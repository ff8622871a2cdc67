package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemoryStorage(t *testing.T) {
	t.Parallel()
	t.Run("-db memory drives the whole flow and says so in the banner", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		var out strings.Builder
		ready := make(chan urls, 1)
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"-addr", "localhost:0", "-customer-addr", "127.0.0.1:0", "-db", "memory"}, &out, io.Discard, ready)
		}()
		t.Cleanup(func() {
			cancel()
			require.NoError(t, <-done)
		})
		u := <-ready
		assert.Contains(t, out.String(), "storage:                 memory (lost when the server stops)")

		cookie, landing, _ := signIn(t, u, iframeSrc(t, u, ""))
		assert.Equal(t, http.StatusOK, landing.StatusCode)
		res, body := get(t, u.app+"/api/me", "", cookie)
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Contains(t, body, `"email":"jane@example.com"`)
	})
	t.Run("purging the memory store purges sessions and token ids and adds up what it deleted", func(t *testing.T) {
		t.Parallel()
		s, err := memoryStores([]embedsso.Org{{ID: "org_a"}})
		require.NoError(t, err)
		ctx := context.Background()
		t0 := time.Unix(1_800_000_000, 0)
		require.NoError(t, s.sessions.CreateSession(ctx, embedsso.Session{IDHash: "a", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}))
		require.NoError(t, s.replay.UseTokenID(ctx, "org_a", "jti-1", t0.Add(time.Minute), t0))
		require.NoError(t, s.replay.UseTokenID(ctx, "org_a", "jti-2", t0.Add(time.Minute), t0))
		n, err := s.purger.PurgeExpired(ctx, t0.Add(time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 3, n)
		assert.Zero(t, s.sessions.(*memstore.Store).SessionCount())
		assert.Zero(t, s.replay.(*memstore.Store).TokenIDCount())
	})
}
