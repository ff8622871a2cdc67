package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/orgapi"
)

type secretJSON struct {
	KeyID     string `json:"kid,omitempty"`
	Secret    string `json:"secret"`
	ExpiresAt int64  `json:"expiresAt,omitempty"` // microseconds; 0: no expiry
}

// PutOrg creates or replaces an organization. Its Epoch is stored as given
// unless the stored one is higher: an epoch is never lowered, so sessions
// an organization ended stay ended. An org that does not pass
// [embedsso.Org.Validate] is refused with its error (matching
// [embedsso.ErrOrgInvalid]) and nothing is written. It bumps the
// organization's version, so an [Store.UpdateOrg] racing it reads again and
// applies its change on top.
func (s *Store) PutOrg(ctx context.Context, o embedsso.Org) error {
	if err := o.Validate(); err != nil {
		return fmt.Errorf("sqlstore: put org: %w", err)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := putOrgRow(ctx, tx, o); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO embedsso_org_records (org_id, login_url, allowed_groups, version) VALUES ($1, $2, $3, 1)
			ON CONFLICT (org_id) DO UPDATE SET login_url = excluded.login_url, allowed_groups = excluded.allowed_groups,
				version = embedsso_org_records.version + 1`, o.ID, o.LoginURL, encodeList(o.AllowedGroups))
		return err
	})
	if c := s.cache; c != nil {
		c.dropOrg(o.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: put org %q: %w", o.ID, err)
	}
	return nil
}

// putOrgRow writes the embedsso_orgs row of o.
func putOrgRow(ctx context.Context, q querier, o embedsso.Org) error {
	sj, oj, rj := encodeOrg(o)
	_, err := q.ExecContext(ctx, `
		INSERT INTO embedsso_orgs (id, embedding_enabled, secrets, allowed_origins, allowed_roles, dashboard_url, epoch)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET embedding_enabled = excluded.embedding_enabled, secrets = excluded.secrets,
			allowed_origins = excluded.allowed_origins, allowed_roles = excluded.allowed_roles, dashboard_url = excluded.dashboard_url,
			epoch = CASE WHEN excluded.epoch > embedsso_orgs.epoch THEN excluded.epoch ELSE embedsso_orgs.epoch END`,
		o.ID, o.EmbeddingEnabled, sj, oj, rj, o.DashboardURL, o.Epoch)
	return err
}

// FindOrg implements [embedsso.OrgStore], from the cache (see
// [CacheOptions]) or else in one statement.
func (s *Store) FindOrg(ctx context.Context, id string) (embedsso.Org, error) {
	c := s.lookupCache()
	var seq uint64
	if c != nil {
		if o, ok := c.org(id); ok {
			return o, nil
		}
		seq = c.begin()
	}
	r, _, err := s.findRecord(ctx, preparedQuerier{s.findOrgStmt}, id)
	if err == nil && c != nil {
		c.putOrg(seq, r.Org)
	}
	return r.Org, err
}

// preparedQuerier runs its one prepared statement whatever query it is given.
type preparedQuerier struct{ p *prepared }

func (q preparedQuerier) QueryRowContext(ctx context.Context, _ string, args ...any) *sql.Row {
	s, err := q.p.get(ctx)
	if err != nil {
		return q.p.db.QueryRowContext(ctx, q.p.query, args...) // prepared again next time
	}
	return s.QueryRowContext(ctx, args...)
}

func (q preparedQuerier) ExecContext(context.Context, string, ...any) (sql.Result, error) {
	return nil, errors.New("sqlstore: preparedQuerier only reads")
}

// orgSelect reads an organization and what the organization API keeps
// beside it; an organization stored before that table existed has no row
// there, hence the outer join.
const orgSelect = `
	SELECT o.id, o.embedding_enabled, o.secrets, o.allowed_origins, o.allowed_roles, o.dashboard_url, o.epoch,
		COALESCE(r.login_url, ''), COALESCE(r.allowed_groups, '[]'), COALESCE(r.name, ''), COALESCE(r.version, 0),
		COALESCE(r.created_at, 0), COALESCE(r.updated_at, 0)
	FROM embedsso_orgs o LEFT JOIN embedsso_org_records r ON r.org_id = o.id
	WHERE o.id = $1`

// findRecord returns the organization id and its version.
func (s *Store) findRecord(ctx context.Context, q querier, id string) (orgapi.OrgRecord, int64, error) {
	var r orgapi.OrgRecord
	var sj, oj, rj, gj string
	var version, created, updated int64
	err := q.QueryRowContext(ctx, orgSelect, id).Scan(&r.ID, &r.EmbeddingEnabled, &sj, &oj, &rj, &r.DashboardURL, &r.Epoch,
		&r.LoginURL, &gj, &r.Name, &version, &created, &updated)
	if isNoRows(err) {
		return orgapi.OrgRecord{}, 0, embedsso.ErrOrgNotFound
	}
	if err != nil {
		return orgapi.OrgRecord{}, 0, fmt.Errorf("sqlstore: find org: %w", err)
	}
	if err := decodeOrg(&r.Org, sj, oj, rj); err != nil {
		return orgapi.OrgRecord{}, 0, fmt.Errorf("sqlstore: org %q: %w", id, err)
	}
	if err := decodeGroups(&r.Org, sql.NullString{String: gj, Valid: true}); err != nil {
		return orgapi.OrgRecord{}, 0, fmt.Errorf("sqlstore: org %q: %w", id, err)
	}
	if created != 0 {
		r.CreatedAt = fromMicros(created)
	}
	if updated != 0 {
		r.UpdatedAt = fromMicros(updated)
	}
	return r, version, nil
}

// encodeOrg returns the JSON columns of o.
func encodeOrg(o embedsso.Org) (secrets, origins, roles string) {
	sl := make([]secretJSON, len(o.Secrets))
	for i, sec := range o.Secrets {
		sl[i] = secretJSON{KeyID: sec.KeyID, Secret: sec.Value}
		if !sec.ExpiresAt.IsZero() {
			sl[i].ExpiresAt = micros(sec.ExpiresAt)
		}
	}
	sj, _ := json.Marshal(sl)
	oj, _ := json.Marshal(nonNil(o.AllowedOrigins))
	rj, _ := json.Marshal(nonNil(o.AllowedRoles))
	return string(sj), string(oj), string(rj)
}

// decodeOrg fills o's lists from their JSON columns.
func decodeOrg(o *embedsso.Org, secrets, origins, roles string) error {
	var sl []secretJSON
	if err := json.Unmarshal([]byte(secrets), &sl); err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
	for _, sec := range sl {
		s := embedsso.Secret{KeyID: sec.KeyID, Value: sec.Secret}
		if sec.ExpiresAt != 0 {
			s.ExpiresAt = fromMicros(sec.ExpiresAt)
		}
		o.Secrets = append(o.Secrets, s)
	}
	if err := json.Unmarshal([]byte(origins), &o.AllowedOrigins); err != nil {
		return fmt.Errorf("allowed_origins: %w", err)
	}
	if err := json.Unmarshal([]byte(roles), &o.AllowedRoles); err != nil {
		return fmt.Errorf("allowed_roles: %w", err)
	}
	if len(o.AllowedOrigins) == 0 {
		o.AllowedOrigins = nil
	}
	if len(o.AllowedRoles) == 0 {
		o.AllowedRoles = nil
	}
	return nil
}

// decodeGroups fills o.AllowedGroups from its column, NULL for none.
func decodeGroups(o *embedsso.Org, groups sql.NullString) error {
	if !groups.Valid || groups.String == "[]" {
		return nil
	}
	if err := json.Unmarshal([]byte(groups.String), &o.AllowedGroups); err != nil {
		return fmt.Errorf("allowed_groups: %w", err)
	}
	if len(o.AllowedGroups) == 0 {
		o.AllowedGroups = nil
	}
	return nil
}

// encodeList is a list column's JSON.
func encodeList(l []string) string {
	b, _ := json.Marshal(nonNil(l))
	return string(b)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
