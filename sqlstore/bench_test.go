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
// recorder, no network), with each kind of storage. The request and its
// recorder are part of the measure, as they are of a real login.
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
				orgs, err := embedsso.NewMemoryOrgStore(scaleOrg)
				if err != nil {
					b.Fatal(err)
				}
				s = stores{orgs, &embedsso.MemoryUserStore{}, &embedsso.MemorySessionStore{}, &embedsso.MemoryReplayStore{}}
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
			// A new token (a new jti) per iteration, so the replay store
			// really writes; minted before the clock starts.
			signer := embedsso.Signer{Secret: scaleOrg.Secrets[0].Value, TokenID: true}
			tokens := make([]string, b.N)
			for i := range tokens {
				if tokens[i], err = signer.Sign(embedsso.Claims{Email: "bench@example.com", OrgID: scaleOrg.ID, Role: "MEMBER"}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for _, tok := range tokens {
				r := httptest.NewRequest(http.MethodGet, "/api/sso/jwt?jwt="+tok, nil)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusFound {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}
