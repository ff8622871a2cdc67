package embedsso

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// BenchmarkAuthenticated measures what every request of a signed-in user
// costs: CookieSessions.Middleware finding the session from its cookie.
func BenchmarkAuthenticated(b *testing.B) {
	now := func() time.Time { return benchNow }
	users := &MemoryUserStore{Now: now}
	cookies, err := NewCookieSessions(CookieConfig{Store: &MemorySessionStore{}, Now: now})
	if err != nil {
		b.Fatal(err)
	}
	u, err := users.UpsertUser(context.Background(), Profile{OrgID: "org_abc123", Email: "jane@example.com", Role: "MEMBER"})
	if err != nil {
		b.Fatal(err)
	}
	w := httptest.NewRecorder()
	if err := cookies.IssueSession(context.Background(), w, httptest.NewRequest("GET", "/", nil), u); err != nil {
		b.Fatal(err)
	}
	cookie := strings.SplitN(w.Header().Get("Set-Cookie"), ";", 2)[0]
	page := cookies.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := UserFromContext(r.Context()); !ok {
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
