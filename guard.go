package embedsso

import (
	"context"
	"errors"
	"fmt"
	"github.com/embedsso/embedsso/internal/pages"
	"html/template"
	"net/http"
	"strings"
)

// RequireUser guards the app's pages and API routes inside the frame. Per
// request it reads the session once ([Config.Sessions]) and its organization
// at most once (not with [Session.Org] set). next runs only for a valid
// session of an organization that exists, has embedding enabled and has not
// ended its sessions since this one began (the session's OrgEpoch is its
// [Org.Epoch]), with its frame-ancestors CSP set and the session, user and
// organization in the
// context ([SessionFromContext], [UserFromContext], [OrgFromContext],
// [SignedInScript]). Every answer, next's too, carries Cache-Control:
// no-store and Referrer-Policy: no-referrer (the pages are one user's, their
// URLs stay in the app). Without such a session, an API request (Accept:
// application/json, or Sec-Fetch-Dest: empty) gets 401 JSON, a page a
// LoginURL round trip or a session-ended page; those, and a store failure
// (500), go through the endpoint's spine: its headers, one log line, one
// [Event].
func (h *Handler) RequireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := h.sessions.Session(w, r)
		// Set after the issuer's read, which may have renewed its cookie
		// (and with it, say, added a Cache-Control of its own); the answers
		// through finish set them again.
		// One allocation holds the three values (headers.go).
		fixed := newFixedHeaders(w.Header())
		fixed.set("Cache-Control", "no-store")
		fixed.set("Referrer-Policy", "no-referrer")
		switch {
		case errors.Is(err, ErrSessionNotFound):
			h.finish(w, r, h.sessionEnded(w, r, wantsJSON(r), ""))
			return
		case err != nil:
			h.finish(w, r, refused(Event{}, nil, ErrInternal.because(fmt.Errorf("find session: %w", err))))
			return
		}
		// The organization is judged on every request, as its store holds
		// it now: disabling its embedding ends its sessions at their next
		// request, and the page gets its CSP.
		org, policy, err := h.sessionOrg(r.Context(), &s)
		if err != nil {
			if e := asError(err); e.Status >= 500 {
				h.finish(w, r, refused(Event{OrgID: s.User.OrgID, Email: s.User.Email}, nil, e))
				return
			}
			// Gone, or no longer allowed to embed: its sessions ended.
			h.finish(w, r, h.sessionEnded(w, r, wantsJSON(r), s.User.OrgID))
			return
		}
		if s.OrgEpoch != org.Epoch {
			// The organization ended every session since this one began
			// (Org.Epoch): ended like any other, through its LoginURL.
			h.finish(w, r, h.sessionEnded(w, r, wantsJSON(r), ""))
			return
		}
		fixed.set("Content-Security-Policy", policy.csp)
		// The session's Org points into the same allocation.
		in := &signedIn{session: s, org: org, policy: policy}
		in.session.Org = &in.org
		ctx := context.WithValue(r.Context(), signedInKey{}, in)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// sessionOrg is the organization of s's user and its policy: the one the
// session came with, or else the one the OrgStore holds.
func (h *Handler) sessionOrg(ctx context.Context, s *Session) (Org, *orgPolicy, error) {
	if s.Org == nil {
		return h.findOrg(ctx, s.User.OrgID)
	}
	if s.Org.ID != s.User.OrgID {
		return Org{}, nil, ErrInternal.because(fmt.Errorf("the session store returned organization %.128q with a user of %.128q", s.Org.ID, s.User.OrgID))
	}
	return h.judgeOrg(*s.Org)
}

// wantsJSON tells an API call from a page navigation.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json") || r.Header.Get("Sec-Fetch-Dest") == "empty"
}

// signedIn is what [Handler.RequireUser] puts in a request's context.
type signedIn struct {
	session Session // its Org is &org
	org     Org
	policy  *orgPolicy
}

type signedInKey struct{}

func signedInOf(ctx context.Context) (*signedIn, bool) {
	s, ok := ctx.Value(signedInKey{}).(*signedIn)
	return s, ok
}

// UserFromContext returns the signed-in user that [Handler.RequireUser]
// put in the request's context.
func UserFromContext(ctx context.Context) (User, bool) {
	s, ok := signedInOf(ctx)
	if !ok {
		return User{}, false
	}
	return s.session.User, true
}

// SessionFromContext returns the session that [Handler.RequireUser] put in
// the request's context, its Org set.
func SessionFromContext(ctx context.Context) (Session, bool) {
	s, ok := signedInOf(ctx)
	if !ok {
		return Session{}, false
	}
	return s.session, true
}

// OrgFromContext returns the signed-in user's organization that
// [Handler.RequireUser] put in the request's context.
func OrgFromContext(ctx context.Context) (Org, bool) {
	s, ok := signedInOf(ctx)
	if !ok {
		return Org{}, false
	}
	return *s.session.Org, true
}

// SignedInScript returns a script for the app's pages that posts
// {type: "embedsso:signed-in", orgId} to the parent window once per exact
// allowed origin of the user's organization (never "*"), so the host page
// knows the frame is signed in. It reads what [Handler.RequireUser] put in
// ctx (no store): empty without a signed-in user. Render it in an
// html/template as is.
func SignedInScript(ctx context.Context) template.HTML {
	s, ok := signedInOf(ctx)
	if !ok {
		return ""
	}
	return pages.PostMessage(exactOrigins(s.policy), len(s.policy.allowed) == 0,
		map[string]string{"type": "embedsso:signed-in", "orgId": s.session.User.OrgID})
}
