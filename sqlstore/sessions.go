package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/embedsso/embedsso"
)

// CreateSession implements [cookiesession.Store].
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
		INSERT INTO embedsso_sessions (id_hash, user_id, created_at, expires_at, idle_expires_at, org_epoch) VALUES ($1, $2, $3, $4, $5, $6)`,
		sess.IDHash, sess.User.ID, micros(sess.CreatedAt), micros(sess.ExpiresAt), optionalMicros(sess.IdleExpiresAt), sess.OrgEpoch)
	return err
}

// FindSession implements [cookiesession.Store]: the session, its user and
// its user's organization ([embedsso.Session.Org], nil when the
// organization is gone), as they are now, from the cache (see
// [CacheOptions]) or else in one statement. The guard then reads no
// organization: a signed-in request costs at most that one statement. The
// Org is shared with the cache and other requests: do not modify it.
func (s *Store) FindSession(ctx context.Context, idHash string, now time.Time) (embedsso.Session, error) {
	sess, org, err := s.findSession(ctx, idHash, now)
	sess.Org = org
	return sess, err
}

// findSession returns the session idHash, with its organization (nil when
// the organization is gone).
func (s *Store) findSession(ctx context.Context, idHash string, now time.Time) (embedsso.Session, *embedsso.Org, error) {
	c := s.lookupCache()
	var seq uint64
	if c != nil {
		// A session that looks ended is read again: its idle expiry may
		// have moved on through another instance a moment ago, and that
		// renewal may not have reached the cache yet.
		if sess, org, ok := c.session(idHash); ok && !ended(&sess, now) {
			return sess, org, nil
		}
		seq = c.begin()
	}
	sess, org, err := s.readSession(ctx, idHash, now)
	if err != nil {
		return embedsso.Session{}, nil, err
	}
	if c != nil {
		c.putSession(seq, sess, org)
	}
	return sess, org, nil
}

// ended reports whether s has ended at now, as FindSession's contract says.
func ended(s *embedsso.Session, now time.Time) bool {
	return !s.ExpiresAt.After(now) || !s.IdleExpiresAt.IsZero() && !s.IdleExpiresAt.After(now)
}

// findSessionSQL reads a live session, its user and what the handler needs
// of the user's organization, by the sessions' primary key and the other
// tables' primary keys: one indexed read.
const findSessionSQL = `
	SELECT s.id_hash, s.created_at, s.expires_at, s.idle_expires_at, s.org_epoch,
		u.id, u.org_id, u.email, u.first_name, u.last_name, u.role, u.created_at, u.updated_at, u.attributes, u.group_names,
		o.id, o.embedding_enabled, o.secrets, o.allowed_origins, o.allowed_roles, o.dashboard_url, o.epoch,
		r.login_url, r.allowed_groups
	FROM embedsso_sessions s JOIN embedsso_users u ON u.id = s.user_id
		LEFT JOIN embedsso_orgs o ON o.id = u.org_id LEFT JOIN embedsso_org_records r ON r.org_id = u.org_id
	WHERE s.id_hash = $1 AND s.expires_at > $2 AND (s.idle_expires_at = 0 OR s.idle_expires_at > $2)`

// readSession runs findSessionSQL.
func (s *Store) readSession(ctx context.Context, idHash string, now time.Time) (embedsso.Session, *embedsso.Org, error) {
	var sess embedsso.Session
	var created, expires, idle int64
	var orgID, secrets, origins, roles, dashboard, loginURL, groups sql.NullString
	var enabled sql.NullBool
	var epoch sql.NullInt64
	r, err := s.findSessionStmt.queryRow(ctx, idHash, micros(now))
	if err != nil {
		return embedsso.Session{}, nil, fmt.Errorf("sqlstore: find session: %w", err)
	}
	user, err := scanUser(around{r, []any{&sess.IDHash, &created, &expires, &idle, &sess.OrgEpoch},
		[]any{&orgID, &enabled, &secrets, &origins, &roles, &dashboard, &epoch, &loginURL, &groups}})
	if isNoRows(err) {
		return embedsso.Session{}, nil, embedsso.ErrSessionNotFound
	}
	if err != nil {
		return embedsso.Session{}, nil, fmt.Errorf("sqlstore: find session: %w", err)
	}
	sess.CreatedAt, sess.ExpiresAt = fromMicros(created), fromMicros(expires)
	if idle != 0 {
		sess.IdleExpiresAt = fromMicros(idle)
	}
	sess.User = user
	if !orgID.Valid {
		return sess, nil, nil
	}
	org := &embedsso.Org{ID: orgID.String, EmbeddingEnabled: enabled.Bool, DashboardURL: dashboard.String, LoginURL: loginURL.String,
		Epoch: epoch.Int64}
	if err := decodeOrg(org, secrets.String, origins.String, roles.String); err != nil {
		return embedsso.Session{}, nil, fmt.Errorf("sqlstore: org %q: %w", org.ID, err)
	}
	if err := decodeGroups(org, groups); err != nil {
		return embedsso.Session{}, nil, fmt.Errorf("sqlstore: org %q: %w", org.ID, err)
	}
	return sess, org, nil
}

// around scans a row whose first columns go to first, the next to the
// destinations its Scan is given and the last to last, so scanUser can read
// a user amid them.
type around struct {
	row         *sql.Row
	first, last []any
}

func (p around) Scan(dest ...any) error {
	all := make([]any, 0, len(p.first)+len(dest)+len(p.last))
	return p.row.Scan(append(append(append(all, p.first...), dest...), p.last...)...)
}

// touchSessionSQL renews a session's idle expiry.
const touchSessionSQL = `UPDATE embedsso_sessions SET idle_expires_at = $1 WHERE id_hash = $2`

// TouchSession implements [cookiesession.Store].
func (s *Store) TouchSession(ctx context.Context, idHash string, idleExpiresAt time.Time) error {
	done, err := s.writing(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: touch session: %w", err)
	}
	defer done()
	_, err = s.touchStmt.exec(ctx, optionalMicros(idleExpiresAt), idHash)
	if c := s.cache; c != nil {
		if err == nil {
			c.touch(idHash, optionalMicros(idleExpiresAt))
		} else {
			c.dropSession(idHash) // the write may or may not have happened: read it again
		}
	}
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

// RevokeSession implements [cookiesession.Store].
func (s *Store) RevokeSession(ctx context.Context, idHash string) error {
	done, err := s.writing(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: revoke session: %w", err)
	}
	defer done()
	_, err = s.db.ExecContext(ctx, `DELETE FROM embedsso_sessions WHERE id_hash = $1`, idHash)
	if c := s.cache; c != nil {
		c.dropSession(idHash)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: revoke session: %w", err)
	}
	return nil
}

// RevokeUserSessions implements [cookiesession.Store].
func (s *Store) RevokeUserSessions(ctx context.Context, orgID, userID string) error {
	done, err := s.writing(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: revoke user sessions: %w", err)
	}
	defer done()
	_, err = s.db.ExecContext(ctx, `
		DELETE FROM embedsso_sessions WHERE user_id IN (SELECT id FROM embedsso_users WHERE id = $1 AND org_id = $2)`,
		userID, orgID)
	if c := s.cache; c != nil {
		c.dropUser(userID)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: revoke user sessions: %w", err)
	}
	return nil
}
