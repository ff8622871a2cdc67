package embedsso_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/embedsso/embedsso"
)

// BenchmarkFlow measures what a browser's sign-in costs the app: the login
// request, then the cookie check that follows its redirect with the new
// cookie. Compare it with BenchmarkHandler/floor from the same run.
func BenchmarkFlow(b *testing.B) {
	h := newBenchHandler(b)
	const path = "/api/sso/jwt"
	target := path + "?jwt=" + embedsso.BenchToken
	login := func() (check, cookie string) {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r.Header.Set("Referer", "https://customer.example/page")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		loc := w.Header().Get("Location")
		// The handler's redirects are query-only references
		// (TestRedirectsWorkWhereverTheHandlerIsMounted), so the browser's
		// resolution is the path plus the query; anything else fails here.
		if w.Code != http.StatusFound || !strings.HasPrefix(loc, "?") {
			b.Fatal(w.Code, loc, w.Body.String())
		}
		cookie, _, _ = strings.Cut(w.Header().Get("Set-Cookie"), ";")
		return path + loc, cookie
	}
	confirm := func(check, cookie string) {
		r := httptest.NewRequest(http.MethodGet, check, nil)
		r.Header.Set("Cookie", cookie)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusFound || strings.Contains(w.Header().Get("Location"), "sso_") {
			b.Fatal(w.Code, w.Body.String())
		}
	}
	b.Run("login+check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			confirm(login())
		}
	})
	b.Run("check", func(b *testing.B) {
		// Each check link is single-use: mint them before the clock starts.
		links := make([][2]string, 0, 1<<16)
		for range cap(links) {
			c, k := login()
			links = append(links, [2]string{c, k})
		}
		b.ReportAllocs()
		b.ResetTimer()
		i := 0
		for b.Loop() {
			if i == len(links) {
				b.StopTimer()
				links = links[:0]
				for range cap(links) {
					c, k := login()
					links = append(links, [2]string{c, k})
				}
				i = 0
				b.StartTimer()
			}
			confirm(links[i][0], links[i][1])
			i++
		}
	})
}
