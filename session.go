package embedsso

import (
	"context"
	"net/http"
	"time"
)

// SessionIssuer keeps the sessions of signed-in users: it issues one at
// each sign-in and finds it again on later requests. Package cookiesession
// has the default. Every feature of the handler (the cookie check, the
// resume, the LoginURL round trip, [Handler.RequireUser]) goes through these
// methods alone, so any implementation gets them all. A session is named by
// its IDHash: the lowercase hex SHA-256 of the secret the browser holds (its
// cookie). The cookie check's and the resume's links carry it, sealed: a
// link that reaches a log never holds a credential.
type SessionIssuer interface {
	// IssueSession creates a session for u under the organization epoch
	// orgEpoch (see [Org.Epoch]), keeps it with both, attaches it to the
	// response (typically a cookie) and returns it, its IDHash (64 lowercase
	// hex characters, sealed into the cookie check's link; any other value
	// is answered with a 500, as is an error) and OrgEpoch set. It MUST NOT
	// write the response status or body: the handler does.
	IssueSession(ctx context.Context, w http.ResponseWriter, r *http.Request, u User, orgEpoch int64) (Session, error)
	// Session returns the valid session r carries, with its User as the
	// [UserStore] holds that user now and the OrgEpoch it was issued with;
	// [Handler.RequireUser] calls it once per request. When r carries none (no cookie, a forged one, or one of a
	// revoked or ended session) it MUST return an error matching
	// [ErrSessionNotFound]; other errors are answered with a 500. It may
	// renew the session, on the response too, before the guard judges the
	// session's organization. An issuer that reads the organization in the
	// same read sets [Session.Org], and the guard reads no [OrgStore].
	Session(w http.ResponseWriter, r *http.Request) (Session, error)
	// Carries reports whether r carries the session named idHash, and MUST
	// NOT read a store: the cookie check asks it right after a sign-in.
	Carries(r *http.Request, idHash string) bool
	// FindSession returns the valid session named idHash, as Session would,
	// without renewing it: the resume asks it, so that a user signed out
	// since the sign-in is not signed in again. For a session that does not
	// exist, was revoked or has ended it MUST return an error matching
	// [ErrSessionNotFound]; other errors mean failure.
	FindSession(ctx context.Context, idHash string) (Session, error)
}

// OneStepIssuer is a [SessionIssuer] that can make a sign-in's writes in one
// atomic step. When OneStep is true, the handler signs in through SignIn
// alone and [New] refuses a Config without Replay (it spends the cookie
// check's tickets): package cookiesession's issuer with Config.SignIns set.
type OneStepIssuer interface {
	SessionIssuer
	// OneStep reports whether SignIn is to be used; New asks it once.
	OneStep() bool
	// SignIn does atomically what [ReplayStore.UseTokenID] (unless tokenID
	// is ""), [UserStore.UpsertUser] and IssueSession(orgEpoch) would, and
	// returns the session with its User. A token id already used MUST give an error
	// matching [ErrTokenReplayed]; after any error nothing was written. It
	// MUST NOT write the response status or body.
	SignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, p Profile, orgEpoch int64, tokenID string, tokenUntil, now time.Time) (Session, error)
}
