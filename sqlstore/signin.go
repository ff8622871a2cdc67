package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
)

// SignIn implements [cookiesession.SignInStore]: a login's three writes (spend
// the token id, upsert the user, store the session) commit together or not
// at all. On PostgreSQL through pgx they are one statement, so a login costs
// one round trip and one commit; elsewhere (SQLite, or another driver) they
// are one transaction of three statements.
//
// A replayed token id returns [embedsso.ErrTokenReplayed] and writes nothing.
// The user upsert is the one [Store.UpsertUser] makes, so racing sign-ins of
// one new user make one row. A session whose IDHash is already stored fails
// the sign-in, and then nothing is written either.
func (s *Store) SignIn(ctx context.Context, w cookiesession.SignInWrite) (embedsso.User, error) {
	done, err := s.writing(ctx)
	if err != nil {
		return embedsso.User{}, fmt.Errorf("sqlstore: sign in: %w", err)
	}
	defer done()
	var u embedsso.User
	if s.dialect == postgres {
		u, err = s.signInStatement(ctx, w)
	} else {
		u, err = s.signInTx(ctx, w)
	}
	if c := s.cache; c != nil && err == nil {
		c.dropUser(u.ID) // its names, role or attributes may have changed
	}
	switch {
	case errors.Is(err, embedsso.ErrTokenReplayed):
		return embedsso.User{}, err
	case err != nil:
		return embedsso.User{}, fmt.Errorf("sqlstore: sign in: %w", err)
	}
	return u, nil
}

// signInTx makes the three writes in one transaction: the portable form.
func (s *Store) signInTx(ctx context.Context, w cookiesession.SignInWrite) (embedsso.User, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return embedsso.User{}, err
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	if w.TokenID != "" {
		if err := useTokenID(ctx, tx, w.Profile.OrgID, w.TokenID, w.TokenExpiresAt, w.Now); err != nil {
			return embedsso.User{}, err
		}
	}
	u, err := upsertUser(ctx, tx, w.Profile, s.now())
	if err != nil {
		return embedsso.User{}, err
	}
	w.Session.User = u
	if err := createSession(ctx, tx, w.Session); err != nil {
		return embedsso.User{}, err
	}
	return u, tx.Commit()
}

// signInSQL is the three writes as one PostgreSQL statement: each
// data-modifying CTE feeds the next, so a replayed token id (the first
// inserts no row) makes the others insert nothing, and any failure fails the
// whole statement. The explicit casts type the parameters that an
// INSERT … SELECT would otherwise leave as text.
const signInSQL = `
	WITH token AS (
		INSERT INTO embedsso_used_tokens (org_id, token_id, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (org_id, token_id) DO UPDATE SET expires_at = excluded.expires_at
		WHERE embedsso_used_tokens.expires_at <= $4
		RETURNING 1
	), usr AS (
		INSERT INTO embedsso_users (id, org_id, email, first_name, last_name, role, created_at, updated_at, attributes, group_names)
		SELECT $5::text, $1::text, $6::text, $7::text, $8::text, $9::text, $10::bigint, $10::bigint, $15::text, $16::text FROM token
		ON CONFLICT (org_id, email) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name,
			role = excluded.role, updated_at = excluded.updated_at, attributes = excluded.attributes, group_names = excluded.group_names
		RETURNING ` + userColumns + `
	), sess AS (
		INSERT INTO embedsso_sessions (id_hash, user_id, created_at, expires_at, idle_expires_at, org_epoch)
		SELECT $11::text, id, $12::bigint, $13::bigint, $14::bigint, $17::bigint FROM usr
	)
	SELECT ` + userColumns + ` FROM usr`

// signInNoTokenSQL is signInSQL for a token without a jti: nothing to spend.
const signInNoTokenSQL = `
	WITH usr AS (` + upsertUserSQL + `
	), sess AS (
		INSERT INTO embedsso_sessions (id_hash, user_id, created_at, expires_at, idle_expires_at, org_epoch)
		SELECT $10::text, id, $11::bigint, $12::bigint, $13::bigint, $14::bigint FROM usr
	)
	SELECT ` + userColumns + ` FROM usr`

// signInStatement makes the three writes in one PostgreSQL statement.
func (s *Store) signInStatement(ctx context.Context, w cookiesession.SignInWrite) (embedsso.User, error) {
	p, sess := w.Profile, w.Session
	attrs, groups, err := encodeExtras(p)
	if err != nil {
		return embedsso.User{}, err
	}
	now := s.now()
	var row *sql.Row
	if w.TokenID == "" {
		row = s.db.QueryRowContext(ctx, signInNoTokenSQL,
			newUserID(now), p.OrgID, p.Email, p.FirstName, p.LastName, p.Role, micros(now), attrs, groups,
			sess.IDHash, micros(sess.CreatedAt), micros(sess.ExpiresAt), optionalMicros(sess.IdleExpiresAt), sess.OrgEpoch)
	} else {
		row = s.db.QueryRowContext(ctx, signInSQL,
			p.OrgID, w.TokenID, micros(w.TokenExpiresAt), micros(w.Now),
			newUserID(now), p.Email, p.FirstName, p.LastName, p.Role, micros(now),
			sess.IDHash, micros(sess.CreatedAt), micros(sess.ExpiresAt), optionalMicros(sess.IdleExpiresAt), attrs, groups, sess.OrgEpoch)
	}
	u, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return embedsso.User{}, embedsso.ErrTokenReplayed // the token CTE inserted nothing
	}
	return u, err
}

// querier is what a statement runs on: the *sql.DB, or a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// dialect chooses how SignIn writes.
type dialect int

const (
	portable dialect = iota // one transaction of three statements: any database
	postgres                // one statement of data-modifying CTEs
)

// dialectOf recognizes pgx's driver by its package, which costs no query.
// Any other driver, lib/pq or a wrapped pgx included, gets the portable
// transaction: correct on both databases, with more round trips.
func dialectOf(db *sql.DB) dialect {
	t := reflect.TypeOf(db.Driver())
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if strings.HasPrefix(t.PkgPath(), "github.com/jackc/pgx/") {
		return postgres
	}
	return portable
}
