package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// floor is the least any HS256 login endpoint must do, written by hand as a
// base for the ratios: check the Origin, verify the signature with
// crypto/hmac, decode the claims and check exp and the org, remember a
// random session id in a map, set the cookie and redirect. No replay check,
// no user store, no cookie check. GET /api/me looks the cookie up in the map.
type floor struct {
	org      loadOrg
	sessions sync.Map // session id → floorUser
}

type floorUser struct {
	Email string `json:"email"`
	OrgID string `json:"orgId"`
	Role  string `json:"role"`
}

const floorCookie = "s"

func (f *floor) login(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Origin") != f.org.origin {
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
	m := hmac.New(sha256.New, []byte(f.org.secret))
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
	if json.Unmarshal(payload, &c) != nil || c.Exp <= now.Unix() || c.OrgID != f.org.id || c.Email == "" {
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
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(u)
	_, _ = w.Write(b.Bytes())
}

// startFloor serves a floor on a free loopback port, in this process, and
// returns its base URL and how to stop it.
func startFloor(org loadOrg) (string, func() error, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	f := &floor{org: org}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/sso/jwt", f.login)
	mux.HandleFunc("GET /api/me", f.me)
	s := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.Serve(ln) }()
	stop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return s.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}
