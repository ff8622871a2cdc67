package embedsso

import (
	"errors"
	"net/http"
)

// Error is the one error type the handler refuses a login with. It carries the
// HTTP status the request is answered with, a stable machine-readable Code and a
// Reason that is safe to show to the person in the frame. The underlying cause,
// which may hold details for the operator, is reachable through [errors.Unwrap]
// and is never written into a response.
//
// Compare errors with [errors.Is] against the sentinels below
// (errors.Is(err, ErrTokenExpired)) or extract the value with [errors.As].
type Error struct {
	// Status is the HTTP status code the handler answers with.
	Status int
	// Code is a short, stable identifier such as "token_expired".
	Code string
	// Reason is a human sentence that is safe to show to an end user.
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

// Is reports whether target is an *Error with the same Code, so a returned
// error that wraps a cause still matches its sentinel.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// because returns a copy of the sentinel e carrying cause.
func (e *Error) because(cause error) *Error {
	c := *e
	c.Err = cause
	return &c
}

// becauseText is because with a plain-text cause.
func (e *Error) becauseText(cause string) *Error { return e.because(errors.New(cause)) }

func sentinel(status int, code, reason string) *Error {
	return &Error{Status: status, Code: code, Reason: reason}
}

// Sentinel errors, one per way a login can be refused. The handler returns
// copies of these that carry a cause; match them with [errors.Is].
var (
	// ErrTokenMissing: the jwt query parameter is absent, empty or repeated.
	ErrTokenMissing = sentinel(http.StatusBadRequest, "token_missing",
		"The sign-in link is missing its token.")
	// ErrTokenTooLarge: the jwt parameter is longer than Config.MaxTokenBytes.
	ErrTokenTooLarge = sentinel(http.StatusBadRequest, "token_too_large",
		"The sign-in token is too large.")
	// ErrTokenMalformed: not a compact JWS (segments, base64url, JSON), or a JWE.
	ErrTokenMalformed = sentinel(http.StatusBadRequest, "token_malformed",
		"The sign-in token is not a well-formed JWT.")
	// ErrOrgIDInvalid: the orgId claim is missing or not a non-empty string.
	ErrOrgIDInvalid = sentinel(http.StatusBadRequest, "org_id_invalid",
		"The sign-in token does not name an organization.")
	// ErrReturnToInvalid: the return_to parameter is not a same-site relative path.
	ErrReturnToInvalid = sentinel(http.StatusBadRequest, "return_to_invalid",
		"The sign-in link asks to go to a page outside this app.")
	// ErrClaimsInvalid: after the signature verified, a claim has the wrong
	// type or an invalid value (email, names, jti).
	ErrClaimsInvalid = sentinel(http.StatusBadRequest, "claims_invalid",
		"The sign-in token carries invalid user details.")
	// ErrRoleNotAllowed: the role claim is not one of the organization's roles.
	ErrRoleNotAllowed = sentinel(http.StatusBadRequest, "role_not_allowed",
		"The sign-in token asks for a role this organization does not have.")

	// ErrAlgorithmNotAllowed: the header's alg is anything but HS256, or the
	// header carries a crit extension we do not implement.
	ErrAlgorithmNotAllowed = sentinel(http.StatusUnauthorized, "algorithm_not_allowed",
		"The sign-in token is not signed the way this app requires (HS256).")
	// ErrSignatureInvalid: the signature does not verify under any of the
	// organization's secrets (or under the one its kid names).
	ErrSignatureInvalid = sentinel(http.StatusUnauthorized, "signature_invalid",
		"The sign-in token's signature is not valid for this organization.")
	// ErrTokenExpired: exp is missing or in the past beyond the leeway.
	ErrTokenExpired = sentinel(http.StatusUnauthorized, "token_expired",
		"The sign-in token has expired. Reload the page to get a new one.")
	// ErrTokenNotYetValid: nbf or iat lies in the future beyond the leeway.
	ErrTokenNotYetValid = sentinel(http.StatusUnauthorized, "token_not_yet_valid",
		"The sign-in token is not valid yet. Check the clock of the server that signs it.")
	// ErrTokenLifetimeTooLong: exp is further from iat (or from now) than
	// Config.MaxTokenLifetime allows.
	ErrTokenLifetimeTooLong = sentinel(http.StatusUnauthorized, "token_lifetime_too_long",
		"The sign-in token is valid for too long. Tokens must expire within minutes.")
	// ErrTokenReplayed: the token's jti was already used.
	ErrTokenReplayed = sentinel(http.StatusUnauthorized, "token_replayed",
		"This sign-in token was already used. Reload the page to get a new one.")
	// ErrTokenIDRequired: Config.RequireTokenID is set and the token has no jti.
	ErrTokenIDRequired = sentinel(http.StatusUnauthorized, "token_id_required",
		"The sign-in token must carry a unique id (jti).")

	// ErrEmbeddingDisabled: the organization has not enabled embedding.
	ErrEmbeddingDisabled = sentinel(http.StatusForbidden, "embedding_disabled",
		"Embedding is not enabled for this organization.")
	// ErrOriginNotAllowed: the embedding page's origin is not on the
	// organization's allow-list.
	ErrOriginNotAllowed = sentinel(http.StatusForbidden, "origin_not_allowed",
		"This site is not allowed to embed this organization.")
	// ErrOriginMissing: the organization has an allow-list but the request
	// carries neither Origin nor Referer, so the embedding site is unknown.
	ErrOriginMissing = sentinel(http.StatusForbidden, "origin_missing",
		"The embedding site could not be identified (no Origin or Referer header).")

	// ErrOrgNotFound: no organization has the token's orgId. OrgStore
	// implementations return it (or an error wrapping it) for unknown ids.
	ErrOrgNotFound = sentinel(http.StatusNotFound, "org_not_found",
		"This organization does not exist.")

	// ErrInternal: a store, the session issuer or the organization's
	// configuration failed. The details go to the log only.
	ErrInternal = sentinel(http.StatusInternalServerError, "internal",
		"Something went wrong on our side. Please try again.")
	// ErrOrgMisconfigured: the organization's stored configuration is unusable,
	// for example a secret shorter than 32 bytes. Answered as a 500.
	ErrOrgMisconfigured = sentinel(http.StatusInternalServerError, "org_misconfigured",
		"This organization's embedding is misconfigured. Please contact its administrator.")
)

// asError returns err as an *Error, treating anything that is not one as an
// internal failure. This is the single place that maps errors to statuses.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return ErrInternal.because(err)
}

// ErrMethodNotAllowed: the endpoint answers GET only; a HEAD must not spend
// a single-use token.
var ErrMethodNotAllowed = sentinel(http.StatusMethodNotAllowed, "method_not_allowed",
	"This address only accepts GET requests.")
