package embedsso

import (
	"html/template"
	"net/http"
	"strconv"
)

// errorPageTemplate is deliberately self-contained (no external CSS, fonts or
// scripts) so that it renders inside any frame and under a strict CSP.
var errorPageTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style>
  :root { color-scheme: light dark; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center;
         font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
         background: #f4f5f7; color: #1f2430; }
  .card { max-width: 28rem; margin: 1.5rem; padding: 2rem 2.25rem; background: #fff;
          border-radius: 12px; box-shadow: 0 1px 3px rgba(16,24,40,.1), 0 8px 24px rgba(16,24,40,.06); }
  .badge { display: inline-block; padding: .15rem .6rem; border-radius: 999px; font-size: 12px;
           font-weight: 600; letter-spacing: .02em; background: #fdecec; color: #b42318; }
  h1 { font-size: 1.25rem; margin: .75rem 0 .5rem; }
  p { margin: 0 0 1rem; color: #475467; }
  code { font: 12px/1 ui-monospace, SFMono-Regular, Menlo, monospace; color: #667085; }
  @media (prefers-color-scheme: dark) {
    body { background: #111318; color: #e6e8ee; } .card { background: #1b1e26; box-shadow: none; }
    p { color: #a9b0c0; } .badge { background: #3a1d1d; color: #ffb4ab; } }
</style>
</head>
<body>
<main class="card" role="alert">
  <span class="badge">Error {{.Status}}</span>
  <h1>{{.Title}}</h1>
  <p>{{.Reason}}</p>
  <code>code: {{.Code}}</code>
</main>
</body>
</html>
`))

var errorTitles = map[int]string{
	http.StatusBadRequest:          "This sign-in link is not valid",
	http.StatusUnauthorized:        "We could not sign you in",
	http.StatusForbidden:           "Embedding is not allowed here",
	http.StatusNotFound:            "Organization not found",
	http.StatusMethodNotAllowed:    "Method not allowed",
	http.StatusInternalServerError: "Something went wrong",
}

// WriteErrorPage is the default [Config.ErrorPage]: a small, self-contained
// HTML page with the status, a title, e.Reason and e.Code, every value
// escaped. It never shows e.Err, which may hold internal details.
func WriteErrorPage(w http.ResponseWriter, _ *http.Request, e *Error) {
	title, ok := errorTitles[e.Status]
	if !ok {
		title = http.StatusText(e.Status)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(e.Status)
	_ = errorPageTemplate.Execute(w, struct {
		Status        string
		Title, Reason string
		Code          string
	}{strconv.Itoa(e.Status), title, e.Reason, e.Code})
}
