package orgapi_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/memstore"
	"github.com/embedsso/embedsso/orgapi"
)

// The organization API over the memory store: a request without a key is
// refused, and an instance admin key reads an organization. Package
// sqlstore's Example_organizationAPI creates one on SQLite.
func ExampleNew() {
	store := memstore.New()
	api, err := orgapi.New(orgapi.Config{Orgs: store, Keys: store, Sessions: store})
	if err != nil {
		log.Fatal(err)
	}
	err = store.PutOrg(context.Background(), embedsso.Org{ID: "org_acme", EmbeddingEnabled: true,
		Secrets: []embedsso.Secret{{Value: "q3Jv9xPpA1mS7cT0bW2eY5uK8hN4dF6gL1zR0sV3wXa"}}})
	if err != nil {
		log.Fatal(err)
	}
	key, record, err := orgapi.NewKey("back office", orgapi.KeyScope{Admin: true}, time.Now())
	if err != nil {
		log.Fatal(err)
	}
	if err := store.CreateAPIKey(context.Background(), record); err != nil {
		log.Fatal(err)
	}

	for _, auth := range []string{"", "Bearer " + key} {
		r := httptest.NewRequest("GET", "/api/public/organizations/org_acme", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// 401
	// 200
}
