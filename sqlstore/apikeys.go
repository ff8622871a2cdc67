package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/embedsso/embedsso/orgapi"
)

// CreateAPIKey implements [orgapi.APIKeyStore].
func (s *Store) CreateAPIKey(ctx context.Context, k orgapi.APIKey) error {
	oj, _ := json.Marshal(nonNil(k.OrgIDs))
	done, err := s.writing(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: create API key: %w", err)
	}
	defer done()
	res, err := s.db.ExecContext(ctx, `
		INSERT INTO embedsso_api_keys (id, hash, name, admin, org_ids, created_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO NOTHING`, k.ID, k.Hash, k.Name, k.Admin, string(oj), micros(k.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlstore: create API key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: create API key: %w", err)
	} else if n == 0 {
		return orgapi.ErrAPIKeyExists
	}
	return nil
}

// FindAPIKey implements [orgapi.APIKeyStore]. Every call reads the
// database: a key revoked on one instance is refused by all at once.
func (s *Store) FindAPIKey(ctx context.Context, id string) (orgapi.APIKey, error) {
	var k orgapi.APIKey
	var oj string
	var created int64
	err := s.read.QueryRowContext(ctx, `SELECT id, hash, name, admin, org_ids, created_at FROM embedsso_api_keys WHERE id = $1`, id).
		Scan(&k.ID, &k.Hash, &k.Name, &k.Admin, &oj, &created)
	if isNoRows(err) {
		return orgapi.APIKey{}, orgapi.ErrAPIKeyNotFound
	}
	if err != nil {
		return orgapi.APIKey{}, fmt.Errorf("sqlstore: find API key: %w", err)
	}
	if err := json.Unmarshal([]byte(oj), &k.OrgIDs); err != nil {
		return orgapi.APIKey{}, fmt.Errorf("sqlstore: API key %q: org_ids: %w", id, err)
	}
	if len(k.OrgIDs) == 0 {
		k.OrgIDs = nil
	}
	k.CreatedAt = fromMicros(created)
	return k, nil
}

// RevokeAPIKey implements [orgapi.APIKeyStore]: it deletes the row.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	done, err := s.writing(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: revoke API key: %w", err)
	}
	defer done()
	res, err := s.db.ExecContext(ctx, `DELETE FROM embedsso_api_keys WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("sqlstore: revoke API key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: revoke API key: %w", err)
	} else if n == 0 {
		return orgapi.ErrAPIKeyNotFound
	}
	return nil
}
