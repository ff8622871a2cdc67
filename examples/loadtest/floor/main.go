// Command floor is the load test's base for its ratios: the least any HS256
// login endpoint must do, written by hand. It serves the first organization
// of an -orgs file (the example server's format) on -addr and prints
// "the app: URL" once it listens, as the example does. It stops on SIGINT.
//
//	floor -orgs FILE [-addr 127.0.0.1:0] [-sessions map|scs-sqlite|scs-postgres -db FILE|DSN]
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alexedwards/scs/v2"
)

// floor checks the Origin, verifies the signature with crypto/hmac, decodes
// the claims and checks exp and the org, remembers a random session id in a
// map, sets the cookie and redirects. No replay check, no user store, no
// cookie check. GET /api/me looks the cookie up in the map.
type floor struct {
	org      orgJSON
	sessions sync.Map // session id → floorUser
}

// orgJSON is the part of the example's -orgs entries the floor reads.
type orgJSON struct {
	ID             string   `json:"id"`
	JWTSecrets     []string `json:"jwtSecrets"`
	AllowedOrigins []string `json:"allowedOrigins"`
}

type floorUser struct {
	Email string `json:"email"`
	OrgID string `json:"orgId"`
	Role  string `json:"role"`
}

const floorCookie = "s"

func (f *floor) login(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Origin") != f.org.AllowedOrigins[0] {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	u, ok := f.verify(r.URL.Query().Get("jwt"), time.Now())
	if !ok {
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	var id [32]byte
	_, _ = rand.Read(id[:])
	sid := base64.RawURLEncoding.EncodeToString(id[:])
	f.sessions.Store(sid, u)
	http.SetCookie(w, &http.Cookie{Name: floorCookie, Value: sid, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteNoneMode, Partitioned: true, MaxAge: 8 * 3600})
	w.Header().Set("Location", "/dashboard")
	w.WriteHeader(http.StatusFound)
}

func (f *floor) verify(tok string, now time.Time) (floorUser, bool) {
	var u floorUser
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return u, false
	}
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return u, false
	}
	var h struct{ Alg string }
	if json.Unmarshal(hdr, &h) != nil || h.Alg != "HS256" {
		return u, false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return u, false
	}
	m := hmac.New(sha256.New, []byte(f.org.JWTSecrets[0]))
	m.Write([]byte(tok[:len(parts[0])+1+len(parts[1])]))
	if !hmac.Equal(sig, m.Sum(nil)) {
		return u, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return u, false
	}
	var c struct {
		floorUser
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Exp <= now.Unix() || c.OrgID != f.org.ID || c.Email == "" {
		return u, false
	}
	return c.floorUser, true
}

func (f *floor) me(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	var u any
	if c, err := r.Cookie(floorCookie); err == nil {
		u, _ = f.sessions.Load(c.Value)
	}
	if u == nil {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"not signed in"}` + "\n"))
		return
	}
	writeUser(w, u)
}

func writeUser(w http.ResponseWriter, u any) {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(u)
	_, _ = w.Write(b.Bytes())
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	orgsFile := fs.String("orgs", "", "the example server's -orgs file; the first organization is served")
	sessions := fs.String("sessions", "map", "where sessions are kept: map (in memory), scs-sqlite (scs with a SQLite store on the -db file) or scs-postgres (scs with a pgx store on the -db DSN)")
	db := fs.String("db", "", "with -sessions scs-sqlite, the SQLite file; with scs-postgres, the postgres:// DSN")
	if err := fs.Parse(args); err != nil {
		return err
	}
	org, err := readOrg(*orgsFile)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	handler := newFloor(org)
	if *sessions != "map" {
		sm, closeStore, err := newSCS(ctx, *sessions, *db)
		if err != nil {
			return err
		}
		defer closeStore()
		handler = newSCSFloor(org, sm)
	}
	s := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "the app: http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Shutdown(shutdownCtx)
}

func readOrg(path string) (orgJSON, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return orgJSON{}, err
	}
	var orgs []orgJSON
	if err := json.Unmarshal(b, &orgs); err != nil {
		return orgJSON{}, fmt.Errorf("%s: %w", path, err)
	}
	if len(orgs) == 0 || orgs[0].ID == "" || len(orgs[0].JWTSecrets) == 0 || len(orgs[0].AllowedOrigins) == 0 {
		return orgJSON{}, fmt.Errorf("%s: the first organization needs an id, a jwtSecret and an allowedOrigin", path)
	}
	return orgs[0], nil
}

func newSCSFloor(org orgJSON, sm *scs.SessionManager) http.Handler {
	f := scsFloor{&floor{org: org}, sm}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/sso/jwt", f.login)
	mux.HandleFunc("GET /api/me", f.me)
	return sm.LoadAndSave(mux)
}

func newFloor(org orgJSON) http.Handler {
	f := &floor{org: org}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/sso/jwt", f.login)
	mux.HandleFunc("GET /api/me", f.me)
	return mux
}
