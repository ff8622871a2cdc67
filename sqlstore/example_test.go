package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/sqlstore"
	_ "modernc.org/sqlite" // or _ "github.com/jackc/pgx/v5/stdlib" with sql.Open("pgx", "postgres://…")
)

// One Store serves as every embedsso store; several app instances share it
// through the database.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "embedsso-example")
	defer os.RemoveAll(dir)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := sqlstore.Migrate(ctx, db); err != nil { // creates the tables once; safe at every start
		log.Fatal(err)
	}
	store := sqlstore.New(db)
	if err := store.PutOrg(ctx, embedsso.Org{ID: "org_abc123", EmbeddingEnabled: true,
		Secrets: []embedsso.Secret{{Value: embedsso.GenerateSecret()}}}); err != nil {
		log.Fatal(err)
	}

	sessions, err := embedsso.NewCookieSessions(embedsso.CookieConfig{Store: store})
	if err != nil {
		log.Fatal(err)
	}
	sso, err := embedsso.New(embedsso.Config{Orgs: store, Users: store, Sessions: sessions, Replay: store})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/sso/jwt", sso)

	// Delete expired sessions and token ids now and then (any instance may).
	n, err := store.PurgeExpired(ctx, time.Now())
	fmt.Println(n, err)
	// Output: 0 <nil>
}
