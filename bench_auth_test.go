package embedsso_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
)

// BenchmarkAuthenticated measures what every request of a signed-in user
// costs: [embedsso.Handler.RequireUser] finding the session from its
// cookie, judging its organization and setting the page's headers. (At
// 9f545aa it measured CookieSessions.Middleware alone, the session read
// without the organization; the guard a page wore then read the
// organization twice more, RequireUser's and FrameAncestors'.)
func BenchmarkAuthenticated(b *testing.B) {
	now := func() time.Time { return embedsso.BenchNow }
	store := memstore.New()
	if err := store.PutOrg(context.Background(), embedsso.Org{ID: "org_abc123", EmbeddingEnabled: true,
		Secrets: []embedsso.Secret{{Value: embedsso.BenchSecret}}, AllowedOrigins: []string{"https://customer.example"}}); err != nil {
		b.Fatal(err)
	}
	store.Now = now
	cookies, err := cookiesession.New(cookiesession.Config{Store: store, Now: now})
	if err != nil {
		b.Fatal(err)
	}
	h, err := embedsso.New(embedsso.Config{Orgs: store, Users: store, Sessions: cookies, Now: now})
	if err != nil {
		b.Fatal(err)
	}
	u, err := store.UpsertUser(context.Background(), embedsso.Profile{OrgID: "org_abc123", Email: "jane@example.com", Role: "MEMBER"})
	if err != nil {
		b.Fatal(err)
	}
	w := httptest.NewRecorder()
	if _, err := cookies.IssueSession(context.Background(), w, httptest.NewRequest("GET", "/", nil), u, 0); err != nil {
		b.Fatal(err)
	}
	cookie := strings.SplitN(w.Header().Get("Set-Cookie"), ";", 2)[0]
	page := h.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := embedsso.UserFromContext(r.Context()); !ok {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("GET", "/dashboard", nil)
		r.Header.Set("Cookie", cookie)
		w := httptest.NewRecorder()
		page.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
