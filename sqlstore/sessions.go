package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/embedsso/embedsso"
)

// CreateSession implements [embedsso.SessionStore].
func (s *Store) CreateSession(ctx context.Context, sess embedsso.Session) error {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO embedsso_sessions (id_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		sess.IDHash, sess.User.ID, micros(sess.CreatedAt), micros(sess.ExpiresAt))
	if err != nil {
		return fmt.Errorf("sqlstore: create session: %w", err)
	}
	return nil
}

// FindSession implements [embedsso.SessionStore]: the session and its user,
// as they are now, in one query.
func (s *Store) FindSession(ctx context.Context, idHash string, now time.Time) (embedsso.Session, error) {
	var sess embedsso.Session
	var u = &sess.User
	var created, expires, uCreated, uUpdated int64
	err := s.db.QueryRowContext(ctx, `
		SELECT s.id_hash, s.created_at, s.expires_at,
			u.id, u.org_id, u.email, u.first_name, u.last_name, u.role, u.created_at, u.updated_at
		FROM embedsso_sessions s JOIN embedsso_users u ON u.id = s.user_id
		WHERE s.id_hash = $1 AND s.expires_at > $2`, idHash, micros(now),
	).Scan(&sess.IDHash, &created, &expires, &u.ID, &u.OrgID, &u.Email, &u.FirstName, &u.LastName, &u.Role, &uCreated, &uUpdated)
	if isNoRows(err) {
		return embedsso.Session{}, embedsso.ErrSessionNotFound
	}
	if err != nil {
		return embedsso.Session{}, fmt.Errorf("sqlstore: find session: %w", err)
	}
	sess.CreatedAt, sess.ExpiresAt = fromMicros(created), fromMicros(expires)
	u.CreatedAt, u.UpdatedAt = fromMicros(uCreated), fromMicros(uUpdated)
	return sess, nil
}

// RevokeSession implements [embedsso.SessionStore].
func (s *Store) RevokeSession(ctx context.Context, idHash string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM embedsso_sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("sqlstore: revoke session: %w", err)
	}
	return nil
}

// RevokeUserSessions implements [embedsso.SessionStore].
func (s *Store) RevokeUserSessions(ctx context.Context, orgID, userID string) error {
	_, err := s.db.ExecContext(ctx, `
		DELETE FROM embedsso_sessions WHERE user_id IN (SELECT id FROM embedsso_users WHERE id = $1 AND org_id = $2)`,
		userID, orgID)
	if err != nil {
		return fmt.Errorf("sqlstore: revoke user sessions: %w", err)
	}
	return nil
}
