package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// postLogout sends POST /logout with the session cookie and headers.
func postLogout(t *testing.T, u urls, cookie string, headers map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u.app+"/logout", strings.NewReader(""))
	require.NoError(t, err)
	req.Header.Set("Cookie", cookie)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := noRedirects.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// The session cookie is SameSite=None, so a browser attaches it to a form
// that another site posts to /logout: only the app's own pages may sign out.
func TestLogoutRefusesOtherSites(t *testing.T) {
	t.Parallel()
	u := start(t)
	cases := []struct {
		name      string
		headers   map[string]string
		signedOut bool
	}{
		{"a form posted by another site's page (Origin) is refused", map[string]string{"Origin": "https://evil.example"}, false},
		{"a form posted by the customer's page, another site, is refused", map[string]string{"Origin": u.customer}, false},
		{"a request the browser marks cross-site is refused", map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{"a request the browser marks same-site but cross-origin is refused", map[string]string{"Sec-Fetch-Site": "same-site"}, false},
		{"a cross-site mark wins over a same-origin Origin", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": u.app}, false},
		{"the app's own Sign out button (same-origin) signs out", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": u.app}, true},
		{"a same-origin Origin without Sec-Fetch-Site signs out", map[string]string{"Origin": u.app}, true},
		{"a request the user started directly (Sec-Fetch-Site: none) signs out", map[string]string{"Sec-Fetch-Site": "none"}, true},
		{"a client that sends neither header (not a browser) signs out", nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cookie, landing, _ := signIn(t, u, iframeSrc(t, u, ""))
			require.Equal(t, http.StatusOK, landing.StatusCode)

			res := postLogout(t, u, cookie, tc.headers)
			me, _ := get(t, u.app+"/api/me", "", cookie)
			if tc.signedOut {
				assert.Equal(t, http.StatusSeeOther, res.StatusCode)
				assert.Equal(t, "/signed-out", res.Header.Get("Location"))
				assert.Equal(t, http.StatusUnauthorized, me.StatusCode, "the session is revoked")
				return
			}
			assert.Equal(t, http.StatusForbidden, res.StatusCode)
			assert.Empty(t, res.Cookies(), "the cookie is not cleared")
			assert.Equal(t, http.StatusOK, me.StatusCode, "the user is still signed in")
		})
	}
}
