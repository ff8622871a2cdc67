package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/orgapi"
)

// The organization API's side of the Store: it is an orgapi.OrgAdmin, an
// orgapi.SessionRevoker and an orgapi.APIKeyStore (apikeys.go).
var (
	_ orgapi.OrgAdmin       = (*Store)(nil)
	_ orgapi.SessionRevoker = (*Store)(nil)
	_ orgapi.APIKeyStore    = (*Store)(nil)
)

// CreateOrg implements [orgapi.OrgAdmin]. The primary key decides between
// racing creations of one id, on any number of instances.
func (s *Store) CreateOrg(ctx context.Context, r orgapi.OrgRecord) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("sqlstore: create org: %w", err)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		sj, oj, rj := encodeOrg(r.Org)
		res, err := tx.ExecContext(ctx, `
			INSERT INTO embedsso_orgs (id, embedding_enabled, secrets, allowed_origins, allowed_roles, dashboard_url, epoch)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
			r.ID, r.EmbeddingEnabled, sj, oj, rj, r.DashboardURL, r.Epoch)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(orgapi.ErrOrgExists, err)
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO embedsso_org_records (org_id, name, login_url, allowed_groups, version, created_at, updated_at)
			VALUES ($1, $2, $3, $4, 1, $5, $6)
			ON CONFLICT (org_id) DO UPDATE SET name = excluded.name, login_url = excluded.login_url,
				allowed_groups = excluded.allowed_groups, version = embedsso_org_records.version + 1,
				created_at = excluded.created_at, updated_at = excluded.updated_at`,
			r.ID, r.Name, r.LoginURL, encodeList(r.AllowedGroups), timeMicros(r.CreatedAt), timeMicros(r.UpdatedAt))
		return err
	})
	if err != nil {
		if errors.Is(err, orgapi.ErrOrgExists) {
			return orgapi.ErrOrgExists
		}
		return fmt.Errorf("sqlstore: create org %q: %w", r.ID, err)
	}
	return nil
}

// FindOrgRecord implements [orgapi.OrgAdmin].
func (s *Store) FindOrgRecord(ctx context.Context, id string) (orgapi.OrgRecord, error) {
	r, _, err := s.findRecord(ctx, s.read, id)
	return r, err
}

// maxUpdateAttempts bounds UpdateOrg's retries. Each failed attempt means
// another update committed, so only a flood of concurrent updates of one
// organization can exhaust it.
const maxUpdateAttempts = 1000

// errStale means the organization changed between UpdateOrg's read and its
// write.
var errStale = errors.New("sqlstore: organization changed during the update")

// UpdateOrg implements [orgapi.OrgAdmin] with optimistic concurrency: it
// reads the organization and its version, applies change, and writes only
// if the version is still the one it read, in the same transaction that
// bumps it. When another update (or [Store.PutOrg]) won, it reads again and
// applies change to what that one stored. No lock is held between the read
// and the write, so a slow change delays nobody.
func (s *Store) UpdateOrg(ctx context.Context, id string, change func(*orgapi.OrgRecord) error) (orgapi.OrgRecord, error) {
	for range maxUpdateAttempts {
		cur, version, err := s.findRecord(ctx, s.read, id)
		if err != nil {
			return orgapi.OrgRecord{}, err
		}
		next := cloneRecord(cur)
		if err := change(&next); err != nil {
			return orgapi.OrgRecord{}, err
		}
		if next.ID != id {
			return orgapi.OrgRecord{}, errors.New("sqlstore: UpdateOrg: the change altered the organization's id")
		}
		next.Epoch = max(next.Epoch, cur.Epoch) // never lowered
		if err := next.Validate(); err != nil {
			return orgapi.OrgRecord{}, fmt.Errorf("sqlstore: update org: %w", err)
		}
		err = s.inTx(ctx, func(tx *sql.Tx) error { return writeRecord(ctx, tx, next, version) })
		if c := s.cache; c != nil {
			c.dropOrg(id)
		}
		switch {
		case err == nil:
			return next, nil
		case errors.Is(err, errStale):
			continue
		case errors.Is(err, embedsso.ErrOrgNotFound):
			return orgapi.OrgRecord{}, err
		default:
			return orgapi.OrgRecord{}, fmt.Errorf("sqlstore: update org %q: %w", id, err)
		}
	}
	return orgapi.OrgRecord{}, fmt.Errorf("sqlstore: update org %q: %w %d times", id, errStale, maxUpdateAttempts)
}

// writeRecord stores r if its version is still version. The version row is
// written first: on SQLite that takes the write lock at once, on PostgreSQL
// it locks the row, so of two racing writers the second waits, then finds
// the version moved on and stops with errStale.
func writeRecord(ctx context.Context, tx *sql.Tx, r orgapi.OrgRecord, version int64) error {
	var res sql.Result
	var err error
	if version == 0 {
		// An organization stored before the records table: its row is
		// created now, by exactly one of the racing updates.
		res, err = tx.ExecContext(ctx, `
			INSERT INTO embedsso_org_records (org_id, name, login_url, allowed_groups, version, created_at, updated_at)
			VALUES ($1, $2, $3, $4, 1, $5, $6) ON CONFLICT (org_id) DO NOTHING`,
			r.ID, r.Name, r.LoginURL, encodeList(r.AllowedGroups), timeMicros(r.CreatedAt), timeMicros(r.UpdatedAt))
	} else {
		res, err = tx.ExecContext(ctx, `
			UPDATE embedsso_org_records SET name = $1, login_url = $2, allowed_groups = $3, created_at = $4,
				updated_at = $5, version = version + 1
			WHERE org_id = $6 AND version = $7`,
			r.Name, r.LoginURL, encodeList(r.AllowedGroups), timeMicros(r.CreatedAt), timeMicros(r.UpdatedAt), r.ID, version)
	}
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(errStale, err)
	}
	sj, oj, rj := encodeOrg(r.Org)
	res, err = tx.ExecContext(ctx, `
		UPDATE embedsso_orgs SET embedding_enabled = $1, secrets = $2, allowed_origins = $3, allowed_roles = $4,
			dashboard_url = $5, epoch = CASE WHEN $7 > epoch THEN $7 ELSE epoch END
		WHERE id = $6`, r.EmbeddingEnabled, sj, oj, rj, r.DashboardURL, r.ID, r.Epoch)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(embedsso.ErrOrgNotFound, err) // deleted meanwhile
	}
	return nil
}

// purgeExpiredSecrets deletes the secrets whose grace period is over at now
// and reports how many. Only organizations with a secret that can expire
// are read (their secrets column mentions expiresAt); each is rewritten
// through UpdateOrg, so a concurrent update is not lost.
func (s *Store) purgeExpiredSecrets(ctx context.Context, now time.Time) (int, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id FROM embedsso_orgs WHERE secrets LIKE '%"expiresAt"%'`)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge secrets: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sqlstore: purge secrets: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sqlstore: purge secrets: %w", err)
	}
	total := 0
	for _, id := range ids {
		n := 0
		_, err := s.UpdateOrg(ctx, id, func(r *orgapi.OrgRecord) error {
			kept := orgapi.DropExpiredSecrets(r.Secrets, now)
			if n = len(r.Secrets) - len(kept); n == 0 {
				return errNothingToPurge
			}
			r.Secrets = kept
			return nil
		})
		switch {
		case err == nil:
			total += n
		case errors.Is(err, errNothingToPurge), errors.Is(err, embedsso.ErrOrgNotFound):
		default:
			return total, err
		}
	}
	return total, nil
}

var errNothingToPurge = errors.New("nothing to purge")

// RevokeOrgSessions implements [orgapi.SessionRevoker].
func (s *Store) RevokeOrgSessions(ctx context.Context, orgID string) (int, error) {
	defer s.dropUsersWhere(func(u *embedsso.User) bool { return u.OrgID == orgID })
	return s.deleteSessions(ctx, `
		DELETE FROM embedsso_sessions WHERE user_id IN (SELECT id FROM embedsso_users WHERE org_id = $1)`, orgID)
}

// dropUsersWhere drops the cached users match selects, with their sessions.
func (s *Store) dropUsersWhere(match func(*embedsso.User) bool) {
	if c := s.cache; c != nil {
		c.dropUsersWhere(match)
	}
}

// RevokeEmailSessions implements [orgapi.SessionRevoker].
func (s *Store) RevokeEmailSessions(ctx context.Context, orgID, email string) (int, error) {
	defer s.dropUsersWhere(func(u *embedsso.User) bool { return u.OrgID == orgID && u.Email == email })
	return s.deleteSessions(ctx, `
		DELETE FROM embedsso_sessions WHERE user_id IN (SELECT id FROM embedsso_users WHERE org_id = $1 AND email = $2)`,
		orgID, email)
}

func (s *Store) deleteSessions(ctx context.Context, query string, args ...any) (int, error) {
	done, err := s.writing(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: revoke sessions: %w", err)
	}
	defer done()
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: revoke sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: revoke sessions: %w", err)
	}
	return int(n), nil
}

// inTx runs f in a transaction, on the writer's turn, and commits if it
// returns nil.
func (s *Store) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	done, err := s.writing(ctx)
	if err != nil {
		return err
	}
	defer done()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func cloneRecord(r orgapi.OrgRecord) orgapi.OrgRecord {
	r.Secrets = slices.Clone(r.Secrets)
	r.AllowedOrigins = slices.Clone(r.AllowedOrigins)
	r.AllowedRoles = slices.Clone(r.AllowedRoles)
	r.AllowedGroups = slices.Clone(r.AllowedGroups)
	return r
}

// timeMicros is micros, with the zero time stored as 0 (unknown).
func timeMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}
