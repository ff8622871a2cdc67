package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/orgapi"
	"github.com/embedsso/embedsso/sqlstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var readOnlyOrg = embedsso.Org{ID: "org_ro", EmbeddingEnabled: true,
	Secrets: []embedsso.Secret{{Value: "read-only-test-secret-0123456789-abcdefghij"}}}

// OpenReadOnly reads a migrated database and writes nothing to it: writes
// through the Store fail, on PostgreSQL also as a role granted only SELECT
// (which cannot Migrate), and a SQLite file keeps its journal mode.
func TestOpenReadOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, kind := range []string{"postgres", "sqlite"} {
		t.Run(kind+": reads, and refuses every write", func(t *testing.T) {
			t.Parallel()
			db := newDatabase(t, kind)
			require.NoError(t, sqlstore.New(db.open(t)).PutOrg(ctx, readOnlyOrg))
			ro, err := sqlstore.OpenReadOnly(ctx, db.driver, db.dsn)
			require.NoError(t, err)
			t.Cleanup(func() { _ = ro.Close() })
			got, err := ro.FindOrg(ctx, "org_ro")
			require.NoError(t, err)
			assert.Equal(t, readOnlyOrg.Secrets[0].Value, got.Secrets[0].Value)
			_, err = ro.FindOrgRecord(ctx, "org_ro")
			require.NoError(t, err)
			assert.Error(t, ro.PutOrg(ctx, embedsso.Org{ID: "org_new", Secrets: readOnlyOrg.Secrets}), "a write")
			_, err = ro.UpdateOrg(ctx, "org_ro", func(r *orgapi.OrgRecord) error { r.Name = "changed"; return nil })
			assert.Error(t, err, "an update")
			_, err = ro.RevokeOrgSessions(ctx, "org_ro")
			assert.Error(t, err, "a revocation")
			_, err = sqlstore.New(db.open(t)).FindOrg(ctx, "org_new")
			assert.True(t, errors.Is(err, embedsso.ErrOrgNotFound), "nothing was written: %v", err)
		})
	}
	t.Run("postgres: a role granted only SELECT reads, where Migrate fails", func(t *testing.T) {
		t.Parallel()
		db := newDatabase(t, "postgres")
		require.NoError(t, sqlstore.New(db.open(t)).PutOrg(ctx, readOnlyOrg))
		reader, err := pg.NewReader(ctx, func(dsn string) (*sql.DB, error) { return sql.Open("pgx", dsn) }, db.dsn)
		require.NoError(t, err)
		assert.Error(t, sqlstore.Migrate(ctx, openDB(t, "pgx", reader)), "the role cannot migrate")
		ro, err := sqlstore.OpenReadOnly(ctx, "pgx", reader)
		require.NoError(t, err)
		t.Cleanup(func() { _ = ro.Close() })
		_, err = ro.FindOrgRecord(ctx, "org_ro")
		require.NoError(t, err)
		_, err = ro.FindAPIKey(ctx, "0123456789abcdef")
		assert.True(t, errors.Is(err, orgapi.ErrAPIKeyNotFound), "%v", err)
	})
	for _, kind := range []string{"postgres", "sqlite"} {
		t.Run(kind+": a database without the tables is ErrNotMigrated and stays without them", func(t *testing.T) {
			t.Parallel()
			db := newBareDatabase(t, kind)
			_, err := sqlstore.OpenReadOnly(ctx, db.driver, db.dsn)
			require.ErrorIs(t, err, sqlstore.ErrNotMigrated)
			assert.Contains(t, err.Error(), "embedsso_orgs")
			var n int
			q := `SELECT count(*) FROM sqlite_master WHERE name LIKE 'embedsso%'`
			if kind == "postgres" {
				q = `SELECT count(*) FROM pg_tables WHERE tablename LIKE 'embedsso%'`
			}
			require.NoError(t, db.open(t).QueryRowContext(ctx, q).Scan(&n))
			assert.Zero(t, n, "no table was created")
		})
	}
	t.Run("sqlite: the file keeps its journal mode and gets no table", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "plain.db")
		plain, err := sql.Open("sqlite", "file:"+path)
		require.NoError(t, err)
		require.NoError(t, sqlstore.Migrate(ctx, plain))
		require.NoError(t, plain.Close())
		before, err := os.ReadFile(path)
		require.NoError(t, err)
		ro, err := sqlstore.OpenReadOnly(ctx, "sqlite", "file:"+path+"?mode=ro")
		require.NoError(t, err)
		_, err = ro.FindOrg(ctx, "org_nope")
		assert.True(t, errors.Is(err, embedsso.ErrOrgNotFound), "%v", err)
		require.NoError(t, ro.Close())
		after, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, before, after, "the file is byte for byte as it was")
		assert.NoFileExists(t, path+"-wal", "no WAL switch")
	})
}
