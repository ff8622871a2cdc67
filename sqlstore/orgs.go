package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/embedsso/embedsso"
)

type secretJSON struct {
	KeyID  string `json:"kid,omitempty"`
	Secret string `json:"secret"`
}

// PutOrg creates or replaces an organization. An org that does not pass
// [embedsso.Org.Validate] is refused with its error (matching
// [embedsso.ErrOrgInvalid]) and nothing is written.
func (s *Store) PutOrg(ctx context.Context, o embedsso.Org) error {
	if err := o.Validate(); err != nil {
		return fmt.Errorf("sqlstore: put org: %w", err)
	}
	secrets := make([]secretJSON, len(o.Secrets))
	for i, sec := range o.Secrets {
		secrets[i] = secretJSON{sec.KeyID, sec.Value}
	}
	done, err := s.writing(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: put org %q: %w", o.ID, err)
	}
	defer done()
	sj, _ := json.Marshal(secrets)
	oj, _ := json.Marshal(nonNil(o.AllowedOrigins))
	rj, _ := json.Marshal(nonNil(o.AllowedRoles))
	_, err = s.db.ExecContext(ctx, `
		INSERT INTO embedsso_orgs (id, embedding_enabled, secrets, allowed_origins, allowed_roles, dashboard_url)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET embedding_enabled = excluded.embedding_enabled, secrets = excluded.secrets,
			allowed_origins = excluded.allowed_origins, allowed_roles = excluded.allowed_roles, dashboard_url = excluded.dashboard_url`,
		o.ID, o.EmbeddingEnabled, string(sj), string(oj), string(rj), o.DashboardURL)
	if err != nil {
		return fmt.Errorf("sqlstore: put org %q: %w", o.ID, err)
	}
	return nil
}

// FindOrg implements [embedsso.OrgStore].
func (s *Store) FindOrg(ctx context.Context, id string) (embedsso.Org, error) {
	var o embedsso.Org
	var sj, oj, rj string
	err := s.read.QueryRowContext(ctx, `
		SELECT id, embedding_enabled, secrets, allowed_origins, allowed_roles, dashboard_url
		FROM embedsso_orgs WHERE id = $1`, id).Scan(&o.ID, &o.EmbeddingEnabled, &sj, &oj, &rj, &o.DashboardURL)
	if isNoRows(err) {
		return embedsso.Org{}, embedsso.ErrOrgNotFound
	}
	if err != nil {
		return embedsso.Org{}, fmt.Errorf("sqlstore: find org: %w", err)
	}
	var secrets []secretJSON
	if err := json.Unmarshal([]byte(sj), &secrets); err != nil {
		return embedsso.Org{}, fmt.Errorf("sqlstore: org %q: secrets: %w", id, err)
	}
	for _, sec := range secrets {
		o.Secrets = append(o.Secrets, embedsso.Secret{KeyID: sec.KeyID, Value: sec.Secret})
	}
	if err := json.Unmarshal([]byte(oj), &o.AllowedOrigins); err != nil {
		return embedsso.Org{}, fmt.Errorf("sqlstore: org %q: allowed_origins: %w", id, err)
	}
	if err := json.Unmarshal([]byte(rj), &o.AllowedRoles); err != nil {
		return embedsso.Org{}, fmt.Errorf("sqlstore: org %q: allowed_roles: %w", id, err)
	}
	if len(o.AllowedOrigins) == 0 {
		o.AllowedOrigins = nil
	}
	if len(o.AllowedRoles) == 0 {
		o.AllowedRoles = nil
	}
	return o, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
