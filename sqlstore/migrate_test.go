package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

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

// schemaV1 is the schema as first shipped, before sessions had an idle
// expiry.
const schemaV1 = `
CREATE TABLE embedsso_users (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, email TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '', last_name TEXT NOT NULL DEFAULT '', role TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, UNIQUE (org_id, email));
CREATE TABLE embedsso_sessions (id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES embedsso_users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);
INSERT INTO embedsso_users VALUES ('usr_old', 'org_a', 'jane@example.com', 'Jane', '', 'MEMBER', 1, 1);
INSERT INTO embedsso_sessions VALUES ('` + oldSessionHash + `', 'usr_old', 1, 4102444800000000)`

const oldSessionHash = "0000000000000000000000000000000000000000000000000000000000000001"

func TestMigrateKeepsUsersAndSessionsOfTheFirstSchema(t *testing.T) {
	ctx := context.Background()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			bare := newBareDatabase(t, kind)
			db := bare.open(t)
			for _, stmt := range strings.Split(schemaV1, ";") {
				_, err := db.ExecContext(ctx, stmt)
				require.NoError(t, err)
			}
			require.NoError(t, sqlstore.Migrate(ctx, db))
			require.NoError(t, sqlstore.Migrate(ctx, db), "and again")

			s := sqlstore.New(db)
			now := time.Unix(1_800_000_000, 0)
			old, err := s.FindSession(ctx, oldSessionHash, now)
			require.NoError(t, err, "the old session survives, with no idle limit")
			assert.Equal(t, "usr_old", old.User.ID)
			assert.True(t, old.IdleExpiresAt.IsZero())

			assert.Nil(t, old.User.Attributes, "no attributes yet")
			_, err = s.UpsertUser(ctx, embedsso.Profile{OrgID: "org_a", Email: "jane@example.com", Role: "MEMBER",
				Attributes: map[string]any{"region": "eu"}, Groups: []string{"finance"}})
			require.NoError(t, err)
			withAttrs, err := s.FindSession(ctx, oldSessionHash, now)
			require.NoError(t, err)
			assert.Equal(t, "usr_old", withAttrs.User.ID, "the same user, now with attributes")
			assert.Equal(t, map[string]any{"region": "eu"}, withAttrs.User.Attributes)
			assert.Equal(t, []string{"finance"}, withAttrs.User.Groups)

			require.NoError(t, s.TouchSession(ctx, oldSessionHash, now.Add(time.Minute)))
			_, err = s.FindSession(ctx, oldSessionHash, now.Add(2*time.Minute))
			assert.True(t, errors.Is(err, embedsso.ErrSessionNotFound), "the new column works on the old table")
		})
	}
}
