package sqlstore_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/sqlstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	jane := embedsso.Profile{OrgID: "org_a", Email: "jane@example.com", Role: "MEMBER"}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Run("running it again keeps the rows and does not fail", func(t *testing.T) {
				db := newDatabase(t, kind).open(t)
				_, err := sqlstore.New(db).UpsertUser(ctx, jane)
				require.NoError(t, err)
				require.NoError(t, sqlstore.Migrate(ctx, db))
				assert.Equal(t, 1, count(t, db, `SELECT count(*) FROM embedsso_users`))
			})
			t.Run("eight instances starting at once on an empty database all succeed", func(t *testing.T) {
				const instances = 8
				bare := newBareDatabase(t, kind)
				dbs := make([]*sql.DB, instances)
				for i := range dbs {
					dbs[i] = bare.open(t)
				}
				errs := make([]error, instances)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i, db := range dbs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						errs[i] = sqlstore.Migrate(ctx, db)
					}()
				}
				close(start)
				wg.Wait()
				for i, err := range errs {
					assert.NoError(t, err, "instance %d", i)
				}
				_, err := sqlstore.New(dbs[0]).UpsertUser(ctx, jane)
				assert.NoError(t, err, "the tables are there")
			})
		})
	}
}
