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
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/signer"
	"github.com/embedsso/embedsso/sqlstore"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite", pure Go
)

// One Store serves as every embedsso store.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "embedsso-example")
	defer os.RemoveAll(dir)

	// One writer connection that logins take in turn and a read-only pool,
	// in WAL mode, with the tables created if needed.
	store, err := sqlstore.OpenSQLite(ctx, "sqlite", "file:"+filepath.Join(dir, "app.db"), sqlstore.SQLiteOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.PutOrg(ctx, embedsso.Org{ID: "org_abc123", EmbeddingEnabled: true,
		Secrets: []embedsso.Secret{{Value: signer.GenerateSecret()}}}); err != nil {
		log.Fatal(err)
	}

	sessions, err := cookiesession.New(cookiesession.Config{Store: store,
		SignIns: store}) // each sign-in's writes in one transaction
	if err != nil {
		log.Fatal(err)
	}
	sso, err := embedsso.New(embedsso.Config{Orgs: store, Users: store, Sessions: sessions, Replay: store})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/sso/jwt", sso) // GET for the login and the check, POST for the resume

	// Delete expired sessions and token ids now and then.
	n, err := store.PurgeExpired(ctx, time.Now())
	fmt.Println(n, err)
	// Output: 0 <nil>
}

// Every instance behind the load balancer runs the same start-up against one
// PostgreSQL database: its own pool, Migrate (safe when all start at once),
// one Store as every store (the Replay store too, or a token signs in once
// per instance), and a purge loop.
func Example_severalInstances() {
	ctx := context.Background()
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL")) // postgres://user:pass@db:5432/app
	if err != nil {
		log.Fatal(err)
	}
	db.SetMaxOpenConns(20) // × instances, under the server's max_connections
	db.SetMaxIdleConns(20) // keep them: the default of 2 reconnects at every burst
	if err := sqlstore.Migrate(ctx, db); err != nil {
		log.Fatal(err)
	}
	store := sqlstore.New(db)

	sessions, err := cookiesession.New(cookiesession.Config{Store: store,
		SignIns: store}) // each sign-in's writes in one transaction
	if err != nil {
		log.Fatal(err)
	}
	sso, err := embedsso.New(embedsso.Config{Orgs: store, Users: store, Sessions: sessions, Replay: store})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/sso/jwt", sso) // GET for the login and the check, POST for the resume
	mux.Handle("GET /dashboard", sso.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := embedsso.UserFromContext(r.Context())
		fmt.Fprintln(w, "hello", u.Email)
	})))

	// Any instance may purge, and all may: it is one DELETE per table.
	go func() {
		tick := time.NewTicker(10 * time.Minute)
		defer tick.Stop()
		for range tick.C {
			if _, err := store.PurgeExpired(ctx, time.Now()); err != nil {
				log.Print(err)
			}
		}
	}()
	log.Fatal(http.ListenAndServe(":8080", mux))
}
