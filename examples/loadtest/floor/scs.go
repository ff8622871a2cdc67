package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite"
)

// The floor with -sessions scs-sqlite or scs-postgres keeps its sessions
// with github.com/alexedwards/scs/v2 in a database, as most Go apps keep
// theirs, instead of its map: the load test's side-by-side comparison of a
// signed-in request with scs on the same storage as the example's. The
// stores are scs's sqlite3store and pgxstore, written out here with their
// statements (sqlite3store is for mattn/go-sqlite3, which needs cgo; this
// one runs them through modernc.org/sqlite).

// newSCS returns the session manager over the store kind names, opened on
// db (a SQLite file or a PostgreSQL DSN), and a function that closes it.
func newSCS(ctx context.Context, kind, db string) (*scs.SessionManager, func(), error) {
	sm := scs.New()
	sm.Lifetime = 8 * time.Hour
	sm.Cookie.Name = floorCookie
	sm.Cookie.Secure = true
	sm.Cookie.SameSite = http.SameSiteNoneMode
	sm.Cookie.Partitioned = true
	switch kind {
	case "scs-sqlite":
		dsn := "file:" + db + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
		d, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, nil, err
		}
		if _, err := d.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, data BLOB NOT NULL, expiry REAL NOT NULL);
			CREATE INDEX IF NOT EXISTS sessions_expiry_idx ON sessions(expiry)`); err != nil {
			d.Close()
			return nil, nil, err
		}
		sm.Store = sqliteStore{d}
		return sm, func() { d.Close() }, nil
	case "scs-postgres":
		pool, err := pgxpool.New(ctx, db)
		if err != nil {
			return nil, nil, err
		}
		if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL);
			CREATE INDEX IF NOT EXISTS sessions_expiry_idx ON sessions (expiry)`); err != nil {
			pool.Close()
			return nil, nil, err
		}
		sm.Store = pgxStore{pool}
		return sm, pool.Close, nil
	}
	return nil, nil, fmt.Errorf("unknown -sessions %q", kind)
}

// sqliteStore is scs's sqlite3store: the same statements.
type sqliteStore struct{ db *sql.DB }

func (s sqliteStore) Find(token string) ([]byte, bool, error) {
	var b []byte
	err := s.db.QueryRow("SELECT data FROM sessions WHERE token = $1 AND julianday('now') < expiry", token).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	return b, err == nil, err
}

func (s sqliteStore) Commit(token string, b []byte, expiry time.Time) error {
	_, err := s.db.Exec("REPLACE INTO sessions (token, data, expiry) VALUES ($1, $2, julianday($3))",
		token, b, expiry.UTC().Format("2006-01-02T15:04:05.999"))
	return err
}

func (s sqliteStore) Delete(token string) error {
	_, err := s.db.Exec("DELETE FROM sessions WHERE token = $1", token)
	return err
}

// pgxStore is scs's pgxstore: the same statements, through pgx's pool.
type pgxStore struct{ pool *pgxpool.Pool }

func (s pgxStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := s.pool.QueryRow(ctx, "SELECT data FROM sessions WHERE token = $1 AND current_timestamp < expiry", token).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	return b, err == nil, err
}

func (s pgxStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := s.pool.Exec(ctx, "INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3) ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry",
		token, b, expiry)
	return err
}

func (s pgxStore) DeleteCtx(ctx context.Context, token string) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM sessions WHERE token = $1", token)
	return err
}

func (s pgxStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}
func (s pgxStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}
func (s pgxStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

// scsFloor is the floor's login and /api/me with the session in scs.
type scsFloor struct {
	*floor
	sm *scs.SessionManager
}

func (f scsFloor) login(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Origin") != f.org.AllowedOrigins[0] {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	u, ok := f.verify(r.URL.Query().Get("jwt"), time.Now())
	if !ok {
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	if err := f.sm.RenewToken(r.Context()); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	f.sm.Put(r.Context(), "email", u.Email)
	f.sm.Put(r.Context(), "orgId", u.OrgID)
	f.sm.Put(r.Context(), "role", u.Role)
	w.Header().Set("Location", "/dashboard")
	w.WriteHeader(http.StatusFound)
}

func (f scsFloor) me(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	ctx := r.Context()
	u := floorUser{Email: f.sm.GetString(ctx, "email"), OrgID: f.sm.GetString(ctx, "orgId"), Role: f.sm.GetString(ctx, "role")}
	if u.Email == "" {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"not signed in"}` + "\n"))
		return
	}
	writeUser(w, u)
}
