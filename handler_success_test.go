package embedsso_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/signer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type success struct {
	name     string
	token    func(f *fixture) string
	query    string            // extra query, e.g. "&return_to=/x"
	headers  map[string]string // overrides of the default Referer
	wantUser embedsso.User     // ID and times are not compared
	wantCSP  string
	wantDest string
}

func successes() []success {
	jane := embedsso.User{OrgID: "org_abc123", Email: "jane@example.com", FirstName: "Jane", LastName: "Doe", Role: "MEMBER"}
	abcCSP := "frame-ancestors 'self' https://customer.example https://*.partner.example"
	signerAt := func(secret, kid string) func(f *fixture) signer.Signer {
		return func(f *fixture) signer.Signer {
			return signer.Signer{Secret: secret, KeyID: kid, Now: func() time.Time { return f.now }}
		}
	}
	rotating := func(secret, kid string) func(f *fixture) string {
		return func(f *fixture) string {
			tok, err := signerAt(secret, kid)(f).Sign(signer.Claims{Email: "sam@example.com", OrgID: "org_rotating"})
			if err != nil {
				panic(err)
			}
			return tok
		}
	}
	sam := embedsso.User{OrgID: "org_rotating", Email: "sam@example.com"}
	return []success{
		{name: "a token from the library's signer signs in", token: func(f *fixture) string {
			tok, err := signerAt(secretABC, "")(f).Sign(signer.Claims{Email: "jane@example.com", OrgID: "org_abc123", FirstName: "Jane", LastName: "Doe", Role: "MEMBER"})
			if err != nil {
				panic(err)
			}
			return tok
		}, wantUser: jane, wantCSP: abcCSP, wantDest: "/dashboard"},
		{name: "a token from the independent signer signs in", token: func(f *fixture) string { return rawToken(hs256, f.claims(), secretABC) },
			wantUser: jane, wantCSP: abcCSP, wantDest: "/dashboard"},
		{name: "a mixed-case email is stored lower-cased", token: func(f *fixture) string {
			return rawToken(hs256, with(f.claims(), "email", "Jane@Example.COM"), secretABC)
		}, wantUser: jane, wantCSP: abcCSP, wantDest: "/dashboard"},
		{name: "a token that expired within the leeway signs in", token: func(f *fixture) string {
			return rawToken(hs256, with(f.claims(), "iat", f.now.Add(-10*time.Minute).Unix(), "exp", f.now.Add(-29*time.Second).Unix()), secretABC)
		}, wantUser: jane, wantCSP: abcCSP, wantDest: "/dashboard"},
		{name: "a fractional exp signs in", token: func(f *fixture) string {
			return rawToken(hs256, with(f.claims(), "exp", float64(f.now.Unix())+60.5), secretABC)
		}, wantUser: jane, wantCSP: abcCSP, wantDest: "/dashboard"},
		{name: "a wildcard origin signs in", token: func(f *fixture) string { return rawToken(hs256, f.claims(), secretABC) },
			headers: map[string]string{"Referer": "https://eu.partner.example/app"}, wantUser: jane, wantCSP: abcCSP, wantDest: "/dashboard"},
		{name: "an allowed Origin header wins over a foreign Referer", token: func(f *fixture) string { return rawToken(hs256, f.claims(), secretABC) },
			headers: map[string]string{"Origin": "https://customer.example", "Referer": "https://evil.example/"}, wantUser: jane, wantCSP: abcCSP, wantDest: "/dashboard"},
		{name: "an explicit default port matches the origin without it", token: func(f *fixture) string { return rawToken(hs256, f.claims(), secretABC) },
			headers: map[string]string{"Referer": "https://CUSTOMER.example:443/x"}, wantUser: jane, wantCSP: abcCSP, wantDest: "/dashboard"},
		{name: "a same-site return_to is honoured", token: func(f *fixture) string { return rawToken(hs256, f.claims(), secretABC) },
			query: "&return_to=" + url.QueryEscape("/reports/42?tab=2"), wantUser: jane, wantCSP: abcCSP, wantDest: "/reports/42?tab=2"},
		{name: "an organization without an allow-list accepts a request with no Referer", token: func(f *fixture) string {
			return rawToken(hs256, with(f.claims(), "orgId", "org_open", "role", "OWNER"), secretOpen)
		}, headers: map[string]string{"Referer": ""}, wantUser: embedsso.User{OrgID: "org_open", Email: "jane@example.com", FirstName: "Jane", LastName: "Doe", Role: "OWNER"},
			wantCSP: "frame-ancestors *", wantDest: "/"},
		{name: "the kid picks the new secret during rotation", token: rotating(secretNew, "new"), wantUser: sam, wantCSP: "frame-ancestors *", wantDest: "/"},
		{name: "the kid picks the old secret during rotation", token: rotating(secretOld, "old"), wantUser: sam, wantCSP: "frame-ancestors *", wantDest: "/"},
		{name: "without a kid each rotation secret is tried", token: rotating(secretOld, ""), wantUser: sam, wantCSP: "frame-ancestors *", wantDest: "/"},
	}
}

func TestHandlerSignsIn(t *testing.T) {
	t.Parallel()
	for _, tc := range successes() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			tok := tc.token(f)
			w := f.get(loginURL(tok)+tc.query, tc.headers)

			res := w.Result()
			require.Equal(t, http.StatusFound, res.StatusCode, w.Body.String())
			loc := res.Header.Get("Location")
			assert.True(t, strings.HasPrefix(loc, "?sso_check="), loc)
			assert.NotContains(t, loc, tok[strings.LastIndex(tok, ".")+1:], "the token must not reach the Location")
			assert.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))
			assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
			assert.Equal(t, tc.wantCSP, res.Header.Get("Content-Security-Policy"))
			assertSessionCookie(t, sessionCookie(w))

			users := f.store.Users()
			require.Len(t, users, 1)
			got := users[0]
			assert.NotEmpty(t, got.ID)
			got.ID, got.CreatedAt, got.UpdatedAt = "", time.Time{}, time.Time{}
			assert.Equal(t, tc.wantUser, got)
			assert.Equal(t, 1, f.store.SessionCount())
			ev := f.lastEvent(t)
			assert.True(t, ev.Success)
			assert.Equal(t, embedsso.EventSignedIn, ev.Kind)
			assert.Equal(t, tc.wantUser.Email, ev.Email)

			// The cookie check sends a browser that kept the cookie on.
			check := f.get(resolve(loginURL(tok), loc), map[string]string{"Cookie": cookiePair(sessionCookie(w))})
			assert.Equal(t, http.StatusFound, check.Code)
			assert.Equal(t, tc.wantDest, check.Header().Get("Location"))
			assert.Equal(t, tc.wantCSP, check.Header().Get("Content-Security-Policy"))
			assert.Equal(t, embedsso.EventCookieConfirmed, f.lastEvent(t).Kind)
		})
	}
}

// assertSessionCookie checks every attribute a cross-site iframe needs.
func assertSessionCookie(t *testing.T, line string) {
	t.Helper()
	require.NotEmpty(t, line, "no session cookie set")
	parts := strings.Split(line, "; ")
	value := strings.TrimPrefix(parts[0], "embedsso_session=")
	assert.Len(t, value, 43, "a 256-bit id in unpadded base64url")
	assert.ElementsMatch(t, []string{"Path=/", "HttpOnly", "Secure", "SameSite=None", "Partitioned", "Max-Age=28800"},
		filterPrefix(parts[1:], "Expires="))
}

func filterPrefix(ss []string, prefix string) []string {
	var out []string
	for _, s := range ss {
		if !strings.HasPrefix(s, prefix) {
			out = append(out, s)
		}
	}
	return out
}

func cookiePair(setCookie string) string { return strings.SplitN(setCookie, ";", 2)[0] }

func TestSessionStoresOnlyAHashOfTheCookie(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	w := f.get(loginURL(rawToken(hs256, f.claims(), secretABC)), nil)
	require.Equal(t, http.StatusFound, w.Code)
	id := strings.TrimPrefix(cookiePair(sessionCookie(w)), "embedsso_session=")

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: "embedsso_session", Value: id})
	s, err := f.cookies.Session(httptest.NewRecorder(), r)
	require.NoError(t, err)
	assert.NotEqual(t, id, s.IDHash)
	assert.Len(t, s.IDHash, 64, "hex SHA-256")
	assert.NotContains(t, s.IDHash, id)
}
