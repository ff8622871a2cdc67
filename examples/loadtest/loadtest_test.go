package main

import (
	"context"
	"io"
	"os"
	"strings"
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
	assert.Equal(t, allStorages, o.storages)
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
