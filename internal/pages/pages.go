// Package pages renders the HTML pages the handler itself answers with, and
// the script that tells the parent window about a sign-in. They are
// self-contained (no external CSS, fonts or scripts) so that they render
// inside any frame, and every value goes through html/template's escaping.
package pages

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"
)

var pages = template.Must(template.New("layout").Parse(`{{define "layout"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style>
  :root { color-scheme: light dark; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center;
         font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #f4f5f7; color: #1f2430; }
  .card { max-width: 30rem; margin: 1.5rem; padding: 2rem 2.25rem; background: #fff; border-radius: 12px;
          box-shadow: 0 1px 3px rgba(16,24,40,.1), 0 8px 24px rgba(16,24,40,.06); }
  .badge { display: inline-block; padding: .15rem .6rem; border-radius: 999px; font-size: 12px; font-weight: 600;
           letter-spacing: .02em; background: #fdecec; color: #b42318; }
  .badge.warn { background: #fef0c7; color: #93370d; }
  h1 { font-size: 1.25rem; margin: .75rem 0 .5rem; }
  p { margin: 0 0 1rem; color: #475467; }
  code { font: 12px/1 ui-monospace, SFMono-Regular, Menlo, monospace; color: #667085; }
  .actions { display: flex; gap: .75rem; flex-wrap: wrap; align-items: center; }
  button, a.button { font: inherit; font-weight: 600; padding: .55rem 1rem; border-radius: 8px; cursor: pointer;
           border: 1px solid #d0d5dd; background: #fff; color: #1f2430; text-decoration: none; }
  button.primary { background: #2e5bff; border-color: #2e5bff; color: #fff; }
  #status { font-size: 13px; color: #667085; margin-top: 1rem; min-height: 1.2em; }
  @media (prefers-color-scheme: dark) {
    body { background: #111318; color: #e6e8ee; } .card { background: #1b1e26; box-shadow: none; }
    p { color: #a9b0c0; } .badge { background: #3a1d1d; color: #ffb4ab; }
    a.button, button { background: #262a35; color: #e6e8ee; border-color: #3a3f4d; } }
</style>
</head>
<body>
<main class="card" role="alert">
{{template "body" .}}
</main>
</body>
</html>
{{end}}`))

var errorPage = template.Must(template.Must(pages.Clone()).Parse(`{{define "body"}}
  <span class="badge">Error {{.Status}}</span>
  <h1>{{.Title}}</h1>
  <p>{{.Reason}}</p>
  <code>code: {{.Code}}</code>
{{end}}`))

var cookieBlockedPage = template.Must(template.Must(pages.Clone()).Parse(`{{define "body"}}
  <span class="badge warn">Cookies blocked</span>
  <h1>Your browser blocked this app's sign-in cookie</h1>
  <div id="in-tab"{{if .Ticket}} hidden{{end}}>
  <p>You were signed in, but this browser does not let the app keep its cookie, even in a tab of its own, so the next page would not know you. This is a browser privacy setting, not a problem with your account.</p>
  <p>Allow cookies for this site in the browser's settings, then open the app again from the site you came from.</p>
  </div>
{{- if .Ticket}}
  <div id="in-frame">
  <p>You were signed in, but this browser does not let the app keep a cookie while it is shown inside another site, so the next page would not know you. This is a browser privacy setting, not a problem with your account.</p>
  <form id="resume" method="post" action="?">
    <input type="hidden" name="sso_resume" value="{{.Ticket}}">
  </form>
  <div class="actions">
    <button id="allow" class="primary" type="button" hidden>Allow cookies and continue</button>
    <a class="button" id="newtab" href="{{.ResumeURL}}" target="_blank" rel="noopener noreferrer">Open in a new tab</a>
  </div>
  <p id="status" aria-live="polite"></p>
  </div>
{{- end}}
  <code>code: {{.Code}}</code>
{{- if .Ticket}}
<script>
(function () {
  var allow = document.getElementById("allow");
  var status = document.getElementById("status");
  if (window.parent === window) {
    // Not in a frame after all: this is the tab's page, with no way out.
    document.getElementById("in-frame").hidden = true;
    document.getElementById("in-tab").hidden = false;
    return;
  }
  if (!document.requestStorageAccess) {
    status.textContent = "This browser cannot grant access from here: open the app in a new tab instead.";
    return;
  }
  // cookiesKept reports whether a cookie set here now comes back: a grant
  // that changes nothing must not sign in again.
  function cookiesKept() {
    var probe = "embedsso_probe=" + Math.random().toString(36).slice(2);
    document.cookie = probe + "; Path=/; Secure; SameSite=None; Max-Age=60";
    var kept = document.cookie.split("; ").indexOf(probe) >= 0;
    document.cookie = "embedsso_probe=; Path=/; Secure; SameSite=None; Max-Age=0";
    return kept;
  }
  allow.hidden = false;
  allow.addEventListener("click", function () {
    allow.disabled = true;
    status.textContent = "Asking the browser…";
    document.requestStorageAccess().then(function () {
      if (!cookiesKept()) {
        allow.disabled = false;
        status.textContent = "The browser allowed it, but still does not keep the app's cookie here. Open the app in a new tab instead.";
        return;
      }
      // With access, this frame sees what a visit in a new tab left:
      // the resume goes on with that session, or signs in here.
      status.textContent = "Signing in…";
      document.getElementById("resume").submit();
    }, function () {
      allow.disabled = false;
      status.textContent = "The browser did not allow it. Open the app in a new tab instead.";
    });
  });
})();
</script>
{{- end}}
{{end}}`))

var continuePage = template.Must(template.Must(pages.Clone()).Parse(`{{define "body"}}
  <span class="badge warn">Almost there</span>
  <h1>Continue as {{.Email}}</h1>
  <p>You are signing in to <strong>{{.OrgID}}</strong>. Continue only if you opened this from that organization's site.</p>
  <form method="post" action="?" class="actions">
    <input type="hidden" name="sso_resume" value="{{.Ticket}}">
    <button id="continue" class="primary" type="submit">Continue as {{.Email}}</button>
  </form>
{{end}}`))

var sessionEndedPage = template.Must(template.Must(pages.Clone()).Parse(`{{define "body"}}
  <span class="badge warn">Signed out</span>
  <h1>Your session has ended</h1>
  {{if .Stopped}}<p>We tried to sign you in again automatically, but it did not work. Reload the page to try again.</p>
  {{else}}<p>You were signed out after a while without activity, or your access changed. Reload the page to sign in again.</p>{{end}}
  <code>code: {{.Code}}</code>
{{.Script}}
{{end}}`))

var notSignedInPage = template.Must(template.Must(pages.Clone()).Parse(`{{define "body"}}
  <span class="badge warn">Not signed in</span>
  <h1>You are not signed in</h1>
  <p>This app signs you in through your organization's site. Open it from there, where it is shown inside the site's own page.</p>
  <code>code: {{.Code}}</code>
{{end}}`))

// postMessageScript posts Message to the parent window once per target
// origin. With no target and AnyOrigin set (an organization that lets any
// site embed it), it posts to the parent's own origin where the browser
// tells it (location.ancestorOrigins); it never posts to "*".
var postMessageScript = template.Must(template.New("post").Parse(`<script>
(function () {
  if (window.parent === window) { return; }
  var targets = {{.Targets}} || [];
  if (!targets.length && {{.AnyOrigin}} && location.ancestorOrigins && location.ancestorOrigins.length) {
    targets = [location.ancestorOrigins[0]];
  }
  var message = {{.Message}};
  targets.forEach(function (t) { try { window.parent.postMessage(message, t); } catch (e) {} });
})();
</script>`))

var errorTitles = map[int]string{
	http.StatusBadRequest:          "This sign-in link is not valid",
	http.StatusUnauthorized:        "We could not sign you in",
	http.StatusForbidden:           "Embedding is not allowed here",
	http.StatusNotFound:            "Organization not found",
	http.StatusMethodNotAllowed:    "Method not allowed",
	http.StatusInternalServerError: "Something went wrong",
}

// Error writes the handler's default error page: a small page with the
// status, a title, the reason and the code, every value escaped. The caller
// never passes an error's cause, which may hold internal details.
func Error(w http.ResponseWriter, status int, reason, code string) {
	title, ok := errorTitles[status]
	if !ok {
		title = http.StatusText(status)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = errorPage.ExecuteTemplate(w, "layout", struct {
		Status, Title, Reason, Code string
	}{strconv.Itoa(status), title, reason, code})
}

// CookieBlocked renders the page shown when the session cookie did not come
// back, with status (the user is not signed in here) and code. In a frame (a
// ticket given) its button posts the resume ticket once the browser granted
// storage access and a cookie set in the frame comes back; its link opens
// the "Continue as" page in a new tab. In a tab (no ticket) it offers
// neither: it says which setting to change.
func CookieBlocked(w http.ResponseWriter, status int, code, resumeURL, ticket string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = cookieBlockedPage.ExecuteTemplate(w, "layout", struct{ Title, ResumeURL, Ticket, Code string }{
		"Cookies are blocked", resumeURL, ticket, code})
}

// Continue renders the "Continue as" page of a resume link. It answers 200
// and signs no one in: only its button's POST does.
func Continue(w http.ResponseWriter, email, orgID, ticket string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_ = continuePage.ExecuteTemplate(w, "layout", struct{ Title, Email, OrgID, Ticket string }{
		"Continue signing in", email, orgID, ticket})
}

// SessionEnded renders the page a framed request without a valid session
// gets when it is not sent through a LoginURL: 401 with code, and, when
// orgID is set, a message to the parent window for each of targets.
func SessionEnded(w http.ResponseWriter, code, orgID string, targets []string, returnTo string, anyOrigin, stopped bool) {
	var script template.HTML
	if orgID != "" {
		script = PostMessage(targets, anyOrigin, map[string]string{"type": "embedsso:session-expired", "orgId": orgID, "returnTo": returnTo})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	_ = sessionEndedPage.ExecuteTemplate(w, "layout", struct {
		Title, Code string
		Stopped     bool
		Script      template.HTML
	}{"Your session has ended", code, stopped, script})
}

// PostMessage returns a script that posts message to the parent window once
// for each of targets (or to any origin with anyOrigin), escaped by
// html/template, to render as is.
func PostMessage(targets []string, anyOrigin bool, message map[string]string) template.HTML {
	var b strings.Builder
	_ = postMessageScript.Execute(&b, struct {
		Targets   []string
		AnyOrigin bool
		Message   map[string]string
	}{targets, anyOrigin, message})
	return template.HTML(b.String()) // html/template escaped it above
}

// NotSignedIn renders the page a request without a session gets when this
// browser never signed in here: 401 with code, no message to any window,
// since no organization is known.
func NotSignedIn(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	_ = notSignedInPage.ExecuteTemplate(w, "layout", struct{ Title, Code string }{
		"You are not signed in", code})
}
