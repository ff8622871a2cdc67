package scsissuer_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/examples/scsissuer"
	embedmem "github.com/embedsso/embedsso/memstore"
	"github.com/embedsso/embedsso/signer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	secret   = "q3Jv9xPpA1mS7cT0bW2eY5uK8hN4dF6gL1zR0sV3wXa"
	customer = "https://customer.example"
)

// countingStore counts the scs store's reads.
type countingStore struct {
	*memstore.MemStore
	finds atomic.Int64
}

func (s *countingStore) Find(token string) ([]byte, bool, error) {
	s.finds.Add(1)
	return s.MemStore.Find(token)
}

type countingOrgs struct {
	embedsso.OrgStore
	finds atomic.Int64
}

func (s *countingOrgs) FindOrg(ctx context.Context, id string) (embedsso.Org, error) {
	s.finds.Add(1)
	return s.OrgStore.FindOrg(ctx, id)
}

// app is an embedding app whose sessions scs keeps.
type app struct {
	t      *testing.T
	mux    *http.ServeMux
	issuer *scsissuer.Issuer
	store  *countingStore
	orgs   *countingOrgs
	users  *embedmem.Store
	events []embedsso.Event
}

func newApp(t *testing.T) *app {
	t.Helper()
	orgs := embedmem.New()
	err := orgs.PutOrg(context.Background(), embedsso.Org{ID: "org_abc", EmbeddingEnabled: true,
		Secrets: []embedsso.Secret{{Value: secret}}, AllowedOrigins: []string{customer},
		DashboardURL: "/dashboard", LoginURL: customer + "/sso/embed-login"})
	require.NoError(t, err)
	a := &app{t: t, store: &countingStore{MemStore: memstore.NewWithCleanupInterval(0)}, orgs: &countingOrgs{OrgStore: orgs},
		users: embedmem.New()}
	sm := scs.New()
	sm.Store = a.store
	sm.IdleTimeout = 30 * time.Minute
	sm.Cookie.Secure, sm.Cookie.SameSite, sm.Cookie.Partitioned = true, http.SameSiteNoneMode, true
	a.issuer, err = scsissuer.New(scsissuer.Config{Sessions: sm, FindUser: a.findUser})
	require.NoError(t, err)
	h, err := embedsso.New(embedsso.Config{Orgs: a.orgs, Users: a.users, Sessions: a.issuer,
		Observer: func(_ context.Context, e embedsso.Event) { a.events = append(a.events, e) }})
	require.NoError(t, err)
	a.mux = http.NewServeMux()
	a.mux.Handle("/api/sso/jwt", h)
	show := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := embedsso.UserFromContext(r.Context())
		_, _ = w.Write([]byte("hello " + u.Email))
	})
	a.mux.Handle("GET /dashboard", h.RequireUser(show))
	a.mux.Handle("GET /api/me", h.RequireUser(show))
	a.mux.Handle("POST /logout", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, a.issuer.SignOut(w, r))
		w.WriteHeader(http.StatusNoContent)
	}))
	return a
}

// findUser is the app's lookup of its users, as FindUser asks.
func (a *app) findUser(_ context.Context, orgID, userID string) (embedsso.User, error) {
	for _, u := range a.users.Users() {
		if u.OrgID == orgID && u.ID == userID {
			return u, nil
		}
	}
	return embedsso.User{}, embedsso.ErrSessionNotFound
}

// do sends a request with the given headers (a value "" deletes one).
func (a *app) do(method, target string, form url.Values, headers map[string]string) *httptest.ResponseRecorder {
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	for k, v := range headers {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	a.mux.ServeHTTP(w, r)
	return w
}

func (a *app) token(email string) string {
	tok, err := signer.Signer{Secret: secret, TokenID: true}.Sign(signer.Claims{Email: email, OrgID: "org_abc", Role: "MEMBER"})
	require.NoError(a.t, err)
	return tok
}

func cookie(w *httptest.ResponseRecorder, name string) string {
	for _, c := range w.Result().Cookies() {
		if c.Name == name && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	return ""
}

func formTicket(t *testing.T, body string) string {
	m := regexp.MustCompile(`name="sso_resume" value="([^"]+)"`).FindStringSubmatch(body)
	require.NotNil(t, m, "no resume form on the page")
	return html.UnescapeString(m[1])
}

// The whole flow, with scs keeping the sessions: login, cookie check,
// resume after a blocked cookie, the guard, sign-out, the LoginURL round
// trip after the session ended, and revocation.
func TestTheWholeFlowWithSCSSessions(t *testing.T) {
	a := newApp(t)
	frame := map[string]string{"Referer": customer + "/analytics"}

	// The login, and the cookie check with the cookie kept.
	login := a.do("GET", "/api/sso/jwt?jwt="+a.token("jane@example.com"), nil, frame)
	require.Equal(t, http.StatusFound, login.Code, login.Body.String())
	session, hint := cookie(login, "session"), cookie(login, "embedsso_session_org")
	require.NotEmpty(t, session)
	require.NotEmpty(t, hint)
	line := login.Result().Header.Values("Set-Cookie")
	assert.Contains(t, strings.Join(line, "\n"), "Secure; SameSite=None; Partitioned")
	check := login.Header().Get("Location")
	require.True(t, strings.HasPrefix(check, "?sso_check="), check)
	ok := a.do("GET", "/api/sso/jwt"+check, nil, map[string]string{"Cookie": session})
	require.Equal(t, http.StatusFound, ok.Code, ok.Body.String())
	assert.Equal(t, "/dashboard", ok.Header().Get("Location"))
	assert.Equal(t, embedsso.EventCookieConfirmed, a.events[len(a.events)-1].Kind)

	// The guard: one scs read and one organization read per request.
	a.store.finds.Store(0)
	a.orgs.finds.Store(0)
	page := a.do("GET", "/dashboard", nil, map[string]string{"Cookie": session})
	require.Equal(t, http.StatusOK, page.Code, page.Body.String())
	assert.Equal(t, "hello jane@example.com", page.Body.String())
	assert.Equal(t, "frame-ancestors 'self' https://customer.example", page.Header().Get("Content-Security-Policy"))
	assert.Equal(t, "no-store", page.Header().Get("Cache-Control"))
	assert.Equal(t, int64(1), a.store.finds.Load(), "scs store reads")
	assert.Equal(t, int64(1), a.orgs.finds.Load(), "organization reads")

	// A browser that blocks the cookie: the check explains, the resume
	// signs in again, and its check passes.
	blocked := a.do("GET", "/api/sso/jwt?jwt="+a.token("jane@example.com"), nil, frame)
	require.Equal(t, http.StatusFound, blocked.Code)
	page2 := a.do("GET", "/api/sso/jwt"+blocked.Header().Get("Location"), nil, nil)
	require.Equal(t, http.StatusUnauthorized, page2.Code, page2.Body.String())
	assert.Contains(t, page2.Body.String(), "code: cookie_blocked")
	ticket := formTicket(t, page2.Body.String())
	resumed := a.do("POST", "/api/sso/jwt", url.Values{"sso_resume": {ticket}}, map[string]string{"Sec-Fetch-Site": "same-origin"})
	require.Equal(t, http.StatusSeeOther, resumed.Code, resumed.Body.String())
	assert.Equal(t, embedsso.EventResumed, a.events[len(a.events)-1].Kind)
	again := cookie(resumed, "session")
	require.NotEmpty(t, again)
	final := a.do("GET", "/api/sso/jwt"+resumed.Header().Get("Location"), nil, map[string]string{"Cookie": again})
	require.Equal(t, http.StatusFound, final.Code, final.Body.String())
	assert.Equal(t, "/dashboard", final.Header().Get("Location"))

	// Sign-out ends the session: the guard sends the frame through the
	// organization's LoginURL, and the login that comes back from it (no
	// Origin, no Referer, the hint vouching for the round trip) signs in.
	out := a.do("POST", "/logout", nil, map[string]string{"Cookie": session})
	require.Equal(t, http.StatusNoContent, out.Code)
	ended := a.do("GET", "/dashboard", nil, map[string]string{"Cookie": session + "; " + hint})
	require.Equal(t, http.StatusFound, ended.Code, ended.Body.String())
	loc, err := url.Parse(ended.Header().Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, customer+"/sso/embed-login", loc.Scheme+"://"+loc.Host+loc.Path)
	assert.Regexp(t, `^/dashboard#sso_trip=[A-Za-z0-9_-]{22}$`, loc.Query().Get("return_to"), "the page and the trip's nonce")
	assert.Equal(t, embedsso.EventLoginRedirect, a.events[len(a.events)-1].Kind)
	bounced := cookie(ended, "embedsso_session_org")
	require.NotEmpty(t, bounced)
	back := a.do("GET", "/api/sso/jwt?jwt="+a.token("jane@example.com")+"&return_to="+url.QueryEscape(loc.Query().Get("return_to")), nil,
		map[string]string{"Cookie": bounced})
	require.Equal(t, http.StatusFound, back.Code, back.Body.String())
	assert.Equal(t, embedsso.EventSignedIn, a.events[len(a.events)-1].Kind)

	// A resume ticket of a sign-in that has ended since is refused.
	blocked = a.do("GET", "/api/sso/jwt?jwt="+a.token("jane@example.com"), nil, frame)
	page3 := a.do("GET", "/api/sso/jwt"+blocked.Header().Get("Location"), nil, nil)
	ticket = formTicket(t, page3.Body.String())
	users := a.users.Users()
	require.Len(t, users, 1)
	require.NoError(t, a.issuer.RevokeUserSessions(context.Background(), "org_abc", users[0].ID))
	stale := a.do("POST", "/api/sso/jwt", url.Values{"sso_resume": {ticket}}, map[string]string{"Sec-Fetch-Site": "same-origin"})
	assert.Equal(t, http.StatusBadRequest, stale.Code)
	assert.Contains(t, stale.Body.String(), "code: ticket_invalid")

	// Revocation ends every session of the user at its next request.
	for _, c := range []string{again, cookie(back, "session")} {
		me := a.do("GET", "/api/me", nil, map[string]string{"Cookie": c, "Accept": "application/json"})
		assert.Equal(t, http.StatusUnauthorized, me.Code)
		assert.JSONEq(t, `{"error":{"code":"session_not_found","message":"You are not signed in."}}`, me.Body.String())
	}
	other := a.do("GET", "/api/sso/jwt?jwt="+a.token("sam@example.com"), nil, frame)
	require.Equal(t, http.StatusFound, other.Code)
	assert.Equal(t, http.StatusOK, a.do("GET", "/api/me", nil, map[string]string{"Cookie": cookie(other, "session")}).Code,
		"another user's session stays")

	// The organization ends every session at once (its Epoch moves, as
	// when its secret is replaced): the issuer kept each session's epoch.
	org, err := a.orgs.OrgStore.FindOrg(context.Background(), "org_abc")
	require.NoError(t, err)
	org.Epoch++
	require.NoError(t, a.orgs.OrgStore.(*embedmem.Store).PutOrg(context.Background(), org))
	assert.Equal(t, http.StatusUnauthorized, a.do("GET", "/api/me", nil, map[string]string{"Cookie": cookie(other, "session"), "Accept": "application/json"}).Code,
		"sam's session ended with its organization's")
	fresh := a.do("GET", "/api/sso/jwt?jwt="+a.token("sam@example.com"), nil, frame)
	require.Equal(t, http.StatusFound, fresh.Code)
	assert.Equal(t, http.StatusOK, a.do("GET", "/api/me", nil, map[string]string{"Cookie": cookie(fresh, "session")}).Code,
		"a sign-in after it lives")
}

func TestNewRefusesACookieThatCannotReachTheFrame(t *testing.T) {
	find := func(context.Context, string, string) (embedsso.User, error) { return embedsso.User{}, nil }
	for name, mutate := range map[string]func(*scs.SessionManager){
		"not Secure":   func(sm *scs.SessionManager) { sm.Cookie.SameSite = http.SameSiteNoneMode },
		"SameSite=Lax": func(sm *scs.SessionManager) { sm.Cookie.Secure = true },
		"no manager":   nil,
	} {
		var sm *scs.SessionManager
		if mutate != nil {
			sm = scs.New()
			mutate(sm)
		}
		_, err := scsissuer.New(scsissuer.Config{Sessions: sm, FindUser: find})
		assert.Error(t, err, name)
	}
}
