package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// -db's SQLite value reaches the driver with its options, and
// synchronous(NORMAL) is added unless they choose a synchronous.
func TestSQLiteDSN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, flag, dsn, path string }{
		{"no -db is the default file with synchronous NORMAL", "", "file:embedsso-example.db?_pragma=synchronous(NORMAL)", defaultDB},
		{"a path gets synchronous NORMAL", "/data/app.db", "file:/data/app.db?_pragma=synchronous(NORMAL)", "/data/app.db"},
		{"the sqlite: prefix is dropped", "sqlite:app.db", "file:app.db?_pragma=synchronous(NORMAL)", "app.db"},
		{"the file: prefix is dropped", "file:app.db", "file:app.db?_pragma=synchronous(NORMAL)", "app.db"},
		{"other options are kept and NORMAL is added", "app.db?_pragma=cache_size(-8000)&_txlock=immediate",
			"file:app.db?_pragma=cache_size(-8000)&_txlock=immediate&_pragma=synchronous(NORMAL)", "app.db"},
		{"a synchronous pragma of the user's is kept alone", "app.db?_pragma=synchronous(FULL)", "file:app.db?_pragma=synchronous(FULL)", "app.db"},
		{"the _sync shorthand counts as a choice", "app.db?_sync=FULL", "file:app.db?_sync=FULL", "app.db"},
		{"the _synchronous shorthand counts as a choice", "app.db?_synchronous=EXTRA", "file:app.db?_synchronous=EXTRA", "app.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn, path, err := sqliteDSN(tc.flag)
			require.NoError(t, err)
			assert.Equal(t, tc.dsn, dsn)
			assert.Equal(t, tc.path, path)
		})
	}
	t.Run("malformed options are an error", func(t *testing.T) {
		_, _, err := sqliteDSN("app.db?_pragma=%zz")
		assert.ErrorContains(t, err, "options")
	})
}

// The options reach the driver: one it rejects stops the start (before,
// -db dropped everything after '?'), and a valid one serves logins.
func TestDBOptionsReachTheDriver(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "x.db") + "?_txlock=bogus"
	err := run(context.Background(), []string{"-addr", "localhost:0", "-customer-addr", "127.0.0.1:0", "-db", bad}, io.Discard, io.Discard, nil)
	assert.ErrorContains(t, err, "_txlock")

	u := start(t, "-db", filepath.Join(t.TempDir(), "full.db")+"?_pragma=synchronous(FULL)")
	cookie, landing, _ := signIn(t, u, iframeSrc(t, u, "?email=full@example.com"))
	assert.Equal(t, http.StatusOK, landing.StatusCode)
	res, _ := get(t, u.app+"/api/me", "", cookie)
	assert.Equal(t, http.StatusOK, res.StatusCode)
}

// The SQLite file the example creates holds the organizations' secrets:
// it is created 0600, and SQLite's -wal and -shm beside it take its
// permissions while the server runs.
func TestTheCreatedSQLiteFileIsPrivate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "private.db")
	start(t, "-db", path)
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) && p != path {
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o600), info.Mode().Perm(), p)
	}
}
