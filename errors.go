package embedsso

import (
	"errors"
	"github.com/embedsso/embedsso/internal/pages"
	"net/http"
)

// Error is the one error type the handler refuses a request with. Its cause
// (Err), which may hold details for the operator, is never written into a
// response. Each refusal is a fresh value: changing one changes nothing else.
// Match it with errors.Is(err, ErrTokenExpired) (see [Kind]) or [errors.As].
type Error struct {
	// Status is the HTTP status code the handler answers with.
	Status int
	// Code is the error's [Kind] as a string, stable: "token_expired".
	Code string
	// Reason is a human sentence that is safe to show to the user.
	Reason string
	// Err is the underlying cause, for logs only. It may be nil.
	Err error
}

// Error implements the error interface. The text is for logs: it includes the
// cause, which may name internal details, so do not show it to users.
func (e *Error) Error() string {
	if e.Err != nil {
		return "embedsso: " + e.Code + ": " + e.Err.Error()
	}
	return "embedsso: " + e.Code
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the [Kind] of e, or an *Error with the same
// Code, so a returned error that wraps a cause still matches its kind.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case Kind:
		return string(t) == e.Code
	case *Error:
		return t.Code == e.Code
	}
	return false
}

// Kind is one way a request can be refused: a constant, whose status and
// reason no importer can change. A Kind is itself an error, which stores
// return (for example [ErrOrgNotFound]) and callers match with [errors.Is].
type Kind string

// Error implements the error interface.
func (k Kind) Error() string { return "embedsso: " + string(k) }

// Status is the HTTP status a refusal of this kind is answered with; 500 for
// a string that is not one of the constants below.
func (k Kind) Status() int { return k.info().status }

// Reason is the sentence shown to the user for a refusal of this kind.
func (k Kind) Reason() string { return k.info().reason }

// because returns a new *Error of kind k carrying cause.
func (k Kind) because(cause error) *Error {
	i := k.info()
	return &Error{Status: i.status, Code: string(k), Reason: i.reason, Err: cause}
}

// becauseText is because with a plain-text cause.
func (k Kind) becauseText(cause string) *Error { return k.because(errors.New(cause)) }

// err is because without a cause.
func (k Kind) err() *Error { return k.because(nil) }

func (k Kind) info() kindInfo {
	if i, ok := kinds[k]; ok {
		return i
	}
	return kinds[ErrInternal]
}

// The kinds of refusal; [Kind.Status] is each one's HTTP status.
const (
	// ErrTokenMissing: the jwt query parameter is absent, empty or repeated.
	ErrTokenMissing Kind = "token_missing"
	// ErrTokenTooLarge: the jwt parameter is longer than Config.MaxTokenBytes.
	ErrTokenTooLarge Kind = "token_too_large"
	// ErrTokenMalformed: not a compact JWS (segments, base64url, JSON), or a JWE.
	ErrTokenMalformed Kind = "token_malformed"
	// ErrOrgIDInvalid: the orgId claim is missing or not a non-empty string.
	ErrOrgIDInvalid Kind = "org_id_invalid"
	// ErrReturnToInvalid: return_to is not a same-site relative path.
	ErrReturnToInvalid Kind = "return_to_invalid"
	// ErrClaimsInvalid: a verified claim (email, names, jti) is invalid.
	ErrClaimsInvalid Kind = "claims_invalid"
	// ErrRoleNotAllowed: the role claim is not one of the organization's roles.
	ErrRoleNotAllowed Kind = "role_not_allowed"
	// ErrGroupNotAllowed: a group is not one of the Org.AllowedGroups.
	ErrGroupNotAllowed Kind = "group_not_allowed"
	// ErrTicketInvalid: a check or resume link is malformed, forged or spent.
	ErrTicketInvalid Kind = "ticket_invalid"

	// ErrAlgorithmNotAllowed: alg is not HS256, or crit names an extension.
	ErrAlgorithmNotAllowed Kind = "algorithm_not_allowed"
	// ErrSignatureInvalid: no secret of the organization (or of kid) verifies it.
	ErrSignatureInvalid Kind = "signature_invalid"
	// ErrTokenExpired: exp is missing or in the past beyond the leeway.
	ErrTokenExpired Kind = "token_expired"
	// ErrTokenNotYetValid: nbf or iat lies in the future beyond the leeway.
	ErrTokenNotYetValid Kind = "token_not_yet_valid"
	// ErrTokenLifetimeTooLong: exp is beyond Config.MaxTokenLifetime.
	ErrTokenLifetimeTooLong Kind = "token_lifetime_too_long"
	// ErrTokenReplayed: the jti was used before ([ReplayStore] returns it).
	ErrTokenReplayed Kind = "token_replayed"
	// ErrTokenIDRequired: Config.RequireTokenID is set and the token has no jti.
	ErrTokenIDRequired Kind = "token_id_required"
	// ErrCookieBlocked: the session cookie did not come back: ways-out page.
	ErrCookieBlocked Kind = "cookie_blocked"
	// ErrSessionNotFound: no valid session: unknown, revoked or ended.
	ErrSessionNotFound Kind = "session_not_found"

	// ErrEmbeddingDisabled: the organization has not enabled embedding.
	ErrEmbeddingDisabled Kind = "embedding_disabled"
	// ErrOriginNotAllowed: the embedding page's origin is not allowed.
	ErrOriginNotAllowed Kind = "origin_not_allowed"
	// ErrOriginMissing: an allow-list, and neither Origin nor Referer sent.
	ErrOriginMissing Kind = "origin_missing"
	// ErrCrossSite: a resume (which signs in) came from another site: CSRF.
	ErrCrossSite Kind = "cross_site"

	// ErrOrgNotFound: no organization has the id; an [OrgStore] returns it.
	ErrOrgNotFound Kind = "org_not_found"

	// ErrMethodNotAllowed: not GET (POST for a resume); a HEAD would spend a
	// single-use token.
	ErrMethodNotAllowed Kind = "method_not_allowed"

	// ErrOrgInvalid: [Org.Validate] refused the organization (stores too).
	ErrOrgInvalid Kind = "org_invalid"

	// ErrInternal: a store or the session issuer failed; details in the log.
	ErrInternal Kind = "internal"
	// ErrOrgMisconfigured: the stored organization is unusable (a secret under
	// 32 bytes, an allowed origin that does not parse): a 500.
	ErrOrgMisconfigured Kind = "org_misconfigured"
)

type kindInfo struct {
	status int
	reason string
}

// kinds maps each Kind to its status and user-facing sentence. It is the
// single place where refusals get their HTTP status.
var kinds = map[Kind]kindInfo{
	ErrTokenMissing:    {http.StatusBadRequest, "The sign-in link is missing its token."},
	ErrTokenTooLarge:   {http.StatusBadRequest, "The sign-in token is too large."},
	ErrTokenMalformed:  {http.StatusBadRequest, "The sign-in token is not a well-formed JWT."},
	ErrOrgIDInvalid:    {http.StatusBadRequest, "The sign-in token does not name an organization."},
	ErrReturnToInvalid: {http.StatusBadRequest, "The sign-in link asks to go to a page outside this app."},
	ErrClaimsInvalid:   {http.StatusBadRequest, "The sign-in token carries invalid user details."},
	ErrRoleNotAllowed:  {http.StatusBadRequest, "The sign-in token asks for a role this organization does not have."},
	ErrGroupNotAllowed: {http.StatusBadRequest, "The sign-in token asks for a group this organization does not have."},
	ErrTicketInvalid:   {http.StatusBadRequest, "This sign-in step has expired or was already used. Reload the page to sign in again."},

	ErrAlgorithmNotAllowed:  {http.StatusUnauthorized, "The sign-in token is not signed the way this app requires (HS256)."},
	ErrSignatureInvalid:     {http.StatusUnauthorized, "The sign-in token's signature is not valid for this organization."},
	ErrTokenExpired:         {http.StatusUnauthorized, "The sign-in token has expired. Reload the page to get a new one."},
	ErrTokenNotYetValid:     {http.StatusUnauthorized, "The sign-in token is not valid yet. Check the clock of the server that signs it."},
	ErrTokenLifetimeTooLong: {http.StatusUnauthorized, "The sign-in token is valid for too long. Tokens must expire within minutes."},
	ErrTokenReplayed:        {http.StatusUnauthorized, "This sign-in token was already used. Reload the page to get a new one."},
	ErrTokenIDRequired:      {http.StatusUnauthorized, "The sign-in token must carry a unique id (jti)."},
	ErrCookieBlocked:        {http.StatusUnauthorized, "Your browser blocked this app's sign-in cookie."},
	ErrSessionNotFound:      {http.StatusUnauthorized, "You are not signed in."},

	ErrEmbeddingDisabled: {http.StatusForbidden, "Embedding is not enabled for this organization."},
	ErrOriginNotAllowed:  {http.StatusForbidden, "This site is not allowed to embed this organization."},
	ErrOriginMissing:     {http.StatusForbidden, "The embedding site could not be identified (no Origin or Referer header)."},
	ErrCrossSite:         {http.StatusForbidden, "This sign-in step must be continued from this app's own page."},

	ErrOrgNotFound: {http.StatusNotFound, "This organization does not exist."},

	ErrOrgInvalid: {http.StatusBadRequest, "The organization's settings are not valid."},

	ErrMethodNotAllowed: {http.StatusMethodNotAllowed, "This address does not accept this kind of request."},

	ErrInternal:         {http.StatusInternalServerError, "Something went wrong on our side. Please try again."},
	ErrOrgMisconfigured: {http.StatusInternalServerError, "This organization's embedding is misconfigured. Please contact its administrator."},
}

// asError returns err as an *Error: itself, its [Kind] with err as the
// cause, or an internal failure for anything else.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var k Kind
	if errors.As(err, &k) {
		if _, known := kinds[k]; known {
			return k.because(err)
		}
	}
	return ErrInternal.because(err)
}

// writeErrorPage is the default [Config.ErrorPage]: a small, self-contained
// HTML page with the status, a title, e.Reason and e.Code, every value
// escaped. It never shows e.Err, which may hold internal details.
func writeErrorPage(w http.ResponseWriter, _ *http.Request, e *Error) {
	pages.Error(w, e.Status, e.Reason, e.Code)
}
