package embedsso_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// everyAnswer is a request for each kind of answer the handler gives:
// redirects, error pages, pages of the flow and a 405. Each request is made
// on f, after whatever earlier steps it needs, and is sent once.
func everyAnswer() []struct {
	name    string
	extra   string // the fixed header this answer adds: "Location", "Allow" or none
	request func(t *testing.T, f *fixture) *http.Request
} {
	get := func(target string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r.Header.Set("Referer", customerPage)
		return r
	}
	return []struct {
		name    string
		extra   string
		request func(t *testing.T, f *fixture) *http.Request
	}{
		{"a login that signs in is a 302 redirect", "Location", func(t *testing.T, f *fixture) *http.Request {
			return get(loginURL(rawToken(hs256, f.claims(), secretABC)))
		}},
		{"a cookie check that finds the cookie is a 302 redirect", "Location", func(t *testing.T, f *fixture) *http.Request {
			start := loginURL(rawToken(hs256, f.claims(), secretABC))
			login := f.get(start, nil)
			require.Equal(t, http.StatusFound, login.Code, login.Body.String())
			r := get(resolve(start, login.Header().Get("Location")))
			r.Header.Set("Cookie", cookiePair(sessionCookie(login)))
			return r
		}},
		{"a resume is a 303 redirect", "Location", func(t *testing.T, f *fixture) *http.Request {
			_, checkURL, page := f.blockedLogin(t, "")
			r := httptest.NewRequest(http.MethodPost, checkURL, strings.NewReader(resumeForm(formTicket(t, page.Body.String())).Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			return r
		}},
		{"a refused login is an error page", "", func(t *testing.T, f *fixture) *http.Request {
			return get(loginURL(rawToken(hs256, f.claims(), secretOpen)))
		}},
		{"a refusal before the organization is known is an error page", "", func(t *testing.T, f *fixture) *http.Request {
			return get("/api/sso/jwt")
		}},
		{"a cookie check without the cookie is a page", "", func(t *testing.T, f *fixture) *http.Request {
			start := loginURL(rawToken(hs256, f.claims(), secretABC))
			login := f.get(start, nil)
			require.Equal(t, http.StatusFound, login.Code, login.Body.String())
			return get(resolve(start, login.Header().Get("Location")))
		}},
		{"a resume link is a page", "", func(t *testing.T, f *fixture) *http.Request {
			_, checkURL, page := f.blockedLogin(t, "")
			return get(resolve(checkURL, resumeLink(t, page.Body.String())))
		}},
		{"a PUT is a 405", "Allow", func(t *testing.T, f *fixture) *http.Request {
			r := get(loginURL(rawToken(hs256, f.claims(), secretABC)))
			r.Method = http.MethodPut
			return r
		}},
	}
}

// fixedHeaderNames are the headers an answer carries with one fixed value:
// the four every answer carries, then extra, if any.
func fixedHeaderNames(extra string) []string {
	names := []string{"Referrer-Policy", "Cache-Control", "X-Content-Type-Options", "Content-Security-Policy"}
	if extra != "" {
		names = append(names, extra)
	}
	return names
}

func TestEveryAnswerCarriesOneValueOfEachFixedHeader(t *testing.T) {
	t.Parallel()
	for _, tc := range everyAnswer() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			w := httptest.NewRecorder()
			f.h.ServeHTTP(w, tc.request(t, f))
			res := w.Result()

			for _, k := range fixedHeaderNames(tc.extra) {
				assert.Len(t, res.Header.Values(k), 1, k)
			}
			assert.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))
			assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
			assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
			assert.True(t, strings.HasPrefix(res.Header.Get("Content-Security-Policy"), "frame-ancestors "))
			for _, k := range []string{"Location", "Allow"} {
				if k != tc.extra {
					assert.Empty(t, res.Header.Values(k), k)
				}
			}
			switch tc.extra {
			case "Location":
				assert.True(t, strings.HasPrefix(res.Header.Get("Location"), "/") || strings.HasPrefix(res.Header.Get("Location"), "?"))
			case "Allow":
				assert.Equal(t, "GET, POST", res.Header.Get("Allow"))
			}
		})
	}
}

// addOnWriteHeader is a middleware's ResponseWriter that adds a value to
// one header just before the status goes out, as a middleware that appends
// a directive to the handler's answer does. before is the header as the
// handler left it.
type addOnWriteHeader struct {
	http.ResponseWriter
	key    string
	before http.Header
}

func (a *addOnWriteHeader) WriteHeader(code int) {
	if a.before == nil {
		a.before = a.Header().Clone()
		a.Header().Add(a.key, "added")
	}
	a.ResponseWriter.WriteHeader(code)
}

func (a *addOnWriteHeader) Write(p []byte) (int, error) {
	if a.before == nil {
		a.WriteHeader(http.StatusOK)
	}
	return a.ResponseWriter.Write(p)
}

func TestAddingToOneFixedHeaderLeavesTheOthersAlone(t *testing.T) {
	t.Parallel()
	for _, tc := range everyAnswer() {
		names := fixedHeaderNames(tc.extra)
		for _, key := range names {
			t.Run(tc.name+", adding to "+key, func(t *testing.T) {
				t.Parallel()
				f := newFixture(t)
				w := httptest.NewRecorder()
				mw := &addOnWriteHeader{ResponseWriter: w, key: key}
				f.h.ServeHTTP(mw, tc.request(t, f))
				require.NotNil(t, mw.before, "the handler wrote no status")
				res := w.Result()

				assert.Equal(t, append(mw.before.Values(key), "added"), res.Header.Values(key))
				for _, other := range names {
					if other != key {
						assert.Equal(t, mw.before.Values(other), res.Header.Values(other), "adding to %s changed %s", key, other)
					}
				}
			})
		}
	}
}

func TestFixedHeadersAreNotSharedBetweenAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range everyAnswer() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			first, second := httptest.NewRecorder(), httptest.NewRecorder()
			f.h.ServeHTTP(first, tc.request(t, f))
			f.h.ServeHTTP(second, tc.request(t, f))
			want := second.Header().Clone()

			// A middleware that rewrites the first answer's values in place,
			// as it goes out, must not reach the second answer's.
			names := fixedHeaderNames(tc.extra)
			for _, k := range names {
				vs := first.Header()[k]
				require.Len(t, vs, 1, k)
				vs[0] = "changed"
			}
			for _, k := range names {
				assert.Equal(t, want.Values(k), second.Header().Values(k), k)
			}
		})
	}
}
