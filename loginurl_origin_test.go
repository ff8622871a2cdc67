package embedsso_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// In a browser, the login at the end of a LoginURL round trip carries no
// Origin and no Referer of the customer's: the frame's navigation began at
// the app's own page (e2e shows it). The organization hint vouches for it
// instead, and only for what the app itself began.

// bounced signs a user of orgID in, lets the session end, and visits a page
// in a frame, which sends the frame to the LoginURL. It returns the hint
// that carries and the return_to the LoginURL was given.
func (f *fixture) bounced(t *testing.T, orgID, secret string) (hint, returnTo string) {
	t.Helper()
	_, hint = f.signInto(t, orgID, secret)
	// Only the hint comes back: the session cookie is gone (expired).
	w := f.visit(f.page(false), "/reports?tab=2", []string{hint}, nil)
	require.Equal(t, http.StatusFound, w.Code, w.Body.String())
	loc, err := url.Parse(w.Header().Get("Location"))
	require.NoError(t, err)
	return cookieNamed(w, "embedsso_session_org"), loc.Query().Get("return_to")
}

// backFromLoginURL is the customer's endpoint's redirect, as the browser
// follows it in the frame: a fresh token, the return_to the LoginURL was
// given, the hint, no Origin, no Referer.
func (f *fixture) backFromLoginURL(orgID, secret, hint, returnTo string, headers map[string]string) *httptest.ResponseRecorder {
	target := loginURL(rawToken(hs256, with(f.claims(), "orgId", orgID, "role", "MEMBER"), secret))
	if returnTo != "" {
		target += "&return_to=" + url.QueryEscape(returnTo)
	}
	h := map[string]string{"Referer": "", "Cookie": hint, "Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"}
	for k, v := range headers {
		h[k] = v
	}
	return f.get(target, h)
}

func TestALoginBackFromTheLoginURLNeedsNoOriginWhenTheHintVouchesForIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	hint, returnTo := f.bounced(t, "org_login", secretOpen)

	w := f.backFromLoginURL("org_login", secretOpen, hint, returnTo, nil)
	require.Equal(t, http.StatusFound, w.Code, w.Body.String())
	assert.Equal(t, embedsso.EventSignedIn, f.lastEvent(t).Kind)
	assert.Empty(t, f.lastEvent(t).Origin, "no origin was named")
	assert.NotEmpty(t, cookieNamed(w, "embedsso_session"))
	assert.NotContains(t, w.Header().Get("Location"), "sso_trip", "the trip's nonce goes no further")

	// The sign-in reset the hint: it vouches for one login only.
	again := f.backFromLoginURL("org_login", secretOpen, cookieNamed(w, "embedsso_session_org"), returnTo, nil)
	assert.Equal(t, http.StatusForbidden, again.Code)
	assert.Equal(t, "origin_missing", f.lastEvent(t).Err.Code)
}

func TestALoginWithoutOriginIsStillRefusedWhenTheHintDoesNotVouch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// login returns the login as it arrives: its org, secret, hint and headers.
		login func(t *testing.T, f *fixture) *httptest.ResponseRecorder
		code  string
	}{
		{"a hint from a sign-in, with no trip to the LoginURL, is refused", func(t *testing.T, f *fixture) *httptest.ResponseRecorder {
			_, hint := f.signInto(t, "org_login", secretOpen)
			return f.backFromLoginURL("org_login", secretOpen, hint, "/reports?tab=2", nil)
		}, "origin_missing"},
		{"no hint at all is refused", func(t *testing.T, f *fixture) *httptest.ResponseRecorder {
			_, returnTo := f.bounced(t, "org_login", secretOpen)
			return f.backFromLoginURL("org_login", secretOpen, "", returnTo, nil)
		}, "origin_missing"},
		{"a trip to another organization's LoginURL is refused", func(t *testing.T, f *fixture) *httptest.ResponseRecorder {
			hint, returnTo := f.bounced(t, "org_login", secretOpen)
			return f.backFromLoginURL("org_abc123", secretABC, hint, returnTo, nil)
		}, "origin_missing"},
		{"a trip more than a minute ago is refused", func(t *testing.T, f *fixture) *httptest.ResponseRecorder {
			hint, returnTo := f.bounced(t, "org_login", secretOpen)
			f.now = f.now.Add(61 * time.Second)
			return f.backFromLoginURL("org_login", secretOpen, hint, returnTo, nil)
		}, "origin_missing"},
		{"a Referer of a site the organization does not allow is refused, trip or not", func(t *testing.T, f *fixture) *httptest.ResponseRecorder {
			hint, returnTo := f.bounced(t, "org_login", secretOpen)
			return f.backFromLoginURL("org_login", secretOpen, hint, returnTo, map[string]string{"Referer": "https://evil.example/"})
		}, "origin_not_allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			w := tc.login(t, f)
			assert.Equal(t, http.StatusForbidden, w.Code)
			assert.Equal(t, tc.code, f.lastEvent(t).Err.Code)
			assert.Empty(t, cookieNamed(w, "embedsso_session"), "no session")
		})
	}
}

// Issue 16, finding 1: the exception for a login that names no site was
// tied neither to the trip, nor to a frame, nor to the user. A victim who
// once signed in top-level and whose session ended opens an attacker's
// page, which opens the app top-level (the guard began a trip) and then
// sends the same window to the login with the attacker's own token and
// Referrer-Policy: no-referrer. The victim was signed in as the attacker.
func TestTheLoginURLExceptionIsBoundToItsTrip(t *testing.T) {
	t.Parallel()
	// attack is the attacker's navigation: their own token, their return_to
	// (or none), no Origin, no Referer, a top-level document.
	attack := func(f *fixture, hint, returnTo string, headers map[string]string) *httptest.ResponseRecorder {
		h := map[string]string{"Sec-Fetch-Dest": "document"}
		for k, v := range headers {
			h[k] = v
		}
		return f.backFromLoginURL("org_login", secretOpen, hint, returnTo, h)
	}
	nonce := func(t *testing.T, returnTo string) string {
		_, n, ok := strings.Cut(returnTo, "#sso_trip=")
		require.True(t, ok, "return_to %q carries the trip's nonce", returnTo)
		require.Len(t, n, 22)
		return n
	}
	cases := []struct {
		name  string
		login func(t *testing.T, f *fixture) *httptest.ResponseRecorder
	}{
		{"the app opened top-level starts no trip, and a login without a site that follows is refused", func(t *testing.T, f *fixture) *httptest.ResponseRecorder {
			_, hint := f.signInto(t, "org_login", secretOpen)
			top := f.visit(f.page(false), "/dashboard", []string{hint}, map[string]string{"Sec-Fetch-Dest": "document"})
			assert.Equal(t, http.StatusUnauthorized, top.Code, "the session-ended page, not a trip")
			assert.Empty(t, top.Header().Get("Location"))
			if h := cookieNamed(top, "embedsso_session_org"); h != "" {
				hint = h
			}
			return attack(f, hint, "", nil)
		}},
		{"a trip under way, and a login with no nonce", func(t *testing.T, f *fixture) *httptest.ResponseRecorder {
			hint, _ := f.bounced(t, "org_login", secretOpen)
			return attack(f, hint, "/dashboard", nil)
		}},
		{"a trip under way, and a login with no nonce in a frame", func(t *testing.T, f *fixture) *httptest.ResponseRecorder {
			hint, _ := f.bounced(t, "org_login", secretOpen)
			return f.backFromLoginURL("org_login", secretOpen, hint, "/reports?tab=2", nil)
		}},
		{"a trip under way, and a login with a wrong nonce", func(t *testing.T, f *fixture) *httptest.ResponseRecorder {
			hint, returnTo := f.bounced(t, "org_login", secretOpen)
			n := nonce(t, returnTo)
			wrong := strings.Repeat("A", len(n))
			return f.backFromLoginURL("org_login", secretOpen, hint, "/reports?tab=2#sso_trip="+wrong, nil)
		}},
		{"a trip under way, and a login with a nonce of the right length cut short", func(t *testing.T, f *fixture) *httptest.ResponseRecorder {
			hint, returnTo := f.bounced(t, "org_login", secretOpen)
			return f.backFromLoginURL("org_login", secretOpen, hint, returnTo[:len(returnTo)-1], nil)
		}},
		{"a trip under way, and a login with the nonce of an earlier trip", func(t *testing.T, f *fixture) *httptest.ResponseRecorder {
			hint, first := f.bounced(t, "org_login", secretOpen)
			w := f.visit(f.page(false), "/reports?tab=2", []string{hint}, nil) // the second bounce
			require.Equal(t, http.StatusFound, w.Code)
			return f.backFromLoginURL("org_login", secretOpen, cookieNamed(w, "embedsso_session_org"), first, nil)
		}},
		{"a nonce spent by the sign-in it ended", func(t *testing.T, f *fixture) *httptest.ResponseRecorder {
			hint, returnTo := f.bounced(t, "org_login", secretOpen)
			ok := f.backFromLoginURL("org_login", secretOpen, hint, returnTo, nil)
			require.Equal(t, http.StatusFound, ok.Code)
			return f.backFromLoginURL("org_login", secretOpen, cookieNamed(ok, "embedsso_session_org"), returnTo, nil)
		}},
		{"the trip's nonce, but a top-level document (Sec-Fetch-Dest: document)", func(t *testing.T, f *fixture) *httptest.ResponseRecorder {
			hint, returnTo := f.bounced(t, "org_login", secretOpen)
			return attack(f, hint, returnTo, nil)
		}},
		{"the trip's nonce, but Sec-Fetch-Dest sent twice", func(t *testing.T, f *fixture) *httptest.ResponseRecorder {
			hint, returnTo := f.bounced(t, "org_login", secretOpen)
			target := loginURL(rawToken(hs256, with(f.claims(), "orgId", "org_login"), secretOpen)) + "&return_to=" + url.QueryEscape(returnTo)
			r := httptest.NewRequest(http.MethodGet, target, nil)
			r.Header.Set("Cookie", hint)
			r.Header.Add("Sec-Fetch-Dest", "iframe")
			r.Header.Add("Sec-Fetch-Dest", "document")
			w := httptest.NewRecorder()
			f.h.ServeHTTP(w, r)
			return w
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			w := tc.login(t, f)
			assert.Equal(t, http.StatusForbidden, w.Code, w.Header().Get("Location"))
			ev := f.lastEvent(t)
			require.NotNil(t, ev.Err, "refused, not %s", ev.Kind)
			assert.Equal(t, "origin_missing", ev.Err.Code)
			assert.Empty(t, cookieNamed(w, "embedsso_session"), "no session")
			assert.Empty(t, cookieNamed(w, "embedsso_session_org"), "the hint is left as it was")
		})
	}

	t.Run("the trip's own return signs in, in a frame or from a browser without fetch metadata", func(t *testing.T) {
		t.Parallel()
		for _, dest := range []string{"iframe", ""} {
			f := newFixture(t)
			hint, returnTo := f.bounced(t, "org_login", secretOpen)
			nonce(t, returnTo)
			w := f.backFromLoginURL("org_login", secretOpen, hint, returnTo, map[string]string{"Sec-Fetch-Dest": dest, "Sec-Fetch-Site": ""})
			require.Equal(t, http.StatusFound, w.Code, w.Body.String())
			assert.NotEmpty(t, cookieNamed(w, "embedsso_session"))
		}
	})
}

func TestWithoutPartitionedCookiesTheHintVouchesForNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *embedsso.Config) {
		cookies, err := cookiesession.New(cookiesession.Config{Store: &memstore.Store{}, Now: c.Now, NotPartitioned: true})
		require.NoError(t, err)
		c.Sessions = cookies
		c.NotPartitioned = true // the hint is the handler's cookie
	})
	hint, returnTo := f.bounced(t, "org_login", secretOpen)
	w := f.backFromLoginURL("org_login", secretOpen, hint, returnTo, nil)
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Equal(t, "origin_missing", f.lastEvent(t).Err.Code)
}
