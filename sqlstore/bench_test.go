package sqlstore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/sqlstore"
)

// BenchmarkLogin is one whole login through the real handler (httptest
// recorder, no network), with each kind of storage. Every iteration uses a
// new token (a new jti), so the replay store really writes.
//
//	go test -run '^$' -bench Login -benchmem -count 6 ./sqlstore/ | benchstat -
func BenchmarkLogin(b *testing.B) {
	type stores struct {
		orgs     embedsso.OrgStore
		users    embedsso.UserStore
		sessions embedsso.SessionStore
		replay   embedsso.ReplayStore
	}
	for _, kind := range []string{"memory", "sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			var s stores
			if kind == "memory" {
				s = stores{embedsso.NewMemoryOrgStore(scaleOrg), &embedsso.MemoryUserStore{}, &embedsso.MemorySessionStore{}, &embedsso.MemoryReplayStore{}}
			} else {
				st := sqlstore.New(newDatabase(b, kind).open(b))
				if err := st.PutOrg(context.Background(), scaleOrg); err != nil {
					b.Fatal(err)
				}
				s = stores{st, st, st, st}
			}
			sessions, err := embedsso.NewCookieSessions(embedsso.CookieConfig{Store: s.sessions})
			if err != nil {
				b.Fatal(err)
			}
			h, err := embedsso.New(embedsso.Config{Orgs: s.orgs, Users: s.users, Sessions: sessions, Replay: s.replay})
			if err != nil {
				b.Fatal(err)
			}
			signer := embedsso.Signer{Secret: scaleOrg.Secrets[0].Value, TokenID: true}
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				tok, err := signer.Sign(embedsso.Claims{Email: "bench@example.com", OrgID: scaleOrg.ID, Role: "MEMBER"})
				if err != nil {
					b.Fatal(err)
				}
				r := httptest.NewRequest(http.MethodGet, "/api/sso/jwt?jwt="+tok, nil)
				w := httptest.NewRecorder()
				b.StartTimer()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusFound {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}
