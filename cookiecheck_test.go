package embedsso_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blockedLogin signs in and follows the check without the cookie, as a
// browser that blocks it does. It returns the login's response, the
// cookie-blocked page's URL and its response.
func (f *fixture) blockedLogin(t *testing.T, query string) (login *httptest.ResponseRecorder, checkURL string, page *httptest.ResponseRecorder) {
	t.Helper()
	start := loginURL(rawToken(hs256, f.claims(), secretABC)) + query
	login = f.get(start, nil)
	require.Equal(t, http.StatusFound, login.Code, login.Body.String())
	checkURL = resolve(start, login.Header().Get("Location"))
	page = f.get(checkURL, nil)
	require.Equal(t, http.StatusUnauthorized, page.Code, page.Body.String())
	return login, checkURL, page
}

// resumeLink finds the "Open in a new tab" link on the cookie-blocked page.
func resumeLink(t *testing.T, body string) string {
	t.Helper()
	m := regexp.MustCompile(`id="newtab" href="([^"]+)"`).FindStringSubmatch(body)
	require.NotNil(t, m, "no resume link on the page")
	return html.UnescapeString(m[1])
}

// formTicket finds the ticket a page's form posts.
func formTicket(t *testing.T, body string) string {
	t.Helper()
	m := regexp.MustCompile(`name="sso_resume" value="([^"]+)"`).FindStringSubmatch(body)
	require.NotNil(t, m, "no resume form on the page")
	return html.UnescapeString(m[1])
}

const frameNone = "frame-ancestors 'none'"

func resumeForm(ticket string) url.Values { return url.Values{"sso_resume": {ticket}} }

func TestCookieCheckExplainsABlockedCookieInsteadOfLooping(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, checkURL, blocked := f.blockedLogin(t, "")

	// The browser dropped the cookie: the check shows the way out, and no redirect.
	assert.Empty(t, blocked.Header().Get("Location"))
	assert.Empty(t, sessionCookie(blocked))
	assert.Equal(t, "no-referrer", blocked.Header().Get("Referrer-Policy"))
	assert.Equal(t, "frame-ancestors 'self' https://customer.example https://*.partner.example", blocked.Header().Get("Content-Security-Policy"))
	body := blocked.Body.String()
	assert.Contains(t, body, "blocked this app")
	assert.Contains(t, body, "document.requestStorageAccess")
	assert.Contains(t, body, `target="_blank"`)
	assert.Contains(t, body, "code: cookie_blocked")
	assert.Equal(t, embedsso.EventCookieBlocked, f.lastEvent(t).Kind)
	resume := resumeLink(t, body)
	require.True(t, strings.HasPrefix(resume, "?sso_resume="), resume)
	assert.Equal(t, strings.TrimPrefix(resume, "?sso_resume="), formTicket(t, body), "the button and the link carry one ticket")
	assert.NotContains(t, resume, strings.SplitN(checkURL, "=", 2)[1], "the resume ticket is a new one")

	// Opening the link in a new tab shows "Continue as", and signs no one in.
	resumeURL := resolve(checkURL, resume)
	offer := f.get(resumeURL, map[string]string{"Referer": ""})
	require.Equal(t, http.StatusOK, offer.Code, offer.Body.String())
	assert.Empty(t, sessionCookie(offer))
	assert.Contains(t, offer.Body.String(), "Continue as jane@example.com")
	assert.Contains(t, offer.Body.String(), "org_abc123")
	assert.Equal(t, embedsso.EventResumeOffered, f.lastEvent(t).Kind)
	assert.Equal(t, 1, f.store.SessionCount(), "only the login's session")

	// Its button signs in here and checks again.
	again := f.post(resumeURL, resumeForm(formTicket(t, offer.Body.String())), nil)
	require.Equal(t, http.StatusSeeOther, again.Code, again.Body.String())
	assertSessionCookie(t, sessionCookie(again))
	ev := f.lastEvent(t)
	assert.Equal(t, embedsso.EventResumed, ev.Kind)
	assert.True(t, ev.Success)
	assert.NotEmpty(t, ev.UserID)
	next := again.Header().Get("Location")
	require.True(t, strings.HasPrefix(next, "?sso_check="), next)
	final := f.get(resolve(resumeURL, next), map[string]string{"Cookie": cookiePair(sessionCookie(again))})
	assert.Equal(t, http.StatusFound, final.Code)
	assert.Equal(t, "/dashboard", final.Header().Get("Location"))
	assert.Len(t, f.store.Users(), 1)

	// The resume ticket works once.
	twice := f.post(resumeURL, resumeForm(formTicket(t, offer.Body.String())), nil)
	assert.Equal(t, http.StatusBadRequest, twice.Code)
	assert.Contains(t, twice.Body.String(), "code: ticket_invalid")
	assert.Empty(t, sessionCookie(twice))
}

func TestResumeRefusesRequestsFromOtherSites(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		headers map[string]string
	}{
		{"fetch metadata saying cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"fetch metadata saying same-site, another origin", map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"an Origin of another site and no fetch metadata", map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"}},
		{"a Referer of another site alone", map[string]string{"Sec-Fetch-Site": "", "Referer": "https://evil.example/login-csrf"}},
		{"a Referer of another site beside same-origin metadata", map[string]string{"Referer": "https://evil.example/x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			_, checkURL, page := f.blockedLogin(t, "")
			ticket := formTicket(t, page.Body.String())
			replayed := f.store.TokenIDCount()

			w := f.post(checkURL, resumeForm(ticket), tc.headers)
			assert.Equal(t, http.StatusForbidden, w.Code)
			assert.Contains(t, w.Body.String(), "code: cross_site")
			assert.Empty(t, sessionCookie(w))
			assert.Equal(t, 1, f.store.SessionCount(), "no session beyond the login's")
			assert.Equal(t, replayed, f.store.TokenIDCount(), "the ticket is not spent")
			assert.Equal(t, embedsso.EventRefused, f.lastEvent(t).Kind)

			// The same ticket still works from this app's own page.
			assert.Equal(t, http.StatusSeeOther, f.post(checkURL, resumeForm(ticket), nil).Code)
		})
	}
}

func TestLinkScannersDoNotSpendResumeLinks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, checkURL, page := f.blockedLogin(t, "")
	resumeURL := resolve(checkURL, resumeLink(t, page.Body.String()))
	replayed := f.store.TokenIDCount()
	for range 3 {
		assert.Equal(t, http.StatusOK, f.get(resumeURL, nil).Code)
	}
	assert.Equal(t, http.StatusMethodNotAllowed, f.do(http.MethodHead, resumeURL, nil).Code)
	assert.Equal(t, replayed, f.store.TokenIDCount())
	assert.Equal(t, 1, f.store.SessionCount())
	assert.Equal(t, http.StatusSeeOther, f.post(resumeURL, resumeForm(formTicket(t, page.Body.String())), nil).Code)
}

func TestCheckLinksCannotBeTurnedIntoSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	start := loginURL(rawToken(hs256, f.claims(), secretABC))
	w := f.get(start, nil)
	require.Equal(t, http.StatusFound, w.Code)
	checkURL := resolve(start, w.Header().Get("Location"))
	checkTicket := strings.SplitN(checkURL, "sso_check=", 2)[1]
	cookie := map[string]string{"Cookie": cookiePair(sessionCookie(w))}

	// Whoever reads the check link (a log, say) cannot redeem it for a session...
	assert.Equal(t, http.StatusBadRequest, f.get("/api/sso/jwt?sso_resume="+checkTicket, nil).Code)
	stolen := f.post("/api/sso/jwt", resumeForm(checkTicket), nil)
	assert.Equal(t, http.StatusBadRequest, stolen.Code)
	assert.Empty(t, sessionCookie(stolen))
	// ...and once the browser followed it, it is spent: a later visitor
	// without the cookie gets no resume link from it.
	require.Equal(t, http.StatusFound, f.get(checkURL, cookie).Code)
	late := f.get(checkURL, nil)
	assert.Equal(t, http.StatusBadRequest, late.Code)
	assert.NotContains(t, late.Body.String(), "sso_resume")
	assert.Equal(t, 1, f.store.SessionCount())
}

// countingOrgs records every organization id a store is asked for.
type countingOrgs struct {
	embedsso.OrgStore
	mu  sync.Mutex
	ids []string
}

func (c *countingOrgs) FindOrg(ctx context.Context, id string) (embedsso.Org, error) {
	c.mu.Lock()
	c.ids = append(c.ids, id)
	c.mu.Unlock()
	return c.OrgStore.FindOrg(ctx, id)
}

func TestCookieCheckTicketsCannotBeForgedOrKept(t *testing.T) {
	t.Parallel()
	orgs := &countingOrgs{OrgStore: newFixtureOrgs(t)}
	f := newFixture(t, func(c *embedsso.Config) { c.Orgs = orgs })
	_, checkURL, page := f.blockedLogin(t, "")
	ticket := formTicket(t, page.Body.String())
	raw, err := base64.RawURLEncoding.DecodeString(ticket)
	require.NoError(t, err)
	sealed := raw[1+raw[0]:]
	named := func(orgID string) string {
		return base64.RawURLEncoding.EncodeToString(append(append([]byte{byte(len(orgID))}, orgID...), sealed...))
	}
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)/2] ^= 1

	const known = "frame-ancestors 'self' https://customer.example https://*.partner.example"
	for _, tc := range []struct{ name, ticket, csp string }{
		{"a flipped bit", base64.RawURLEncoding.EncodeToString(flipped), known},
		{"another org's name", named("org_open"), "frame-ancestors *"},
		{"an unknown org", named("org_nope"), frameNone},
		{"an org id with a NUL byte", named("org_abc123\x00"), frameNone},
		{"an org id with a control character", named("org\x1b[31m"), frameNone},
		{"an org id that is not UTF-8", named("org_\xff"), frameNone},
		{"an empty org id", named(""), frameNone},
		{"garbage", "not-a-ticket", frameNone},
		{"a byte appended", base64.RawURLEncoding.EncodeToString(append(append([]byte(nil), raw...), 0)), known},
		{"a non-canonical spelling of the same bytes", nonCanonical(t, ticket), frameNone},
		{"a ticket with no body", named("org_abc123")[:16], frameNone},
		{"a huge ticket", strings.Repeat("A", 9000), frameNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, w := range []*httptest.ResponseRecorder{
				f.get("/api/sso/jwt?sso_resume="+url.QueryEscape(tc.ticket), nil),
				f.get("/api/sso/jwt?sso_check="+url.QueryEscape(tc.ticket), nil),
				f.post("/api/sso/jwt", resumeForm(tc.ticket), nil),
			} {
				assert.Equal(t, http.StatusBadRequest, w.Code)
				assert.Contains(t, w.Body.String(), "code: ticket_invalid")
				assert.Empty(t, sessionCookie(w))
				assert.Equal(t, tc.csp, w.Header().Get("Content-Security-Policy"))
			}
		})
	}
	orgs.mu.Lock()
	for _, id := range orgs.ids {
		assert.NotContains(t, id, "\x00", "an org id with a NUL reached the store")
		assert.NotContains(t, id, "\x1b", "an org id with a control character reached the store")
	}
	orgs.mu.Unlock()

	f.now = f.now.Add(3 * time.Minute)
	late := f.post(checkURL, resumeForm(ticket), nil)
	assert.Equal(t, http.StatusBadRequest, late.Code, "an expired ticket")
	assert.Equal(t, 1, f.store.SessionCount(), "only the original login made a session")
}

func TestEveryLoginFitsItsTickets(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	local := strings.Repeat("l", 64)
	domain := strings.Repeat("d", 63) + "." + strings.Repeat("e", 63) + "." + strings.Repeat("f", 56) + ".com"
	email := local + "@" + domain
	require.Len(t, email, 253)
	claims := with(f.claims(), "email", email, "firstName", strings.Repeat("Ä", 128), "lastName", strings.Repeat("n", 256), "role", "MEMBER")
	dest := "/" + strings.Repeat("&", 2047) // JSON once turned each '&' into six bytes
	start := loginURL(rawToken(hs256, claims, secretABC)) + "&return_to=" + url.QueryEscape(dest)

	login := f.get(start, nil)
	require.Equal(t, http.StatusFound, login.Code, login.Body.String())
	checkURL := resolve(start, login.Header().Get("Location"))
	page := f.get(checkURL, nil)
	require.Equal(t, http.StatusUnauthorized, page.Code, page.Body.String())
	resumed := f.post(checkURL, resumeForm(formTicket(t, page.Body.String())), nil)
	require.Equal(t, http.StatusSeeOther, resumed.Code, resumed.Body.String())
	final := f.get(resolve(checkURL, resumed.Header().Get("Location")), map[string]string{"Cookie": cookiePair(sessionCookie(resumed))})
	require.Equal(t, http.StatusFound, final.Code, final.Body.String())
	assert.Equal(t, dest, final.Header().Get("Location"))
}

func TestALoginThatAlreadyHoldsTheSessionSkipsTheCheck(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	first := f.get(loginURL(rawToken(hs256, f.claims(), secretABC)), nil)
	require.Equal(t, http.StatusFound, first.Code)
	mine := map[string]string{"Cookie": cookiePair(sessionCookie(first))}

	again := f.get(loginURL(rawToken(hs256, f.claims(), secretABC)), mine)
	require.Equal(t, http.StatusFound, again.Code)
	assert.Equal(t, "/dashboard", again.Header().Get("Location"), "this browser keeps the cookie: no check")
	assertSessionCookie(t, sessionCookie(again))

	other := f.get(loginURL(rawToken(hs256, with(f.claims(), "email", "sam@example.com"), secretABC)), mine)
	require.Equal(t, http.StatusFound, other.Code)
	assert.True(t, strings.HasPrefix(other.Header().Get("Location"), "?sso_check="), "another user's login is checked")
}

func TestRedirectsWorkWhereverTheHandlerIsMounted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		mount func(h http.Handler) http.Handler
		path  string
	}{
		{"on a mux at /api/sso/jwt", func(h http.Handler) http.Handler {
			mux := http.NewServeMux()
			mux.Handle("GET /api/sso/jwt", h)
			mux.Handle("POST /api/sso/jwt", h)
			return mux
		}, "/api/sso/jwt"},
		{"behind http.StripPrefix", func(h http.Handler) http.Handler {
			mux := http.NewServeMux()
			mux.Handle("/api/sso/jwt", h)
			return http.StripPrefix("/app", mux)
		}, "/app/api/sso/jwt"},
		{"at a server's root", func(h http.Handler) http.Handler { return h }, "/"},
		{"at the root, asked for a path that looks like another host", func(h http.Handler) http.Handler { return h }, "//evil.example/x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			srv := httptest.NewServer(tc.mount(f.h))
			defer srv.Close()
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			send := func(method, target string, body url.Values, cookie string) *http.Response {
				var r *http.Request
				var err error
				if body != nil {
					r, err = http.NewRequest(method, target, strings.NewReader(body.Encode()))
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					r.Header.Set("Sec-Fetch-Site", "same-origin")
				} else {
					r, err = http.NewRequest(method, target, nil)
					r.Header.Set("Referer", customerPage)
				}
				require.NoError(t, err)
				if cookie != "" {
					r.Header.Set("Cookie", cookie)
				}
				res, err := client.Do(r)
				require.NoError(t, err)
				t.Cleanup(func() { _ = res.Body.Close() })
				return res
			}

			start := srv.URL + tc.path + "?jwt=" + rawToken(hs256, f.claims(), secretABC)
			login := send("GET", start, nil, "")
			require.Equal(t, http.StatusFound, login.StatusCode)
			checkURL := resolve(start, login.Header.Get("Location"))
			u, err := url.Parse(checkURL)
			require.NoError(t, err)
			assert.Equal(t, strings.TrimPrefix(srv.URL, "http://"), u.Host, "the check stays on this server")
			assert.Equal(t, tc.path, u.Path, "the check comes back to the handler")

			blocked := send("GET", checkURL, nil, "")
			require.Equal(t, http.StatusUnauthorized, blocked.StatusCode)
			var page bytes.Buffer
			_, _ = page.ReadFrom(blocked.Body)
			resumed := send("POST", resolve(checkURL, "?"), resumeForm(formTicket(t, page.String())), "")
			require.Equal(t, http.StatusSeeOther, resumed.StatusCode)
			var cookie string
			for _, c := range resumed.Cookies() {
				if c.Name == "embedsso_session" {
					cookie = c.Name + "=" + c.Value
				}
			}
			require.NotEmpty(t, cookie)
			done := send("GET", resolve(checkURL, resumed.Header.Get("Location")), nil, cookie)
			assert.Equal(t, http.StatusFound, done.StatusCode)
			assert.Equal(t, "/dashboard", done.Header.Get("Location"))
		})
	}
}

func TestEveryOutcomeReachesTheObserverAndTheLog(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	f := newFixture(t, func(c *embedsso.Config) { c.Logger = logger })
	login, checkURL, page := f.blockedLogin(t, "")
	resumeURL := resolve(checkURL, resumeLink(t, page.Body.String()))
	require.Equal(t, http.StatusOK, f.get(resumeURL, nil).Code)
	resumed := f.post(resumeURL, resumeForm(formTicket(t, page.Body.String())), nil)
	require.Equal(t, http.StatusSeeOther, resumed.Code)
	confirmed := f.get(resolve(resumeURL, resumed.Header().Get("Location")), map[string]string{"Cookie": cookiePair(sessionCookie(resumed))})
	require.Equal(t, http.StatusFound, confirmed.Code)
	require.Equal(t, http.StatusUnauthorized, f.get(loginURL(rawToken(hs256, f.claims(), "wrong-secret-wrong-secret-wrong-secret")), nil).Code)

	want := []embedsso.EventKind{embedsso.EventSignedIn, embedsso.EventCookieBlocked, embedsso.EventResumeOffered,
		embedsso.EventResumed, embedsso.EventCookieConfirmed, embedsso.EventRefused}
	f.mu.Lock()
	var got []embedsso.EventKind
	for _, e := range f.events {
		got = append(got, e.Kind)
		assert.Equal(t, "org_abc123", e.OrgID, e.Kind.String())
	}
	f.mu.Unlock()
	assert.Equal(t, want, got)

	mu.Lock()
	defer mu.Unlock()
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Len(t, lines, len(want))
	for i, k := range want {
		assert.Contains(t, lines[i], `"outcome":"`+k.String()+`"`)
	}
	// No ticket, token or session id reaches the log.
	for _, secret := range []string{
		strings.SplitN(checkURL, "=", 2)[1][:40], formTicket(t, page.Body.String())[:40],
		strings.TrimPrefix(cookiePair(sessionCookie(login)), "embedsso_session="),
		strings.TrimPrefix(cookiePair(sessionCookie(resumed)), "embedsso_session="),
	} {
		assert.NotContains(t, logs.String(), secret)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// nonCanonical respells a base64url text so that it decodes to the same
// bytes (non-strictly) by setting the unused low bits of its last character.
func nonCanonical(t *testing.T, s string) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(s)%4 == 0 { // no spare bits: drop a byte, so that the last character has some
		b := must(base64.RawURLEncoding.DecodeString(s))
		s = base64.RawURLEncoding.EncodeToString(b[:len(b)-1])
	}
	last := strings.IndexByte(alphabet, s[len(s)-1])
	out := s[:len(s)-1] + string(alphabet[last|1])
	a, errA := base64.RawURLEncoding.DecodeString(s)
	b, errB := base64.RawURLEncoding.DecodeString(out)
	require.NoError(t, errA)
	require.NoError(t, errB)
	require.Equal(t, a, b, "the respelling decodes to the same bytes")
	require.NotEqual(t, s, out)
	return out
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestAUserSignedOutSinceCannotBeResumed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, checkURL, page := f.blockedLogin(t, "")
	require.NoError(t, f.store.RevokeUserSessions(context.Background(), "org_abc123", f.store.Users()[0].ID))
	w := f.post(checkURL, resumeForm(formTicket(t, page.Body.String())), nil)
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Contains(t, w.Body.String(), "code: ticket_invalid")
	assert.Empty(t, sessionCookie(w))
	assert.Zero(t, f.store.SessionCount())
}

// countingReads is a session store that counts FindSession calls.
type countingReads struct {
	*memstore.Store
	reads atomic.Int64
}

func (s *countingReads) FindSession(ctx context.Context, idHash string, now time.Time) (embedsso.Session, error) {
	s.reads.Add(1)
	return s.Store.FindSession(ctx, idHash, now)
}

func TestTheCheckRecognisesTheCookieWithoutAStoreRead(t *testing.T) {
	t.Parallel()
	store := &countingReads{}
	f := newFixture(t, func(c *embedsso.Config) {
		store.Store = c.Users.(*memstore.Store) // the fixture's store
		cookies, err := cookiesession.New(cookiesession.Config{Store: store})
		require.NoError(t, err)
		c.Sessions = cookies
	})
	start := loginURL(rawToken(hs256, f.claims(), secretABC))
	login := f.get(start, nil)
	require.Equal(t, http.StatusFound, login.Code)
	before := store.reads.Load()
	check := f.get(resolve(start, login.Header().Get("Location")), map[string]string{"Cookie": cookiePair(sessionCookie(login))})
	require.Equal(t, http.StatusFound, check.Code)
	assert.Equal(t, "/dashboard", check.Header().Get("Location"))
	assert.Equal(t, before, store.reads.Load())

	// Another session's cookie is not this login's.
	other := f.get(loginURL(rawToken(hs256, with(f.claims(), "email", "sam@example.com"), secretABC)), nil)
	fresh := f.get(start, nil)
	wrong := f.get(resolve(start, fresh.Header().Get("Location")), map[string]string{"Cookie": cookiePair(sessionCookie(other))})
	assert.Equal(t, http.StatusUnauthorized, wrong.Code, "the cookie-blocked page")
}
