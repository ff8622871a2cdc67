package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/embedsso/embedsso"
)

// CreateSession implements [embedsso.SessionStore].
func (s *Store) CreateSession(ctx context.Context, sess embedsso.Session) error {
	done, err := s.writing(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: create session: %w", err)
	}
	defer done()
	if err := createSession(ctx, s.db, sess); err != nil {
		return fmt.Errorf("sqlstore: create session: %w", err)
	}
	return nil
}

// createSession stores sess. Its IDHash is the primary key: a second
// session with the same hash fails rather than replace the first.
func createSession(ctx context.Context, q querier, sess embedsso.Session) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO embedsso_sessions (id_hash, user_id, created_at, expires_at, idle_expires_at) VALUES ($1, $2, $3, $4, $5)`,
		sess.IDHash, sess.User.ID, micros(sess.CreatedAt), micros(sess.ExpiresAt), optionalMicros(sess.IdleExpiresAt))
	return err
}

// FindSession implements [embedsso.SessionStore]: the session and its user,
// as they are now, in one query.
func (s *Store) FindSession(ctx context.Context, idHash string, now time.Time) (embedsso.Session, error) {
	var sess embedsso.Session
	var created, expires, idle int64
	r := s.read.QueryRowContext(ctx, `
		SELECT s.id_hash, s.created_at, s.expires_at, s.idle_expires_at,
			u.id, u.org_id, u.email, u.first_name, u.last_name, u.role, u.created_at, u.updated_at, u.attributes, u.group_names
		FROM embedsso_sessions s JOIN embedsso_users u ON u.id = s.user_id
		WHERE s.id_hash = $1 AND s.expires_at > $2 AND (s.idle_expires_at = 0 OR s.idle_expires_at > $2)`, idHash, micros(now))
	user, err := scanUser(prefixed{r, []any{&sess.IDHash, &created, &expires, &idle}})
	if isNoRows(err) {
		return embedsso.Session{}, embedsso.ErrSessionNotFound
	}
	if err != nil {
		return embedsso.Session{}, fmt.Errorf("sqlstore: find session: %w", err)
	}
	sess.CreatedAt, sess.ExpiresAt = fromMicros(created), fromMicros(expires)
	if idle != 0 {
		sess.IdleExpiresAt = fromMicros(idle)
	}
	sess.User = user
	return sess, nil
}

// prefixed scans a row whose first columns go to first and the rest to the
// destinations its Scan is given, so scanUser can read a user after them.
type prefixed struct {
	row   *sql.Row
	first []any
}

func (p prefixed) Scan(dest ...any) error { return p.row.Scan(append(p.first, dest...)...) }

// TouchSession implements [embedsso.SessionStore].
func (s *Store) TouchSession(ctx context.Context, idHash string, idleExpiresAt time.Time) error {
	done, err := s.writing(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: touch session: %w", err)
	}
	defer done()
	_, err = s.db.ExecContext(ctx, `UPDATE embedsso_sessions SET idle_expires_at = $1 WHERE id_hash = $2`,
		optionalMicros(idleExpiresAt), idHash)
	if err != nil {
		return fmt.Errorf("sqlstore: touch session: %w", err)
	}
	return nil
}

// optionalMicros stores the zero time as 0, "none".
func optionalMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

// RevokeSession implements [embedsso.SessionStore].
func (s *Store) RevokeSession(ctx context.Context, idHash string) error {
	done, err := s.writing(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: revoke session: %w", err)
	}
	defer done()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM embedsso_sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("sqlstore: revoke session: %w", err)
	}
	return nil
}

// RevokeUserSessions implements [embedsso.SessionStore].
func (s *Store) RevokeUserSessions(ctx context.Context, orgID, userID string) error {
	done, err := s.writing(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: revoke user sessions: %w", err)
	}
	defer done()
	_, err = s.db.ExecContext(ctx, `
		DELETE FROM embedsso_sessions WHERE user_id IN (SELECT id FROM embedsso_users WHERE id = $1 AND org_id = $2)`,
		userID, orgID)
	if err != nil {
		return fmt.Errorf("sqlstore: revoke user sessions: %w", err)
	}
	return nil
}
