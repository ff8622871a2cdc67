package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A short run on every storage: every login and authenticated request
// succeeds and each phase counts some. No figure is judged: timing belongs
// to real runs.
func TestEveryStorageServesTheWholeFlowWithoutErrors(t *testing.T) {
	if _, err := findPostgres(); err != nil && os.Getenv("CI") != "" {
		t.Fatalf("CI must measure PostgreSQL too: %v", err)
	}
	o, err := parseFlags([]string{"-duration", "1s", "-clients", "8"}, io.Discard)
	require.NoError(t, err)
	var log strings.Builder
	results, err := run(context.Background(), o, &log)
	require.NoError(t, err, log.String())

	want := []string{"floor", "memory", "sqlite", "postgres"}
	if strings.Contains(log.String(), "postgres: skipped") {
		t.Log("no PostgreSQL binaries: postgres not measured")
		want = want[:3]
	}
	require.Len(t, results, len(want))
	for i, r := range results {
		assert.Equal(t, want[i], r.storage)
		for name, p := range map[string]phase{"login": r.logins, "authenticated": r.authd} {
			assert.Zero(t, p.errors, "%s %s: %v", r.storage, name, p.firstErr)
			assert.Positive(t, p.completed, "%s %s", r.storage, name)
			assert.NotEmpty(t, p.latencies, "%s %s", r.storage, name)
		}
	}
	var table strings.Builder
	writeTable(&table, results, o)
	for _, s := range want {
		assert.Contains(t, table.String(), "| "+s+" | ")
	}
}

func TestTheTableGivesRatiosToTheFloor(t *testing.T) {
	t.Parallel()
	ph := func(completed int, lat ...time.Duration) phase {
		return phase{window: time.Second, completed: completed, latencies: lat}
	}
	results := []result{
		{storage: "floor", logins: ph(1000, time.Millisecond), authd: ph(4000, time.Millisecond)},
		{storage: "memory", logins: ph(500, 2*time.Millisecond, 3*time.Millisecond), authd: ph(1000, time.Millisecond)},
	}
	var b strings.Builder
	writeTable(&b, results, options{clients: 32, duration: 10 * time.Second, warmup: time.Second})
	assert.Contains(t, b.String(), "| floor | 1000 | 1.00 ms | 1.00 ms | 4000 | 1.00 ms | 1.00 ms | 1.00× | 1.00× | 0 |")
	assert.Contains(t, b.String(), "| memory | 500 | 2.00 ms | 2.00 ms | 1000 | 1.00 ms | 1.00 ms | 0.50× | 0.25× | 0 |")
}

func TestFlags(t *testing.T) {
	t.Parallel()
	o, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 10*time.Second, o.duration)
	assert.Equal(t, time.Second, o.warmup)
	assert.Equal(t, 32, o.clients)
	assert.Equal(t, defaultStorages, o.storages)
	assert.Equal(t, "auto", o.pg)

	for _, args := range [][]string{
		{"-storages", "memory,redis"},
		{"-pg", "mysql://x"},
		{"-duration", "0s"},
		{"-clients", "0"},
		{"extra"},
	} {
		_, err := parseFlags(args, io.Discard)
		assert.Error(t, err, "%q is refused", args)
	}
}

// fakeApp answers as the example does, and refuses whatever a browser would
// not send: a login with cookies or without the allowed Origin, a check
// without both cookies the login set.
func fakeApp(org loadOrg) http.Handler {
	var sessions sync.Map // session id → email
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/sso/jwt", func(w http.ResponseWriter, r *http.Request) {
		if id := r.URL.Query().Get("sso_check"); id != "" {
			s, err1 := r.Cookie("app_session")
			h, err2 := r.Cookie("app_session_org")
			if err1 != nil || err2 != nil || s.Value != id || h.Value != org.id {
				http.Error(w, "cookie blocked", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/dashboard", http.StatusFound)
			return
		}
		parts := strings.Split(r.URL.Query().Get("jwt"), ".")
		if r.Header.Get("Origin") != org.origin || r.Header.Get("Cookie") != "" || len(parts) != 3 {
			http.Error(w, "bad login", http.StatusBadRequest)
			return
		}
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c struct{ Email string }
		if json.Unmarshal(payload, &c) != nil || c.Email == "" {
			http.Error(w, "bad token", http.StatusBadRequest)
			return
		}
		id := "s" + strconv.FormatInt(n.Add(1), 10)
		sessions.Store(id, c.Email)
		http.SetCookie(w, &http.Cookie{Name: "app_session", Value: id, Secure: true})
		http.SetCookie(w, &http.Cookie{Name: "app_session_org", Value: org.id, Secure: true})
		w.Header().Set("Location", "?sso_check="+id) // relative, as the library writes it
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		s, err := r.Cookie("app_session")
		if err != nil {
			http.Error(w, "not signed in", http.StatusUnauthorized)
			return
		}
		email, ok := sessions.Load(s.Value)
		if !ok {
			http.Error(w, "not signed in", http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"email": email})
	})
	return mux
}

func TestTheClientsActAsBrowsers(t *testing.T) {
	t.Parallel()
	org := newLoadOrg()
	srv := httptest.NewUnstartedServer(fakeApp(org))
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	o := options{duration: 500 * time.Millisecond, warmup: 50 * time.Millisecond, clients: 4}
	r := measure(context.Background(), "fake", srv.URL, org, o, nil)
	for name, p := range map[string]phase{"login": r.logins, "authenticated": r.authd} {
		assert.Zero(t, p.errors, "%s: %v", name, p.firstErr)
		assert.Positive(t, p.completed, name)
	}
	// Keep-alive: a handful of connections for hundreds of requests. (Not
	// exactly one per client: a request may race its connection's return
	// to the idle pool and dial another.)
	requests := 2*len(r.logins.latencies) + len(r.authd.latencies)
	assert.Greater(t, requests, 100)
	assert.LessOrEqual(t, int(conns.Load()), 2*o.clients, "connections for %d requests", requests)
}

// The throwaway PostgreSQL keeps its commits durable: a login's price there
// includes the flush to disk, as in production.
func TestTheThrowawayPostgreSQLCommitsDurably(t *testing.T) {
	t.Parallel()
	if _, err := findPostgres(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must measure PostgreSQL too: %v", err)
		}
		t.Skip(err)
	}
	s, err := startPostgres(context.Background())
	require.NoError(t, err)
	defer func() { assert.NoError(t, s.stop()) }()
	for _, setting := range []string{"fsync", "synchronous_commit"} {
		out, err := s.run(context.Background(), "psql", "-h", s.dir, "-p", strconv.Itoa(s.port), "-U", "postgres", "-d", "postgres", "-tAc", "SHOW "+setting)
		require.NoError(t, err, string(out))
		assert.Equal(t, "on", strings.TrimSpace(string(out)), setting)
	}
}

// -two-instances starts a second example server on the same database and
// sends it page views of every session while half of them sign out on the
// first: on SQLite and PostgreSQL, no signed-out session is accepted on
// the second past sqlstore's bound, and no other session is refused.
func TestTwoInstancesShowARevocationUnderLoad(t *testing.T) {
	storages := "sqlite,postgres"
	if _, err := findPostgres(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must measure PostgreSQL too: %v", err)
		}
		storages = "sqlite"
	}
	o, err := parseFlags([]string{"-duration", "1s", "-clients", "4", "-storages", storages, "-two-instances"}, io.Discard)
	require.NoError(t, err)
	var log strings.Builder
	results, err := run(context.Background(), o, &log)
	require.NoError(t, err, log.String())
	require.Len(t, results, len(strings.Split(storages, ",")))
	for _, r := range results {
		rv := r.revocation
		require.NotNil(t, rv, r.storage)
		assert.NoError(t, rv.firstErr, r.storage)
		assert.Equal(t, 2, rv.signedOut, r.storage)
		assert.Positive(t, rv.views, r.storage)
		assert.Zero(t, rv.pastBound, "%s: accepted past the bound (latest %v)", r.storage, rv.lastSeen)
		assert.Zero(t, rv.keptErrors, r.storage)
	}
	var table strings.Builder
	writeRevocations(&table, results)
	t.Log("\n" + table.String())
	assert.Contains(t, table.String(), "| sqlite | ")
}

// -storages scs-sqlite,scs-postgres runs the floor with its sessions in
// scs on SQLite and PostgreSQL: every login and authenticated request
// succeeds, and beside the example on the same storage the table gives
// the example's authenticated req/s as a ratio to scs's. No figure is
// judged.
func TestSCSOnTheSameStorageIsMeasuredBesideTheExample(t *testing.T) {
	storages := []string{"sqlite", "scs-sqlite", "postgres", "scs-postgres"}
	if _, err := findPostgres(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must measure PostgreSQL too: %v", err)
		}
		storages = storages[:2]
	}
	o, err := parseFlags([]string{"-duration", "1s", "-clients", "4", "-storages", strings.Join(storages, ",")}, io.Discard)
	require.NoError(t, err)
	var log strings.Builder
	results, err := run(context.Background(), o, &log)
	require.NoError(t, err, log.String())
	require.Len(t, results, len(storages))
	for i, r := range results {
		assert.Equal(t, storages[i], r.storage)
		for name, p := range map[string]phase{"login": r.logins, "authenticated": r.authd} {
			assert.Zero(t, p.errors, "%s %s: %v", r.storage, name, p.firstErr)
			assert.Positive(t, p.completed, "%s %s", r.storage, name)
		}
	}
	var table strings.Builder
	writeTable(&table, results, o)
	t.Log("\n" + table.String())
	assert.Contains(t, table.String(), "sqlite: authenticated req/s ")
}
