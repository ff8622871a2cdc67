package embedsso_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
	"github.com/embedsso/embedsso/signer"
)

// Mount the handler in an existing server: in-memory stores here, your own
// database in production (see ExampleOrgStore).
func ExampleNew() {
	secret := os.Getenv("ORG_ABC123_SECRET") // the org's secret, at least 32 bytes
	if secret == "" {
		secret = signer.GenerateSecret() // a demo: a new secret only this run knows
	}
	store := memstore.New() // organizations, users, sessions
	err := store.PutOrg(context.Background(), embedsso.Org{
		ID:               "org_abc123",
		EmbeddingEnabled: true,
		Secrets:          []embedsso.Secret{{Value: secret}},
		AllowedOrigins:   []string{"https://portal.customer.example"},
		AllowedRoles:     []string{"ADMIN", "MEMBER", "VIEWER"},
		DashboardURL:     "/dashboard",
	})
	if err != nil {
		log.Fatal(err) // a short secret, a malformed origin or dashboard URL
	}
	sessions, err := cookiesession.New(cookiesession.Config{Store: store})
	if err != nil {
		log.Fatal(err)
	}
	sso, err := embedsso.New(embedsso.Config{
		Orgs:     store,
		Users:    store,
		Sessions: sessions,
		Logger:   slog.Default(),
	})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/api/sso/jwt", sso) // GET for the login and the check, POST for the resume
	// The app's own pages and API: signed-in users only, framed only by the
	// org's sites.
	mux.Handle("GET /dashboard", sso.RequireUser(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			user, _ := embedsso.UserFromContext(r.Context())
			fmt.Fprintf(w, "Hello, %s", user.FirstName)
		})))
	_ = http.ListenAndServe // http.ListenAndServe("localhost:8080", mux)
	fmt.Println("mounted")
	// Output: mounted
}

// A whole login, as the iframe performs it: the customer's server signs, the
// browser loads the URL, the handler redirects with a session cookie.
func ExampleHandler() {
	secret := "q3Jv9xPpA1mS7cT0bW2eY5uK8hN4dF6gL1zR0sV3wXa" // signer.GenerateSecret()
	store := memstore.New()
	_ = store.PutOrg(context.Background(), embedsso.Org{ID: "org_abc123", EmbeddingEnabled: true,
		Secrets: []embedsso.Secret{{Value: secret}}, AllowedOrigins: []string{"https://portal.customer.example"}})
	sessions, _ := cookiesession.New(cookiesession.Config{Store: store})
	sso, _ := embedsso.New(embedsso.Config{Orgs: store, Users: store, Sessions: sessions, DisableCookieCheck: true})

	token, _ := signer.Signer{Secret: secret}.Sign(signer.Claims{
		Email: "Jane@Example.com", OrgID: "org_abc123", FirstName: "Jane", LastName: "Doe", Role: "MEMBER"})
	r := httptest.NewRequest("GET", "/api/sso/jwt?jwt="+token, nil)
	r.Header.Set("Referer", "https://portal.customer.example/analytics") // what the browser sends for the iframe
	w := httptest.NewRecorder()
	sso.ServeHTTP(w, r)

	fmt.Println(w.Code, w.Header().Get("Location"))
	fmt.Println(strings.Contains(w.Header().Get("Set-Cookie"), "SameSite=None; Partitioned"))
	// Output:
	// 302 /
	// true
}

// Errors are values: match the sentinels with errors.Is, read the status and
// code with errors.As.
func ExampleError() {
	secret := "q3Jv9xPpA1mS7cT0bW2eY5uK8hN4dF6gL1zR0sV3wXa"
	store := memstore.New()
	_ = store.PutOrg(context.Background(), embedsso.Org{ID: "org_abc123", EmbeddingEnabled: true, Secrets: []embedsso.Secret{{Value: secret}}})
	sessions, _ := cookiesession.New(cookiesession.Config{Store: store})
	sso, _ := embedsso.New(embedsso.Config{Orgs: store, Users: store, Sessions: sessions,
		// Your own page for refusals: it gets the typed error.
		ErrorPage: func(w http.ResponseWriter, r *http.Request, e *embedsso.Error) {
			fmt.Println(e.Status, e.Code, errors.Is(e, embedsso.ErrTokenExpired))
			w.WriteHeader(e.Status)
		}})

	token, _ := signer.Signer{Secret: secret, TTL: -time.Minute}.Sign(signer.Claims{Email: "jane@example.com", OrgID: "org_abc123"})
	sso.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/sso/jwt?jwt="+token, nil))
	// Output: 401 token_expired true
}

// sqlOrgs is an OrgStore over your own table. Unknown ids must return
// embedsso.ErrOrgNotFound; any other error is a 500.
type sqlOrgs struct{ db *sql.DB }

func (s sqlOrgs) FindOrg(ctx context.Context, id string) (embedsso.Org, error) {
	var o embedsso.Org
	var secret, origin string
	err := s.db.QueryRowContext(ctx,
		`SELECT id, embedding_enabled, jwt_secret, allowed_origin FROM orgs WHERE id = $1`, id).
		Scan(&o.ID, &o.EmbeddingEnabled, &secret, &origin)
	if errors.Is(err, sql.ErrNoRows) {
		return embedsso.Org{}, embedsso.ErrOrgNotFound
	}
	if err != nil {
		return embedsso.Org{}, fmt.Errorf("find org %q: %w", id, err)
	}
	o.Secrets = []embedsso.Secret{{Value: secret}}
	o.AllowedOrigins = []string{origin}
	return o, nil
}

// Implement the store interfaces for your own database; see the sqlstore
// module for a complete PostgreSQL and SQLite implementation.
func ExampleOrgStore() {
	var _ embedsso.OrgStore = sqlOrgs{}
	fmt.Println("sqlOrgs implements embedsso.OrgStore")
	// Output: sqlOrgs implements embedsso.OrgStore
}
