package main

import (
	"encoding/json"
	"html/template"
	"io"
	"log/slog"
	"net/http"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/hostscript"
	"github.com/embedsso/embedsso/orgapi"
)

// newApp is the SaaS product: the SSO endpoint and the pages it leads to.
// cookies configures its sessions (the store, and the -session-* flags);
// the sign-in store of s, when it has one, makes each sign-in one write.
func newApp(s stores, logger *slog.Logger, cookies cookiesession.Config) (http.Handler, error) {
	cookies.SignIns = s.signIns
	sessions, err := cookiesession.New(cookies)
	if err != nil {
		return nil, err
	}
	sso, err := embedsso.New(embedsso.Config{
		Orgs: s.orgs, Users: s.users, Sessions: sessions, Replay: s.replay, Logger: logger,
		NotPartitioned: cookies.NotPartitioned, // the hint cookie lives where the session cookie does
	})
	if err != nil {
		return nil, err
	}

	// The app's own pages and API sit behind the one guard: only a signed-in
	// user gets them (an ended session goes back through the organization's
	// LoginURL, or gets a page that tells the customer's page; an API call
	// gets 401 JSON), framing limited to the user's organization's sites,
	// not cached, no Referer leaving them. It reads the session once and
	// the organization once per request.
	mux := http.NewServeMux()
	mux.Handle("/api/sso/jwt", sso) // GET for the login and the check, POST for the resume
	mux.Handle("GET /dashboard", sso.RequireUser(showPage("Dashboard")))
	mux.Handle("GET /reports", sso.RequireUser(showPage("Reports")))
	mux.Handle("GET /api/me", sso.RequireUser(http.HandlerFunc(me)))
	// The script the customer's page frames the app with (hostscript).
	mux.Handle("GET "+hostscript.Path, hostscript.Handler())
	// The session cookie is SameSite=None (it must reach the app inside
	// another site's frame), so the browser sends it with a form that any
	// site posts here: only the app's own pages may sign the user out.
	mux.Handle("POST /logout", sameOrigin(logger, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.SignOut(w, r); err != nil {
			logger.Error("sign out", "err", err)
		}
		// Not to a page behind RequireUser: with a LoginURL it would sign
		// the user straight back in (SignOut ends the session, and the
		// organization hint stays).
		http.Redirect(w, r, "/signed-out", http.StatusSeeOther)
	})))
	mux.Handle("GET /signed-out", http.HandlerFunc(signedOut))
	mux.Handle("GET /{$}", http.RedirectHandler("/dashboard", http.StatusFound))
	// The organization API, for the onboarding in docs/orgapi.md (curl with the
	// banner's admin key, or any key from embedsso apikey create).
	api, err := orgapi.New(orgapi.Config{Orgs: s.admin, Keys: s.keys, Sessions: s.revoker, Logger: logger})
	if err != nil {
		return nil, err
	}
	mux.Handle("/api/public/", api)
	return mux, nil
}

// sameOrigin refuses, with 403, a request that a browser says comes from
// another origin: Sec-Fetch-Site other than same-origin or none, or else an
// Origin whose host is not the request's. Requests carrying neither header
// (not from a browser, or from one too old to send them) pass: they cannot
// carry the user's cookie against the user's will.
func sameOrigin(logger *slog.Logger, h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.Warn("refused a cross-origin request", "method", r.Method, "path", r.URL.Path,
			"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
		http.Error(w, "Forbidden: this request came from another site.", http.StatusForbidden)
	}))
	return cop.Handler(h)
}

// me answers GET /api/me with the signed-in user (RequireUser answers
// everyone else: 401 JSON to a fetch).
func me(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	u, _ := embedsso.UserFromContext(r.Context())
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": u.ID, "orgId": u.OrgID, "email": u.Email, "firstName": u.FirstName, "lastName": u.LastName, "role": u.Role,
		"attributes": u.Attributes, "groups": u.Groups,
	})
}

// showPage renders one of the app's pages for the signed-in user
// (RequireUser lets no one else through), with the script that tells the
// customer's page the frame is signed in.
func showPage(title string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, _ := embedsso.UserFromContext(r.Context())
		tab := r.URL.Query().Get("tab")
		if tab != "monthly" {
			tab = "weekly"
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = appPage.Execute(w, struct {
			Title, Tab string
			User       embedsso.User
			SignedIn   template.HTML
		}{title, tab, u, embedsso.SignedInScript(r.Context())})
	}
}

// signedOut is where Sign out leads. It knows no user, so any site may
// frame it, as it must for the customer's frame to show it: it holds only
// text and a link to the dashboard, which signs in again (through the
// LoginURL) only where the organization hint is, inside the customer's page.
func signedOut(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Referrer-Policy", "no-referrer")
	_, _ = io.WriteString(w, signedOutPage)
}

const signedOutPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Signed out · Chartly</title>
<style>
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #f6f7fb; color: #1f2430; }
  .signedout { max-width: 28rem; margin: 3rem auto; text-align: center; background: #fff; border: 1px solid #e4e7ec; border-radius: 12px; padding: 2rem; }
</style>
</head>
<body>
<div class="signedout" id="signed-out">
  <h1>You signed out</h1>
  <p><a href="/dashboard" id="sign-in-again">Sign in again</a></p>
</div>
</body>
</html>
`

var appPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Chartly</title>
<style>
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #f6f7fb; color: #1f2430; }
  header { display: flex; align-items: center; gap: 1.5rem; padding: .75rem 1.5rem; background: #fff; border-bottom: 1px solid #e4e7ec; }
  .logo { font-weight: 700; color: #2e5bff; }
  nav a { color: #475467; text-decoration: none; margin-right: 1rem; }
  nav a.active { color: #1f2430; font-weight: 600; }
  .who { margin-left: auto; font-size: 13px; color: #475467; }
  main { padding: 1.5rem; display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); }
  .card { background: #fff; border: 1px solid #e4e7ec; border-radius: 10px; padding: 1rem 1.25rem; }
  .card h2 { font-size: 13px; color: #667085; margin: 0 0 .25rem; font-weight: 600; }
  .big { font-size: 1.6rem; font-weight: 700; }
  button { font: inherit; border: 0; background: none; color: #475467; cursor: pointer; text-decoration: underline; }
</style>
</head>
<body>
<header>
  <span class="logo">Chartly</span>
  <nav>
    <a href="/dashboard" {{if eq .Title "Dashboard"}}class="active"{{end}}>Dashboard</a>
    <a href="/reports" id="reports-link" {{if eq .Title "Reports"}}class="active"{{end}}>Reports</a>
  </nav>
  <span class="who" id="who">Signed in as <strong>{{.User.FirstName}} {{.User.LastName}}</strong> · {{.User.Email}} · {{.User.Role}} · {{.User.OrgID}}</span>
  <form method="post" action="/logout"><button type="submit">Sign out</button></form>
</header>
<main>
{{if eq .Title "Reports"}}
  <section class="card"><h2>Reports</h2><div class="big">7 reports</div>
    <nav id="tabs">Showing <strong id="tab">{{.Tab}}</strong> ·
      <a href="/reports?tab=weekly" id="tab-weekly">weekly</a> <a href="/reports?tab=monthly" id="tab-monthly">monthly</a></nav></section>
{{else}}
  <section class="card"><h2>Dashboard</h2><div class="big">12,480 visits</div></section>
{{end}}
  <section class="card" id="attributes"><h2>From your token</h2>
    <div>Attributes: {{range $k, $v := .User.Attributes}}<code>{{$k}}={{$v}}</code> {{else}}none{{end}}</div>
    <div>Groups: {{range .User.Groups}}<code>{{.}}</code> {{else}}none{{end}}</div></section>
  <section class="card"><h2>Conversion</h2><div class="big">3.2%</div></section>
  <section class="card"><h2>Active users</h2><div class="big">842</div></section>
</main>
{{.SignedIn}}
</body>
</html>
`))
