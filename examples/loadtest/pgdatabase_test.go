package main

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With -pg DSN, each measurement gets a new database on that server, and
// the database is gone once the measurement stops with it.
func TestPgDSNGivesEachMeasurementANewDatabase(t *testing.T) {
	t.Parallel()
	if _, err := findPostgres(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must measure PostgreSQL too: %v", err)
		}
		t.Skip(err)
	}
	ctx := context.Background()
	s, err := startPostgres(ctx)
	require.NoError(t, err)
	defer func() { assert.NoError(t, s.stop()) }()

	exists := func(name string) bool {
		conn, err := pgx.Connect(ctx, s.dsn())
		require.NoError(t, err)
		defer conn.Close(ctx)
		var n int
		require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n))
		return n == 1
	}
	first, dropFirst, skip, err := postgresDSN(ctx, s.dsn(), io.Discard)
	require.NoError(t, err)
	require.False(t, skip)
	second, dropSecond, _, err := postgresDSN(ctx, s.dsn(), io.Discard)
	require.NoError(t, err)

	assert.NotEqual(t, databaseName(first), databaseName(second))
	for _, dsn := range []string{first, second} {
		assert.NotEqual(t, "postgres", databaseName(dsn), "not the DSN's own database")
		assert.True(t, exists(databaseName(dsn)), dsn)
		// The DSN reaches that database, and it is empty.
		conn, err := pgx.Connect(ctx, dsn)
		require.NoError(t, err)
		var tables int
		require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables))
		assert.Zero(t, tables)
		// A connection left open, as a killed server may leave one, does
		// not keep the database from being dropped.
		defer conn.Close(ctx)
	}
	require.NoError(t, dropFirst())
	require.NoError(t, dropSecond())
	assert.False(t, exists(databaseName(first)))
	assert.False(t, exists(databaseName(second)))
}

func TestRedactedHidesPasswordsInTheLog(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		{name: "a DSN with a password loses it", in: []string{"-db", "postgres://app:s3cret@db:5432/x"}, want: []string{"-db", "postgres://app:xxxxx@db:5432/x"}},
		{name: "a DSN without a password stays", in: []string{"-db", "postgres://postgres@127.0.0.1:5432/x?sslmode=disable"}, want: []string{"-db", "postgres://postgres@127.0.0.1:5432/x?sslmode=disable"}},
		{name: "paths and flags stay", in: []string{"-orgs", "/tmp/orgs.json", "-addr", "127.0.0.1:0"}, want: []string{"-orgs", "/tmp/orgs.json", "-addr", "127.0.0.1:0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, redacted(tc.in))
		})
	}
}
