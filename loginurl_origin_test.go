package embedsso_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// In a browser, the login at the end of a LoginURL round trip carries no
// Origin and no Referer of the customer's: the frame's navigation began at
// the app's own page (e2e shows it). The organization hint vouches for it
// instead, and only for what the app itself began.

// bounced signs a user of orgID in, lets the session end, and visits a page,
// which sends the frame to the LoginURL. It returns the hint that carries.
func (f *fixture) bounced(t *testing.T, orgID, secret string) string {
	t.Helper()
	_, hint := f.signInto(t, orgID, secret)
	// Only the hint comes back: the session cookie is gone (expired).
	w := f.visit(f.page(false), "/reports?tab=2", []string{hint}, nil)
	require.Equal(t, http.StatusFound, w.Code, w.Body.String())
	return cookieNamed(w, "embedsso_session_org")
}

// backFromLoginURL is the customer's endpoint's redirect, as the browser
// follows it: a fresh token, return_to, the hint, no Origin, no Referer.
func (f *fixture) backFromLoginURL(orgID, secret, hint string, headers map[string]string) *httptest.ResponseRecorder {
	target := loginURL(rawToken(hs256, with(f.claims(), "orgId", orgID, "role", "MEMBER"), secret)) + "&return_to=" + url.QueryEscape("/reports?tab=2")
	h := map[string]string{"Referer": "", "Cookie": hint}
	for k, v := range headers {
		h[k] = v
	}
	return f.get(target, h)
}

func TestALoginBackFromTheLoginURLNeedsNoOriginWhenTheHintVouchesForIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	hint := f.bounced(t, "org_login", secretOpen)

	w := f.backFromLoginURL("org_login", secretOpen, hint, nil)
	require.Equal(t, http.StatusFound, w.Code, w.Body.String())
	assert.Equal(t, embedsso.EventSignedIn, f.lastEvent(t).Kind)
	assert.Empty(t, f.lastEvent(t).Origin, "no origin was named")
	assert.NotEmpty(t, cookieNamed(w, "embedsso_session"))

	// The sign-in reset the hint: it vouches for one login only.
	again := f.backFromLoginURL("org_login", secretOpen, cookieNamed(w, "embedsso_session_org"), nil)
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
			return f.backFromLoginURL("org_login", secretOpen, hint, nil)
		}, "origin_missing"},
		{"no hint at all is refused", func(t *testing.T, f *fixture) *httptest.ResponseRecorder {
			return f.backFromLoginURL("org_login", secretOpen, "", nil)
		}, "origin_missing"},
		{"a trip to another organization's LoginURL is refused", func(t *testing.T, f *fixture) *httptest.ResponseRecorder {
			return f.backFromLoginURL("org_abc123", secretABC, f.bounced(t, "org_login", secretOpen), nil)
		}, "origin_missing"},
		{"a trip more than a minute ago is refused", func(t *testing.T, f *fixture) *httptest.ResponseRecorder {
			hint := f.bounced(t, "org_login", secretOpen)
			f.now = f.now.Add(61 * time.Second)
			return f.backFromLoginURL("org_login", secretOpen, hint, nil)
		}, "origin_missing"},
		{"a Referer of a site the organization does not allow is refused, trip or not", func(t *testing.T, f *fixture) *httptest.ResponseRecorder {
			return f.backFromLoginURL("org_login", secretOpen, f.bounced(t, "org_login", secretOpen), map[string]string{"Referer": "https://evil.example/"})
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

func TestWithoutPartitionedCookiesTheHintVouchesForNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *embedsso.Config) {
		cookies, err := embedsso.NewCookieSessions(embedsso.CookieConfig{Store: &memstore.Store{}, Now: c.Now, NotPartitioned: true})
		require.NoError(t, err)
		c.Sessions = cookies
		c.NotPartitioned = true // the hint is the handler's cookie
	})
	hint := f.bounced(t, "org_login", secretOpen)
	w := f.backFromLoginURL("org_login", secretOpen, hint, nil)
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Equal(t, "origin_missing", f.lastEvent(t).Err.Code)
}
