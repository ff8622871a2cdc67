package embedsso_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
)

// The handler's benchmarks, beside the floor of bench_test.go (see there
// how to run them). They live in this package to build their handler over
// package memstore, which imports embedsso.

func BenchmarkHandler(b *testing.B) {
	tok := embedsso.BenchToken
	target := "/api/sso/jwt?jwt=" + tok
	request := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r.Header.Set("Referer", "https://customer.example/page")
		return r
	}
	key := []byte(embedsso.BenchSecret)

	b.Run("harness", func(b *testing.B) {
		// What every row pays before any handler work: the request, the
		// recorder and a bare 302. Subtract it to compare handlers alone.
		bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "/dashboard")
			w.WriteHeader(http.StatusFound)
		})
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			bare.ServeHTTP(w, request())
			if w.Code != http.StatusFound {
				b.Fatal(w.Code)
			}
		}
	})
	b.Run("floor", func(b *testing.B) {
		floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := embedsso.FloorVerify(r.URL.Query().Get("jwt"), key, embedsso.BenchNow); !ok {
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			var id [32]byte
			http.SetCookie(w, &http.Cookie{Name: "s", Value: base64.RawURLEncoding.EncodeToString(id[:]), Path: "/",
				Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode, Partitioned: true})
			w.Header().Set("Location", "/dashboard")
			w.WriteHeader(http.StatusFound)
		})
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			floor.ServeHTTP(w, request())
			if w.Code != http.StatusFound {
				b.Fatal(w.Code)
			}
		}
	})
	b.Run("embedsso", func(b *testing.B) {
		h := newBenchHandler(b)
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, request())
			if w.Code != http.StatusFound {
				b.Fatal(w.Code, w.Body.String())
			}
		}
	})
}

// newBenchHandler is the handler the benchmarks measure: the bench org, the
// memory store and the fixed clock.
func newBenchHandler(b *testing.B) *embedsso.Handler {
	b.Helper()
	now := func() time.Time { return embedsso.BenchNow }
	store := memstore.New()
	if err := store.PutOrg(context.Background(), embedsso.BenchOrg()); err != nil {
		b.Fatal(err)
	}
	store.Now = now
	sessions, err := cookiesession.New(cookiesession.Config{Store: store, Now: now})
	if err != nil {
		b.Fatal(err)
	}
	h, err := embedsso.New(embedsso.Config{Orgs: store, Users: store, Sessions: sessions, Now: now})
	if err != nil {
		b.Fatal(err)
	}
	return h
}
