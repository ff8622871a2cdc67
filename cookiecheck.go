package embedsso

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/embedsso/embedsso/internal/pages"
	"github.com/embedsso/embedsso/internal/ticket"
	"net/http"
	"net/url"
	"time"
)

// The cookie check. Browsers that refuse cookies in cross-site frames
// (Safari, or any browser with the app's site blocked) turn full-app
// embedding into a frame that loops or sits blank, the most reported failure
// of this feature elsewhere. So a successful login does not redirect straight
// to the destination: it redirects to ?sso_check=TICKET on this same
// endpoint, and that step looks for the session cookie. If it came back, the
// user goes on; if not, a page says so plainly and offers the ways out:
// document.requestStorageAccess() behind a button, and "open in a new tab".
// Nothing redirects automatically after a failed check, so there is no loop.
// A login that already carries a valid session of the same user skips the
// check: that browser evidently keeps the cookie.
//
// What each link is worth:
//
//   - The check link (ticket purpose check, 2 minutes) passes through a
//     redirect and may reach access logs. It never signs anyone in. It is
//     spent on its first visit: a browser holding the new session goes on
//     to the destination, any other visitor gets the cookie-blocked page
//     with one resume link. A check link read from a log after the user's
//     browser followed it is worth nothing.
//   - The resume link (purpose resume, 2 minutes) appears only in the body
//     of that page. Opening it (GET) signs no one in and spends nothing, so
//     a link scanner or a prefetch cannot use it up: it shows "Continue as
//     <email> (<org>)", whose button POSTs the ticket. The POST is refused
//     when it comes from another site (Sec-Fetch-Site, Origin or Referer),
//     so another site cannot sign a visitor in as someone else (login
//     CSRF); it spends the ticket and signs in through the login's own
//     sign-in tail, then checks the cookie again.
//   - The frame's "Allow cookies and continue" button posts the same
//     ticket, once document.requestStorageAccess() was granted and a
//     cookie set in the frame comes back (a grant that changes nothing is
//     said so on the page, and signs no one in). The two ways out work in
//     either order: a resume POST from a browser that already carries a
//     valid session of the ticket's user (the new tab signed in, and the
//     frame now sees that first-party cookie) goes on to the destination
//     with no new session, even when the ticket was spent.
//
// In a tab of its own (Sec-Fetch-Dest: document) the page offers no way
// out: there is no better place for the cookie. It says which setting to
// change.
//
// Tickets are sealed with AES-256-GCM under a key derived from the
// organization's secret (internal/ticket), so any app instance can open them and
// nobody else can read or forge them; the [ReplayStore] makes each one
// single-use.

const (
	checkParam  = "sso_check"
	resumeParam = "sso_resume"
	ticketTTL   = 2 * time.Minute
	// maxResumeForm bounds the resume POST's body: one ticket.
	maxResumeForm = ticket.MaxChars + 64
)

// ticketURL seals a new ticket for purpose, naming the session idHash
// names, and returns the link, relative to this endpoint, that carries it.
func (h *Handler) ticketURL(org *Org, purpose byte, idHash, email, dest string) (string, error) {
	t := ticket.Ticket{Purpose: purpose, Expires: h.now().Add(ticketTTL), Email: email, Dest: dest}
	if len(idHash) != hex.EncodedLen(len(t.SessionHash)) {
		return "", ErrInternal.because(fmt.Errorf("session IDHash of %d characters, not a hex SHA-256", len(idHash)))
	}
	if _, err := hex.Decode(t.SessionHash[:], []byte(idHash)); err != nil {
		return "", ErrInternal.because(fmt.Errorf("session IDHash: %w", err))
	}
	sealed, err := h.sealTicket(org, &t)
	if err != nil {
		return "", ErrInternal.because(fmt.Errorf("seal ticket: %w", err))
	}
	name := checkParam
	if purpose == ticket.PurposeResume {
		name = resumeParam
	}
	return here(name + "=" + sealed), nil
}

// openTicket finds the ticket's organization and opens the ticket with any
// of its secrets still in force, so tickets survive a rotation that happens
// within their life. A secret past its grace period (its ExpiresAt at or
// before now) opens nothing, as it verifies no token, even while a store
// still holds it. It also checks the ticket was sealed for purpose and is
// not expired, and holds its destination to the rule it was sealed under
// (a path on this site, see [destination]): a ticket is only as honest as
// whoever holds the secret, and a redirect to another origin is never
// sent.
func (h *Handler) openTicket(ctx context.Context, raw string, purpose byte) (Org, *orgPolicy, ticket.Ticket, error) {
	orgID, sealed, err := ticket.Split(raw)
	if err != nil {
		return Org{}, nil, ticket.Ticket{}, ErrTicketInvalid.because(err)
	}
	// The org id is not authenticated until the ticket opens: hold it to a
	// token's orgId rules before any store sees it.
	if orgID == "" {
		return Org{}, nil, ticket.Ticket{}, ErrTicketInvalid.becauseText("ticket names no organization")
	}
	if err := checkText("orgId", orgID, maxNameBytes); err != nil {
		return Org{}, nil, ticket.Ticket{}, ErrTicketInvalid.because(err)
	}
	org, policy, err := h.findOrg(ctx, orgID)
	if errors.Is(err, ErrOrgNotFound) {
		return Org{}, nil, ticket.Ticket{}, ErrTicketInvalid.because(err)
	} else if err != nil {
		return Org{}, nil, ticket.Ticket{}, err
	}
	// From here on the organization is known, and as for a token, its
	// sites may frame the refusal, so a stale link shows its page there.
	if err := checkSecrets(&org); err != nil {
		return org, policy, ticket.Ticket{}, err
	}
	now := h.now()
	for _, s := range org.Secrets {
		if s.expired(now) {
			continue
		}
		t, ok, err := h.tickets.Open(s.Value, org.ID, sealed)
		switch {
		case err != nil:
			return org, policy, ticket.Ticket{}, ErrTicketInvalid.because(err)
		case !ok:
			continue
		case t.Purpose != purpose:
			return org, policy, ticket.Ticket{}, ErrTicketInvalid.becauseText("ticket sealed for another step")
		case !now.Before(t.Expires):
			return org, policy, ticket.Ticket{}, ErrTicketInvalid.becauseText("ticket expired")
		case !isLocalPath(t.Dest):
			return org, policy, ticket.Ticket{}, ErrTicketInvalid.becauseText("ticket destination is not a path on this site")
		}
		return org, policy, t, nil
	}
	return org, policy, ticket.Ticket{}, ErrTicketInvalid.becauseText("ticket does not open under any organization secret in force")
}

// sealTicket seals t for org with org's first secret not past its grace
// period ([Handler.openTicket] opens nothing under a secret past it).
func (h *Handler) sealTicket(org *Org, t *ticket.Ticket) (string, error) {
	secret, ok := sealingSecret(org, h.now())
	if !ok {
		return "", errors.New("organization has no secret in force")
	}
	return h.tickets.Seal(org.ID, secret, t)
}

// sealingSecret is the secret tickets of org are sealed with at now: the
// first one not past its grace period.
func sealingSecret(org *Org, now time.Time) (string, bool) {
	for _, s := range org.Secrets {
		if !s.expired(now) {
			return s.Value, true
		}
	}
	return "", false
}

// ticketID is the id under which t is spent in the [ReplayStore]. The
// prefix keeps it apart from the organization's own token ids.
func ticketID(t *ticket.Ticket) string {
	prefix := checkParam + ":"
	if t.Purpose == ticket.PurposeResume {
		prefix = resumeParam + ":"
	}
	return prefix + hex.EncodeToString([]byte(t.ID))
}

// spend uses t up, so each link works once.
func (h *Handler) spend(ctx context.Context, t *ticket.Ticket) error {
	switch err := h.replay.UseTokenID(ctx, t.OrgID, ticketID(t), t.Expires, h.now()); {
	case errors.Is(err, ErrTokenReplayed):
		return ErrTicketInvalid.becauseText("ticket already used")
	case err != nil:
		return ErrInternal.because(fmt.Errorf("replay store: %w", err))
	}
	return nil
}

// check answers ?sso_check: on to the destination if the session cookie came
// back, else the page that explains and offers the ways out, with a new
// resume ticket. The check link itself is spent either way. The cookie is
// recognised by the session's IDHash, which the ticket carries: the
// [SessionIssuer] compares it with the request's, reading no store.
func (h *Handler) check(r *http.Request, raw string) outcome {
	ctx := r.Context()
	org, policy, t, err := h.openTicket(ctx, raw, ticket.PurposeCheck)
	ev := Event{OrgID: org.ID, Email: t.Email}
	if err != nil {
		return refused(ev, policy, err)
	}
	if err := h.spend(ctx, &t); err != nil {
		return refused(ev, policy, err)
	}
	idHash := t.IDHash
	if h.sessions.Carries(r, idHash) {
		ev.Kind = EventCookieConfirmed
		return outcome{ev: ev, policy: policy, location: t.Dest, status: http.StatusFound}
	}
	ev.Kind = EventCookieBlocked
	if inTab(r) {
		// A tab of its own is the best place a browser has for the app's
		// cookie: no way out from here, only the setting to change.
		return outcome{ev: ev, policy: policy, page: func(w http.ResponseWriter) {
			pages.CookieBlocked(w, ErrCookieBlocked.Status(), string(ErrCookieBlocked), "", "")
		}}
	}
	resume, err := h.ticketURL(&org, ticket.PurposeResume, idHash, t.Email, t.Dest)
	if err != nil {
		return refused(ev, policy, err)
	}
	return outcome{ev: ev, policy: policy, page: func(w http.ResponseWriter) {
		pages.CookieBlocked(w, ErrCookieBlocked.Status(), string(ErrCookieBlocked), resume, resume[len(here(resumeParam+"=")):])
	}}
}

// inTab reports whether r loads a top-level document, as its fetch
// metadata says (Sec-Fetch-Dest: document), not one inside a frame. A
// browser that sends no fetch metadata gets the frame's page, whose script
// turns it into the tab's when it finds no parent window.
func inTab(r *http.Request) bool { return r.Header.Get("Sec-Fetch-Dest") == "document" }

// offerResume answers GET ?sso_resume: the "Continue as" page. It writes
// nothing and spends nothing, so a link scanner or prefetch that fetches the
// link leaves it working for the person it was shown to.
func (h *Handler) offerResume(r *http.Request, raw string) outcome {
	org, policy, t, err := h.openTicket(r.Context(), raw, ticket.PurposeResume)
	ev := Event{OrgID: org.ID, Email: t.Email}
	if err != nil {
		return refused(ev, policy, err)
	}
	ev.Kind = EventResumeOffered
	return outcome{ev: ev, policy: policy, page: func(w http.ResponseWriter) {
		pages.Continue(w, t.Email, org.ID, raw)
	}}
}

// resume answers the "Continue as" button's POST: refuse it from another
// site, find the user of the session the login created (so a user signed
// out since cannot be resumed), and sign that user in again through the
// login's own sign-in tail, spending the ticket, then check the cookie again.
func (h *Handler) resume(w http.ResponseWriter, r *http.Request) outcome {
	if err := h.sameSite(r); err != nil {
		return refused(Event{}, nil, err)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxResumeForm)
	if err := r.ParseForm(); err != nil {
		return refused(Event{}, nil, ErrTicketInvalid.because(fmt.Errorf("resume form: %w", err)))
	}
	raw := r.PostForm[resumeParam]
	if len(raw) != 1 {
		return refused(Event{}, nil, ErrTicketInvalid.becauseText("resume form carries no single ticket"))
	}
	ctx := r.Context()
	org, policy, t, err := h.openTicket(ctx, raw[0], ticket.PurposeResume)
	ev := Event{OrgID: org.ID, Email: t.Email}
	if err != nil {
		return refused(ev, policy, err)
	}
	// Every check of the request passed. A browser that already carries a
	// valid session of the ticket's user (the other way out signed it in:
	// the new tab, whose first-party cookie a frame granted storage access
	// now sees) goes on to the destination, whether or not the ticket was
	// spent: it needs no new session, and gets none.
	if s, ok := h.carriesSessionOf(w, r, &org, t.Email); ok {
		if err := h.spend(ctx, &t); err != nil && !errors.Is(err, ErrTicketInvalid) {
			return refused(ev, policy, err)
		}
		ev.Kind, ev.UserID = EventCookieConfirmed, s.User.ID
		return outcome{ev: ev, policy: policy, location: t.Dest, status: http.StatusSeeOther}
	}
	first, err := h.sessions.FindSession(ctx, t.IDHash)
	switch {
	case errors.Is(err, ErrSessionNotFound):
		return refused(ev, policy, ErrTicketInvalid.becauseText("the sign-in this ticket continues has ended"))
	case err != nil:
		return refused(ev, policy, ErrInternal.because(fmt.Errorf("find session: %w", err)))
	case first.OrgEpoch != org.Epoch:
		// The organization ended every session since (see Org.Epoch).
		return refused(ev, policy, ErrTicketInvalid.becauseText("the sign-in this ticket continues has ended with its organization's sessions"))
	}
	u := first.User
	profile := Profile{OrgID: u.OrgID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Role: u.Role,
		Attributes: u.Attributes, Groups: u.Groups}
	// The ticket's id is spent as the sign-in's token id: in the same
	// atomic write when the store can. The ticket opened under this
	// organization's secret, so the next one can be sealed after the writes.
	user, s, err := h.signIn(ctx, w, r, profile, org.Epoch, ticketID(&t), t.Expires)
	if errors.Is(err, ErrTokenReplayed) {
		err = ErrTicketInvalid.becauseText("ticket already used")
	}
	if err != nil {
		return refused(ev, policy, err)
	}
	next, err := h.ticketURL(&org, ticket.PurposeCheck, s.IDHash, t.Email, t.Dest)
	if err != nil {
		return refused(ev, policy, err)
	}
	ev.Kind, ev.Success, ev.UserID = EventResumed, true, user.ID
	return outcome{ev: ev, policy: policy, location: next, status: http.StatusSeeOther}
}

// carriesSessionOf returns the valid session r carries when it is one of
// the user email of org, from org's current epoch (as the guard requires).
// Reading it may renew it, as any signed-in request does.
func (h *Handler) carriesSessionOf(w http.ResponseWriter, r *http.Request, org *Org, email string) (Session, bool) {
	s, err := h.sessions.Session(w, r)
	if err != nil || s.User.OrgID != org.ID || s.User.Email != email || s.OrgEpoch != org.Epoch {
		return Session{}, false
	}
	return s, true
}

// sameSite refuses a request that another site made. Go's
// [http.CrossOriginProtection] judges Sec-Fetch-Site and Origin; it does not
// read Referer, which an older browser may send alone, so a Referer naming
// another origin is refused here too.
func (h *Handler) sameSite(r *http.Request) error {
	if err := h.sameOrigin.Check(r); err != nil {
		return ErrCrossSite.because(err)
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		if err != nil || u.Host != r.Host {
			return ErrCrossSite.because(fmt.Errorf("referer from another origin: %.128q", ref))
		}
	}
	return nil
}
