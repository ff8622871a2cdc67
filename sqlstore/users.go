package sqlstore

import (
	"context"
	"fmt"

	"github.com/embedsso/embedsso"
)

// UpsertUser implements [embedsso.UserStore] with one INSERT … ON CONFLICT:
// the unique key on (org_id, email) decides, so racing logins of one new
// user, on any number of instances, make one row. The email is stored as
// the handler normalized it ([embedsso.NormalizeEmail]) and compared byte for
// byte: lower-casing it again here would map U+212A KELVIN SIGN to k and
// merge two users.
func (s *Store) UpsertUser(ctx context.Context, p embedsso.Profile) (embedsso.User, error) {
	now := micros(s.now())
	var u embedsso.User
	var created, updated int64
	err := s.db.QueryRowContext(ctx, `
		INSERT INTO embedsso_users (id, org_id, email, first_name, last_name, role, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
		ON CONFLICT (org_id, email) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name,
			role = excluded.role, updated_at = excluded.updated_at
		RETURNING id, org_id, email, first_name, last_name, role, created_at, updated_at`,
		newID("usr_"), p.OrgID, p.Email, p.FirstName, p.LastName, p.Role, now,
	).Scan(&u.ID, &u.OrgID, &u.Email, &u.FirstName, &u.LastName, &u.Role, &created, &updated)
	if err != nil {
		return embedsso.User{}, fmt.Errorf("sqlstore: upsert user: %w", err)
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return u, nil
}
