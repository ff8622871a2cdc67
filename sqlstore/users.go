package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/embedsso/embedsso"
)

// UpsertUser implements [embedsso.UserStore] with one INSERT … ON CONFLICT:
// the unique key on (org_id, email) decides, so racing logins of one new
// user, on any number of instances, make one row.
func (s *Store) UpsertUser(ctx context.Context, p embedsso.Profile) (embedsso.User, error) {
	done, err := s.writing(ctx)
	if err != nil {
		return embedsso.User{}, fmt.Errorf("sqlstore: upsert user: %w", err)
	}
	defer done()
	u, err := upsertUser(ctx, s.db, p, s.now())
	if err != nil {
		return embedsso.User{}, fmt.Errorf("sqlstore: upsert user: %w", err)
	}
	return u, nil
}

// upsertUserSQL creates or updates a user and returns the stored row.
const upsertUserSQL = `
	INSERT INTO embedsso_users (id, org_id, email, first_name, last_name, role, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
	ON CONFLICT (org_id, email) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name,
		role = excluded.role, updated_at = excluded.updated_at
	RETURNING id, org_id, email, first_name, last_name, role, created_at, updated_at`

func upsertUser(ctx context.Context, q querier, p embedsso.Profile, now time.Time) (embedsso.User, error) {
	return scanUser(q.QueryRowContext(ctx, upsertUserSQL,
		newID("usr_"), p.OrgID, strings.ToLower(p.Email), p.FirstName, p.LastName, p.Role, micros(now)))
}

// scanUser reads the columns upsertUserSQL returns.
func scanUser(row interface{ Scan(...any) error }) (embedsso.User, error) {
	var u embedsso.User
	var created, updated int64
	if err := row.Scan(&u.ID, &u.OrgID, &u.Email, &u.FirstName, &u.LastName, &u.Role, &created, &updated); err != nil {
		return embedsso.User{}, err
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return u, nil
}
