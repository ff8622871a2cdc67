package main

import (
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/embedsso/embedsso"
)

// newCustomerSite is the embedding customer's portal: its server mints the
// token (the secret never reaches the browser) and its page frames the app.
//
// Query parameters override the demo user: email, firstName, lastName, role,
// and ttl (a Go duration; a negative one mints an already expired token).
func newCustomerSite(org embedsso.Org, appURL string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		c := embedsso.Claims{
			OrgID:     org.ID,
			Email:     orDefault(q.Get("email"), "jane@example.com"),
			FirstName: orDefault(q.Get("firstName"), "Jane"),
			LastName:  orDefault(q.Get("lastName"), "Doe"),
			Role:      orDefault(q.Get("role"), "MEMBER"),
		}
		signer := embedsso.Signer{Secret: org.Secrets[0].Value, TokenID: true}
		if s := q.Get("ttl"); s != "" {
			ttl, err := time.ParseDuration(s)
			if err != nil {
				http.Error(w, "bad ttl: "+err.Error(), http.StatusBadRequest)
				return
			}
			if ttl < 0 { // an expired token: issued a little before it expired
				now := time.Now().Add(ttl)
				signer.Now = func() time.Time { return now.Add(-time.Minute) }
				signer.TTL = time.Minute
			} else {
				signer.TTL = ttl
			}
		}
		token, err := signer.Sign(c)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = customerPage.Execute(w, struct {
			User      embedsso.Claims
			IframeSrc string
		}{c, appURL + "/api/sso/jwt?jwt=" + url.QueryEscape(token)})
	})
	return mux
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

var customerPage = template.Must(template.New("customer").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme Analytics portal</title>
<style>
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #0f172a; color: #e2e8f0; }
  header { display: flex; align-items: center; padding: .8rem 1.5rem; background: #111c36; border-bottom: 1px solid #1e2b4a; }
  .brand { font-weight: 700; letter-spacing: .02em; }
  .brand span { color: #f59e0b; }
  .user { margin-left: auto; font-size: 13px; color: #94a3b8; }
  main { padding: 1.25rem 1.5rem; }
  h1 { font-size: 1.1rem; margin: 0 0 .75rem; }
  iframe { width: 100%; height: 600px; border: 1px solid #1e2b4a; border-radius: 10px; background: #fff; }
</style>
</head>
<body>
<header><span class="brand"><span>▲</span> Acme Analytics portal</span><span class="user">{{.User.FirstName}} {{.User.LastName}} · {{.User.Email}}</span></header>
<main>
  <h1>Your analytics</h1>
  <iframe id="app" title="Analytics, powered by Chartly" src="{{.IframeSrc}}"></iframe>
</main>
</body>
</html>
`))
