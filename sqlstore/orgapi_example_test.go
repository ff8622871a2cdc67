package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/embedsso/embedsso/orgapi"
	"github.com/embedsso/embedsso/sqlstore"
)

// The organization API over a Store, mounted as docs/orgapi.md's "Onboarding an
// organization" shows, with an admin key made for it.
func Example_organizationAPI() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "embedsso-example")
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db")+
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := sqlstore.Migrate(ctx, db); err != nil {
		log.Fatal(err)
	}
	store := sqlstore.New(db)
	mux := http.NewServeMux()

	api, err := orgapi.New(orgapi.Config{Orgs: store, Keys: store, Sessions: store})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("/api/public/", api)

	// An instance admin key: shown once, stored as its hash.
	key, record, err := orgapi.NewKey("back office", orgapi.KeyScope{Admin: true}, time.Now())
	if err != nil {
		log.Fatal(err)
	}
	if err := store.CreateAPIKey(ctx, record); err != nil {
		log.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/api/public/organizations",
		strings.NewReader(`{"id":"org_acme","name":"Acme","fullEmbedEnabled":true,"embedAllowedOrigins":["https://portal.acme.example"]}`))
	r.Header.Set("Authorization", "Bearer "+key)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	org, err := store.FindOrg(ctx, "org_acme")
	fmt.Println(w.Code, org.EmbeddingEnabled, org.AllowedOrigins, len(org.Secrets[0].Value), err)
	// Output: 201 true [https://portal.acme.example] 43 <nil>
}
