package cookiesession_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
)

// The default issuer over the memory store, passed to the handler as its
// Sessions; the app's sign-out revokes the session and clears the cookie.
func ExampleNew() {
	store := memstore.New()
	sessions, err := cookiesession.New(cookiesession.Config{
		Store:       store,
		IdleTimeout: 15 * time.Minute, // omit: DefaultIdleTimeout
	})
	if err != nil {
		log.Fatal(err)
	}
	sso, err := embedsso.New(embedsso.Config{Orgs: store, Users: store, Sessions: sessions, Replay: store})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/sso/jwt", sso)
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.SignOut(w, r); err != nil {
			log.Print(err)
		}
	})

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("POST", "/logout", nil))
	cookie, _, _ := strings.Cut(w.Header().Get("Set-Cookie"), ";")
	fmt.Println(sessions.CookieName(), "cleared:", cookie)
	// Output: embedsso_session cleared: embedsso_session=
}
