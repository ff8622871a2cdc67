package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/embedsso/embedsso/orgapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var bannerKey = regexp.MustCompile(`\n  admin API key: +(esk_\S+)\n`)

// apiGet calls the organization API of the example at app with key.
func apiGet(t *testing.T, app, path, key string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, app+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := noRedirects.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// The example mounts the organization API and prints an admin key for it;
// the next start replaces that key, so only the newest banner's works.
func TestTheBannerKeyOpensTheOrganizationAPI(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	var first string
	runOnBanner(t, db, func(u urls, banner string) {
		m := bannerKey.FindStringSubmatch(banner)
		require.NotNil(t, m, banner)
		first = m[1]
		status, body := apiGet(t, u.app, "/api/public/organizations/org_demo", first)
		assert.Equal(t, http.StatusOK, status, body)
		assert.Contains(t, body, `"id":"org_demo"`)
		assert.NotContains(t, body, `"jwtSecret"`)
	})
	runOnBanner(t, db, func(u urls, banner string) {
		m := bannerKey.FindStringSubmatch(banner)
		require.NotNil(t, m, banner)
		assert.NotEqual(t, first, m[1])
		status, _ := apiGet(t, u.app, "/api/public/organizations/org_demo", first)
		assert.Equal(t, http.StatusUnauthorized, status, "the previous start's key was replaced")
		status, _ = apiGet(t, u.app, "/api/public/organizations/org_demo", m[1])
		assert.Equal(t, http.StatusOK, status)
	})
}

// EMBEDSSO_ADMIN_KEY keeps one key across restarts; a malformed one stops
// the start without echoing it.
func TestTheAdminKeyFromTheEnvironment(t *testing.T) {
	key, _, err := orgapi.NewKey("", orgapi.KeyScope{Admin: true}, time.Now())
	require.NoError(t, err)
	t.Setenv(adminKeyEnv, key)
	db := filepath.Join(t.TempDir(), "app.db")
	for range 2 {
		runOnBanner(t, db, func(u urls, banner string) {
			assert.Contains(t, banner, "\n  admin API key:           "+key+"\n")
			status, body := apiGet(t, u.app, "/api/public/organizations/org_demo", key)
			assert.Equal(t, http.StatusOK, status, body)
		})
	}
	t.Setenv(adminKeyEnv, "letmein")
	err = runErr(t, db)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "$EMBEDSSO_ADMIN_KEY")
	assert.NotContains(t, err.Error(), "letmein")
}

// syncBuffer is a writer the example's goroutines and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runOnBanner runs the example on db and calls body with its banner while
// it serves.
func runOnBanner(t *testing.T, db string, body func(u urls, banner string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	ready, done := make(chan urls, 1), make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "localhost:0", "-customer-addr", "127.0.0.1:0", "-db", db}, &out, io.Discard, ready)
	}()
	select {
	case u := <-ready:
		body(u, out.String())
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	cancel()
	require.NoError(t, <-done)
}

// runErr runs the example on db and returns the error it stops with
// before it serves; a start that serves fails the test.
func runErr(t *testing.T, db string) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready, done := make(chan urls, 1), make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "localhost:0", "-customer-addr", "127.0.0.1:0", "-db", db}, io.Discard, io.Discard, ready)
	}()
	select {
	case <-ready:
		cancel()
		<-done
		t.Fatal("the example started")
		return nil
	case err := <-done:
		return err
	}
}

// With -db memory the API runs on the in-memory stores.
func TestTheOrganizationAPIOnMemoryStorage(t *testing.T) {
	runOnBanner(t, "memory", func(u urls, banner string) {
		m := bannerKey.FindStringSubmatch(banner)
		require.NotNil(t, m, banner)
		status, body := apiGet(t, u.app, "/api/public/organizations/org_demo", m[1])
		assert.Equal(t, http.StatusOK, status, body)
		assert.Contains(t, body, `"fullEmbedEnabled":true`)
	})
}
