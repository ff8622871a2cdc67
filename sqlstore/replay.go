package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/embedsso/embedsso"
)

// UseTokenID implements [embedsso.ReplayStore] in one statement: the insert
// wins if the id is new; on conflict the row is taken over only if it has
// expired. The primary key serializes racing requests in the database, so
// exactly one of them affects a row.
func (s *Store) UseTokenID(ctx context.Context, orgID, tokenID string, expiresAt, now time.Time) error {
	done, err := s.writing(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: use token id: %w", err)
	}
	defer done()
	err = useTokenID(ctx, s.db, orgID, tokenID, expiresAt, now)
	if err != nil && !errors.Is(err, embedsso.ErrTokenReplayed) {
		return fmt.Errorf("sqlstore: use token id: %w", err)
	}
	return err
}

// useTokenIDSQL records a token id unless it is recorded and live.
const useTokenIDSQL = `
	INSERT INTO embedsso_used_tokens (org_id, token_id, expires_at) VALUES ($1, $2, $3)
	ON CONFLICT (org_id, token_id) DO UPDATE SET expires_at = excluded.expires_at
	WHERE embedsso_used_tokens.expires_at <= $4`

// useTokenID returns embedsso.ErrTokenReplayed itself when the id is live.
func useTokenID(ctx context.Context, q querier, orgID, tokenID string, expiresAt, now time.Time) error {
	res, err := q.ExecContext(ctx, useTokenIDSQL, orgID, tokenID, micros(expiresAt), micros(now))
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return embedsso.ErrTokenReplayed
	}
	return nil
}

// PurgeExpired deletes expired sessions,
// token ids and secrets past their grace period. Run it every few minutes
// from one instance (or all: it is idempotent).
//
// It deletes at most purgeBatch rows per statement, each a write of its own,
// so that on a Store from [OpenSQLite] a long purge hands the writer
// connection on between batches and logins keep their turns.
func (s *Store) PurgeExpired(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for _, q := range []string{
		`DELETE FROM embedsso_sessions WHERE id_hash IN (
			SELECT id_hash FROM embedsso_sessions WHERE expires_at <= $1 OR (idle_expires_at <> 0 AND idle_expires_at <= $1)
			LIMIT ` + purgeBatchSQL + `)`,
		`DELETE FROM embedsso_used_tokens WHERE (org_id, token_id) IN (
			SELECT org_id, token_id FROM embedsso_used_tokens WHERE expires_at <= $1 LIMIT ` + purgeBatchSQL + `)`,
	} {
		for {
			n, err := s.purgeOnce(ctx, q, now)
			total += n
			if err != nil {
				return total, fmt.Errorf("sqlstore: purge: %w", err)
			}
			if n < purgeBatch {
				break
			}
		}
	}
	n, err := s.purgeExpiredSecrets(ctx, now)
	if err == nil && s.engine(ctx) == sqliteEngine {
		err = s.purgeChanges(ctx, now)
	}
	return total + n, err
}

// changeLogKept is how long SQLite's change log keeps a change: far longer
// than any Store takes to read it (a Store that finds one purged before it
// read it forgets its whole cache).
const changeLogKept = time.Hour

// purgeChanges deletes the change log's entries older than changeLogKept.
func (s *Store) purgeChanges(ctx context.Context, now time.Time) error {
	done, err := s.writing(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: purge changes: %w", err)
	}
	defer done()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM embedsso_changes WHERE at < $1`, now.Add(-changeLogKept).Unix()); err != nil {
		return fmt.Errorf("sqlstore: purge changes: %w", err)
	}
	return nil
}

// purgeBatch is how many rows one purge statement deletes at most.
const (
	purgeBatch    = 1000
	purgeBatchSQL = "1000"
)

func (s *Store) purgeOnce(ctx context.Context, query string, now time.Time) (int, error) {
	done, err := s.writing(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	res, err := s.db.ExecContext(ctx, query, micros(now))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
