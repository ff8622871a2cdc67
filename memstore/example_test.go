package memstore_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
)

// One memory store is every store the handler needs.
func ExampleNew() {
	store := memstore.New()
	err := store.PutOrg(context.Background(), embedsso.Org{
		ID:               "org_abc123",
		EmbeddingEnabled: true,
		Secrets:          []embedsso.Secret{{Value: "q3Jv9xPpA1mS7cT0bW2eY5uK8hN4dF6gL1zR0sV3wXa"}},
		AllowedOrigins:   []string{"https://portal.customer.example"},
	})
	if err != nil {
		log.Fatal(err) // an organization Org.Validate refuses
	}
	sessions, err := cookiesession.New(cookiesession.Config{Store: store})
	if err != nil {
		log.Fatal(err)
	}
	sso, err := embedsso.New(embedsso.Config{Orgs: store, Users: store, Sessions: sessions, Replay: store})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/sso/jwt", sso)
	fmt.Println(store.SessionCount(), "sessions")
	// Output: 0 sessions
}
