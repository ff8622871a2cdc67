package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/signer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type countingOrgs struct {
	embedsso.OrgStore
	reads atomic.Int64
}

func (s *countingOrgs) FindOrg(ctx context.Context, id string) (embedsso.Org, error) {
	s.reads.Add(1)
	return s.OrgStore.FindOrg(ctx, id)
}

type countingSessions struct {
	cookiesession.Store
	reads atomic.Int64
}

func (s *countingSessions) FindSession(ctx context.Context, idHash string, now time.Time) (embedsso.Session, error) {
	s.reads.Add(1)
	return s.Store.FindSession(ctx, idHash, now)
}

// Each signed-in request of the app's pages and API reads the session once
// and the organization at most once: once on memory, and not at all on
// SQLite, whose session read brings the organization with it (Session.Org).
func TestASignedInRequestReadsTheSessionAndTheOrganizationOnce(t *testing.T) {
	t.Parallel()
	const secret = "q3Jv9xPpA1mS7cT0bW2eY5uK8hN4dF6gL1zR0sV3wXa"
	org := embedsso.Org{ID: "org_count", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{Value: secret}},
		AllowedOrigins: []string{"https://customer.example"}, DashboardURL: "/dashboard"}
	wantOrgReads := map[string]int64{memoryDB: 1, "sqlite": 0}
	for _, db := range []string{memoryDB, "sqlite"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			dsn := db
			if db == "sqlite" {
				dsn = filepath.Join(t.TempDir(), "count.db")
			}
			s, err := openStores(context.Background(), dsn, []embedsso.Org{org})
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.close() })
			orgs, sessions := &countingOrgs{OrgStore: s.orgs}, &countingSessions{Store: s.sessions}
			s.orgs, s.sessions = orgs, sessions
			app, err := newApp(s, slog.New(slog.DiscardHandler), cookiesession.Config{Store: sessions})
			require.NoError(t, err)

			token, err := signer.Signer{Secret: secret}.Sign(signer.Claims{Email: "jane@example.com", OrgID: org.ID, Role: "MEMBER"})
			require.NoError(t, err)
			login := httptest.NewRequest("GET", "/api/sso/jwt?jwt="+url.QueryEscape(token), nil)
			login.Header.Set("Referer", "https://customer.example/")
			w := httptest.NewRecorder()
			app.ServeHTTP(w, login)
			require.Equal(t, http.StatusFound, w.Code, w.Body.String())
			var cookie string
			for _, c := range w.Result().Cookies() {
				if c.Name == "embedsso_session" {
					cookie = c.Name + "=" + c.Value
				}
			}
			require.NotEmpty(t, cookie)

			for _, path := range []string{"/dashboard", "/reports?tab=monthly", "/api/me"} {
				orgs.reads.Store(0)
				sessions.reads.Store(0)
				r := httptest.NewRequest("GET", path, nil)
				r.Header.Set("Cookie", cookie)
				if strings.HasPrefix(path, "/api/") {
					r.Header.Set("Accept", "application/json")
				}
				w := httptest.NewRecorder()
				app.ServeHTTP(w, r)
				require.Equal(t, http.StatusOK, w.Code, path)
				assert.Contains(t, w.Body.String(), "jane@example.com", path)
				assert.Equal(t, "no-store", w.Header().Get("Cache-Control"), path)
				assert.Equal(t, "no-referrer", w.Header().Get("Referrer-Policy"), path)
				assert.Equal(t, "frame-ancestors 'self' https://customer.example", w.Header().Get("Content-Security-Policy"), path)
				assert.Equal(t, int64(1), sessions.reads.Load(), "%s: session reads", path)
				assert.Equal(t, wantOrgReads[db], orgs.reads.Load(), "%s: organization reads", path)
			}
		})
	}
}
