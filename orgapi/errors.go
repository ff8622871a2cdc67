package orgapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/embedsso/embedsso/internal/textcheck"
)

// Kind is an error the organization API's stores return, matched with
// [errors.Is]: a store returns the constant itself or an error wrapping it.
// The kinds are constants, so no importer can change what they mean.
type Kind string

// Error implements the error interface.
func (k Kind) Error() string { return "embedsso: " + string(k) }

// The kinds the stores return, beside the login's own that they share
// ([embedsso.ErrOrgNotFound], [embedsso.ErrOrgInvalid]).
const (
	// ErrOrgExists is returned by [OrgAdmin.CreateOrg] when the id is taken.
	// The API answers 409 org_exists.
	ErrOrgExists Kind = "org_exists"
	// ErrAPIKeyNotFound is returned for an unknown or revoked API key id.
	// The API answers 401 unauthorized.
	ErrAPIKeyNotFound Kind = "api_key_not_found"
	// ErrAPIKeyExists is returned by [APIKeyStore.CreateAPIKey] when the
	// id is taken.
	ErrAPIKeyExists Kind = "api_key_exists"
)

// apiError is an answer other than success: its status, a stable code and a
// message meant for the API's caller. It never carries a secret, a key or a
// store's error text; causes go to the log only.
type apiError struct {
	status  int
	code    string
	message string
	cause   error // for the log, never the response
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return "orgapi: " + e.code + ": " + e.cause.Error()
	}
	return "orgapi: " + e.code + ": " + e.message
}

func (e *apiError) Unwrap() error { return e.cause }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// The error codes, one per kind of refusal.
const (
	codeInvalidJSON      = "invalid_json"
	codeUnknownField     = "unknown_field"
	codeInvalidField     = "invalid_field"
	codeInvalidParameter = "invalid_parameter"
	codeBodyTooLarge     = "body_too_large"
	codeUnauthorized     = "unauthorized"
	codeForbidden        = "forbidden"
	codeCrossOrigin      = "cross_origin_request"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeOrgExists        = "org_exists"
	codeUnsupportedMedia = "unsupported_media_type"
	codeInternal         = "internal"
)

var (
	errUnauthorized = newError(http.StatusUnauthorized, codeUnauthorized,
		"A valid API key is required in the header Authorization: Bearer esk_…")
	// errOrgNotFound is also the answer for an organization the key may not
	// manage, so that a key does not learn which ids exist.
	errOrgNotFound = newError(http.StatusNotFound, codeNotFound, "No organization with this id.")
	errNoRoute     = newError(http.StatusNotFound, codeNotFound, "No such endpoint.")
	// errBadPathID answers a path whose organization id no organization can
	// have: 400, as for a bad email in the path, since the request is
	// malformed (a client's encoding bug), whatever the store holds.
	errBadPathID = newError(http.StatusBadRequest, codeInvalidParameter,
		"The organization id in the path must be at most %d bytes of UTF-8 text without control characters.", textcheck.MaxNameBytes)
	errCrossOrigin = newError(http.StatusForbidden, codeCrossOrigin,
		"This API is for servers: cross-site browser requests are refused.")
	errCreateForbidden = newError(http.StatusForbidden, codeForbidden,
		"Only an instance admin key can create organizations.")
	errOrgExists = newError(http.StatusConflict, codeOrgExists, "An organization with this id exists.")
	errNotJSON   = newError(http.StatusUnsupportedMediaType, codeUnsupportedMedia,
		"The body must be application/json.")
	errTooLarge = newError(http.StatusBadRequest, codeBodyTooLarge,
		"The body is larger than %d bytes.", maxBodyBytes)
	errInternal = newError(http.StatusInternalServerError, codeInternal,
		"Something went wrong on our side. Please try again.")
)

// internal wraps a store failure: the caller sees errInternal, the log the cause.
func internal(cause error) *apiError {
	e := *errInternal
	e.cause = cause
	return &e
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeJSON writes v with status. Every answer of the API goes through it.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="embedsso"`)
	}
	var b errorBody
	b.Error.Code, b.Error.Message = e.code, e.message
	writeJSON(w, e.status, b)
}
