package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/internal/pgtest"
	"github.com/embedsso/embedsso/orgapi"
	"github.com/embedsso/embedsso/signer"
	"github.com/embedsso/embedsso/sqlstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pg is a PostgreSQL server the first test that needs it starts; TestMain
// stops it.
var pg struct {
	once   sync.Once
	server *pgtest.Server
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pg.server != nil {
		pg.server.Stop()
	}
	os.Exit(code)
}

func postgres(t *testing.T) *pgtest.Server {
	t.Helper()
	pg.once.Do(func() { pg.server, pg.err = pgtest.Start() })
	if errors.Is(pg.err, pgtest.ErrNoBinaries) && os.Getenv("CI") == "" {
		t.Skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
	}
	require.NoError(t, pg.err)
	return pg.server
}

var roOrg = embedsso.Org{ID: "org_ro", EmbeddingEnabled: true, AllowedOrigins: []string{"https://portal.ro.example"},
	Secrets: []embedsso.Secret{{KeyID: "k1", Value: testSecret}}}

func roToken(t *testing.T) string {
	t.Helper()
	tok, err := signer.Signer{Secret: testSecret, TTL: time.Minute}.Sign(signer.Claims{Email: "jane@ro.example", OrgID: "org_ro"})
	require.NoError(t, err)
	return tok
}

// fileState is a SQLite file's bytes and which of its -wal and -shm exist.
func fileState(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	state := fmt.Sprintf("%x", sha256.Sum256(b))
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if _, err := os.Stat(path + suffix); err == nil {
			state += " " + suffix
		}
	}
	return state
}

// The commands that read (inspect -db, org get) open the database
// read-only: they create no table, leave SQLite's journal mode alone, write
// no row (not even org get dropping a secret past its grace period), and
// work as a PostgreSQL role granted only SELECT.
func TestReadingCommandsWriteNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reads := func(dsn string) [][]string {
		return [][]string{
			{"inspect", roToken(t), "-db", dsn, "-origin", "https://portal.ro.example"},
			{"org", "get", "-db", dsn, "-id", "org_ro"},
			{"org", "get", "-db", dsn, "-id", "org_ro", "-secret"},
		}
	}

	t.Run("sqlite: a file in rollback-journal mode stays byte for byte as it was", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "plain.db")
		db, err := sql.Open("sqlite", "file:"+path)
		require.NoError(t, err)
		require.NoError(t, sqlstore.Migrate(ctx, db))
		require.NoError(t, sqlstore.New(db).PutOrg(ctx, roOrg))
		// A secret past its grace period: GET drops it from its answer,
		// and would drop it from the store were it allowed to write.
		_, err = sqlstore.New(db).UpdateOrg(ctx, "org_ro", func(r *orgapi.OrgRecord) error {
			r.Secrets = append(r.Secrets, embedsso.Secret{KeyID: "old", Value: "an-old-secret-past-its-grace-0123456789-abc", ExpiresAt: time.Now().Add(-time.Hour)})
			return nil
		})
		require.NoError(t, err)
		require.NoError(t, db.Close())
		before := fileState(t, path)
		for _, args := range reads(path) {
			r := embedssoCmd(t, nil, args...)
			assert.Equal(t, 0, r.code, "%v: %s", args[:2], r.stderr)
			assert.Empty(t, r.stderr, "%v", args[:2])
			assert.Equal(t, before, fileState(t, path), "%v changed the file", args[:2])
		}
		o := decodeOrg(t, embedssoCmd(t, nil, "org", "get", "-db", path, "-id", "org_ro"))
		assert.Len(t, o.JWTSecrets, 1, "the answer drops the expired secret, as the API's")
		db, err = sql.Open("sqlite", "file:"+path+"?mode=ro")
		require.NoError(t, err)
		defer db.Close()
		var mode string
		require.NoError(t, db.QueryRow("PRAGMA journal_mode").Scan(&mode))
		assert.Equal(t, "delete", mode, "no switch to WAL")
	})

	t.Run("sqlite: a file without embedsso's tables is refused, and gets none", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "other-app.db")
		db, err := sql.Open("sqlite", "file:"+path)
		require.NoError(t, err)
		_, err = db.Exec("CREATE TABLE notes (body TEXT)")
		require.NoError(t, err)
		require.NoError(t, db.Close())
		before := fileState(t, path)
		for _, args := range reads(path) {
			r := embedssoCmd(t, nil, args...)
			assert.Equal(t, 1, r.code, "%v", args[:2])
			assert.Contains(t, r.stderr, "no embedsso tables, so nothing to read", "%v", args[:2])
			assert.Equal(t, before, fileState(t, path), "%v changed the file", args[:2])
		}
		for _, args := range [][]string{
			{"org", "update", "-db", path, "-id", "org_ro", "-name", "x"},
			{"org", "rotate", "-db", path, "-id", "org_ro"},
			{"apikey", "revoke", "-db", path, "0123456789abcdef"},
		} {
			r := embedssoCmd(t, nil, args...)
			assert.Equal(t, 1, r.code, "%v", args[:2])
			assert.Contains(t, r.stderr, "no embedsso tables", "%v: only create commands migrate", args[:2])
			assert.Equal(t, before, fileState(t, path), "%v changed the file", args[:2])
		}
	})

	t.Run("sqlite: a command that migrates says so", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "new.db")
		r := embedssoCmd(t, nil, "org", "create", "-db", path, "-id", "org_new", "-name", "New")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "embedsso: the database had no embedsso tables: created them (sqlstore.Migrate)\n", r.stderr)
		r = embedssoCmd(t, nil, "org", "create", "-db", path, "-id", "org_new2", "-name", "New 2")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Empty(t, r.stderr, "no message once the tables exist")
	})

	t.Run("postgres: as a role granted only SELECT", func(t *testing.T) {
		t.Parallel()
		server := postgres(t)
		open := func(dsn string) (*sql.DB, error) { return sql.Open("pgx", dsn) }
		dsn, err := server.NewDatabase(ctx, open)
		require.NoError(t, err)
		owner, err := open(dsn)
		require.NoError(t, err)
		defer owner.Close()
		require.NoError(t, sqlstore.Migrate(ctx, owner))
		require.NoError(t, sqlstore.New(owner).PutOrg(ctx, roOrg))
		reader, err := server.NewReader(ctx, open, dsn)
		require.NoError(t, err)
		for _, args := range reads(reader) {
			r := embedssoCmd(t, nil, args...)
			assert.Equal(t, 0, r.code, "%v: %s", args[:2], r.stderr)
			assert.Empty(t, r.stderr, "%v", args[:2])
		}
		assert.Contains(t, embedssoCmd(t, nil, reads(reader)[0]...).stdout, "verdict: signs in")
		r := embedssoCmd(t, nil, "org", "update", "-db", reader, "-id", "org_ro", "-name", "x")
		assert.Equal(t, 1, r.code, "the role cannot write: %s", r.stdout)

		bare, err := server.NewDatabase(ctx, open)
		require.NoError(t, err)
		r = embedssoCmd(t, nil, "inspect", roToken(t), "-db", bare)
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "no embedsso tables")
		b, err := open(bare)
		require.NoError(t, err)
		defer b.Close()
		var n int
		require.NoError(t, b.QueryRow(`SELECT count(*) FROM pg_tables WHERE tablename LIKE 'embedsso%'`).Scan(&n))
		assert.Zero(t, n, "inspect created no table")
	})
}

// Files the commands create hold secrets: the SQLite file (and SQLite's
// -wal and -shm beside it, which take its permissions) is 0600.
func TestCreatedDatabaseFilesArePrivate(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"org", "create", "-name", "Acme"},
		{"apikey", "create", "-admin"},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "app.db")
			r := embedssoCmd(t, nil, append(args, "-db", path)...)
			require.Equal(t, 0, r.code, r.stderr)
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				info, err := os.Stat(p)
				if errors.Is(err, os.ErrNotExist) && p != path {
					continue
				}
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), p)
			}
		})
	}
}
