package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/embedsso/embedsso"
)

// UpsertUser implements [embedsso.UserStore] with one INSERT … ON CONFLICT:
// the unique key on (org_id, email) decides, so racing logins of one new
// user, on any number of instances, make one row. The email is stored as
// the handler normalized it ([embedsso.Profile]) and compared byte for
// byte: lower-casing it again here would map U+212A KELVIN SIGN to k and
// merge two users.
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
	if c := s.cache; c != nil {
		c.dropUser(u.ID) // its names, role or attributes may have changed
	}
	return u, nil
}

// upsertUserSQL creates or updates a user and returns the stored row.
const upsertUserSQL = `
	INSERT INTO embedsso_users (id, org_id, email, first_name, last_name, role, created_at, updated_at, attributes, group_names)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9)
	ON CONFLICT (org_id, email) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name,
		role = excluded.role, updated_at = excluded.updated_at, attributes = excluded.attributes, group_names = excluded.group_names
	RETURNING ` + userColumns

// userColumns are the columns scanUser reads, in its order.
const userColumns = `id, org_id, email, first_name, last_name, role, created_at, updated_at, attributes, group_names`

func upsertUser(ctx context.Context, q querier, p embedsso.Profile, now time.Time) (embedsso.User, error) {
	attrs, groups, err := encodeExtras(p)
	if err != nil {
		return embedsso.User{}, err
	}
	return scanUser(q.QueryRowContext(ctx, upsertUserSQL,
		newUserID(now), p.OrgID, p.Email, p.FirstName, p.LastName, p.Role, micros(now), attrs, groups))
}

// scanUser reads userColumns.
func scanUser(row interface{ Scan(...any) error }) (embedsso.User, error) {
	var u embedsso.User
	var created, updated int64
	var attrs, groups string
	if err := row.Scan(&u.ID, &u.OrgID, &u.Email, &u.FirstName, &u.LastName, &u.Role, &created, &updated, &attrs, &groups); err != nil {
		return embedsso.User{}, err
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	var err error
	if u.Attributes, u.Groups, err = decodeExtras(attrs, groups); err != nil {
		return embedsso.User{}, err
	}
	return u, nil
}

// encodeExtras is a profile's attributes and groups as the JSON text the
// attributes and group_names columns hold ("{}" and "[]" for none).
func encodeExtras(p embedsso.Profile) (attrs, groups string, err error) {
	attrs, groups = "{}", "[]"
	if len(p.Attributes) > 0 {
		b, err := json.Marshal(p.Attributes)
		if err != nil {
			return "", "", fmt.Errorf("attributes: %w", err)
		}
		attrs = string(b)
	}
	if len(p.Groups) > 0 {
		b, err := json.Marshal(p.Groups)
		if err != nil {
			return "", "", fmt.Errorf("groups: %w", err)
		}
		groups = string(b)
	}
	return attrs, groups, nil
}

// decodeExtras reads them back: numbers as json.Number, none as nil.
func decodeExtras(attrs, groups string) (map[string]any, []string, error) {
	var a map[string]any
	if attrs != "" && attrs != "{}" {
		dec := json.NewDecoder(strings.NewReader(attrs))
		dec.UseNumber()
		if err := dec.Decode(&a); err != nil {
			return nil, nil, fmt.Errorf("attributes: %w", err)
		}
	}
	var g []string
	if groups != "" && groups != "[]" {
		if err := json.Unmarshal([]byte(groups), &g); err != nil {
			return nil, nil, fmt.Errorf("groups: %w", err)
		}
	}
	return a, g, nil
}
