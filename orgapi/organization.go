package orgapi

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/internal/origin"
)

// organization is the API's view of an [OrgRecord].
type organization struct {
	ID                  string       `json:"id"`
	Name                string       `json:"name"`
	FullEmbedEnabled    bool         `json:"fullEmbedEnabled"`
	EmbedAllowedOrigins []string     `json:"embedAllowedOrigins"`
	EmbedAllowedRoles   []string     `json:"embedAllowedRoles"`
	EmbedAllowedGroups  []string     `json:"embedAllowedGroups"`
	EmbedDashboardURL   string       `json:"embedDashboardUrl"`
	EmbedLoginURL       string       `json:"embedLoginUrl"`
	JWTSecrets          []secretInfo `json:"jwtSecrets"`
	// JWTSecret and JWTSecretKeyID are the current secret, present only
	// when asked for (?include=jwtSecret) and after a rotation.
	JWTSecret      *string    `json:"jwtSecret,omitempty"`
	JWTSecretKeyID *string    `json:"jwtSecretKeyId,omitempty"`
	CreatedAt      *time.Time `json:"createdAt"`
	UpdatedAt      *time.Time `json:"updatedAt"`
}

// secretInfo describes one secret without its value.
type secretInfo struct {
	KeyID     string     `json:"keyId"`
	ExpiresAt *time.Time `json:"expiresAt"` // null for the current secret
}

func present(r OrgRecord, withSecret bool) organization {
	o := organization{
		ID: r.ID, Name: r.Name, FullEmbedEnabled: r.EmbeddingEnabled,
		EmbedAllowedOrigins: nonNil(r.AllowedOrigins), EmbedAllowedRoles: nonNil(r.AllowedRoles),
		EmbedAllowedGroups: nonNil(r.AllowedGroups),
		EmbedDashboardURL:  r.DashboardURL, EmbedLoginURL: r.LoginURL, JWTSecrets: []secretInfo{},
		CreatedAt: timeOrNull(r.CreatedAt), UpdatedAt: timeOrNull(r.UpdatedAt),
	}
	for _, s := range r.Secrets {
		o.JWTSecrets = append(o.JWTSecrets, secretInfo{KeyID: s.KeyID, ExpiresAt: timeOrNull(s.ExpiresAt)})
	}
	if cur, ok := CurrentSecret(r.Secrets); ok && withSecret {
		o.JWTSecret, o.JWTSecretKeyID = &cur.Value, &cur.KeyID
	}
	return o
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func timeOrNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// Limits on what an organization may hold. They are far above real needs
// and keep one organization's row, and the CSP header built from its
// origins, small.
const (
	maxIDBytes     = 64
	maxNameBytes   = 200
	maxOrigins     = 100
	maxRoles       = 50
	maxRoleBytes   = 64 // as a token's role claim
	maxGroups      = 100
	maxGroupBytes  = 128 // as a name in a token's groups claim
	maxURLBytes    = 2048
	minSecretBytes = 32 // RFC 7518 §3.2, as the handler requires
	maxSecretBytes = 512
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// orgInput is a create or update body: a nil field was absent.
type orgInput struct {
	id, name, dashboardURL, loginURL, secret *string
	enabled                                  *bool
	origins, roles, groups                   []string
	hasOrigins, hasRoles, hasGroups          bool
}

// readOrgInput reads and checks a body field by field. creating says whether
// id may be given.
func readOrgInput(w http.ResponseWriter, r *http.Request, creating bool) (orgInput, *apiError) {
	var in orgInput
	e := readObject(w, r, func(name string, raw json.RawMessage) *apiError {
		var e *apiError
		switch name {
		case "id":
			if !creating {
				return fieldError("id cannot be changed.")
			}
			in.id = new(string)
			if *in.id, e = readString(name, raw); e == nil {
				e = checkID(*in.id)
			}
		case "name":
			in.name = new(string)
			if *in.name, e = readString(name, raw); e == nil {
				e = checkName(*in.name)
			}
		case "fullEmbedEnabled":
			in.enabled = new(bool)
			*in.enabled, e = readBool(name, raw)
		case "embedAllowedOrigins":
			in.hasOrigins = true
			if in.origins, e = readStrings(name, raw, maxOrigins); e == nil {
				in.origins, e = checkOrigins(in.origins)
			}
		case "embedAllowedRoles":
			in.hasRoles = true
			if in.roles, e = readStrings(name, raw, maxRoles); e == nil {
				in.roles, e = checkNames(name, in.roles, maxRoleBytes, true)
			}
		case "embedAllowedGroups":
			in.hasGroups = true
			if in.groups, e = readStrings(name, raw, maxGroups); e == nil {
				in.groups, e = checkNames(name, in.groups, maxGroupBytes, false)
			}
		case "embedDashboardUrl":
			in.dashboardURL = new(string)
			if *in.dashboardURL, e = readString(name, raw); e == nil && len(*in.dashboardURL) > maxURLBytes {
				e = fieldError("embedDashboardUrl is longer than %d bytes.", maxURLBytes)
			}
		case "embedLoginUrl":
			in.loginURL = new(string)
			if *in.loginURL, e = readString(name, raw); e == nil && len(*in.loginURL) > maxURLBytes {
				e = fieldError("embedLoginUrl is longer than %d bytes.", maxURLBytes)
			}
		case "jwtSecret":
			in.secret = new(string)
			if *in.secret, e = readString(name, raw); e == nil {
				e = checkSecret(*in.secret)
			}
		default:
			return newError(http.StatusBadRequest, codeUnknownField, "Unknown field %.64q.", name)
		}
		return e
	})
	if e == nil && creating && in.name == nil {
		e = fieldError("name is required.")
	}
	return in, e
}

// apply sets the fields in carries on r. newKeyID names a secret in sets.
func (in orgInput) apply(r *OrgRecord, newKeyID string) {
	if in.name != nil {
		r.Name = *in.name
	}
	if in.enabled != nil {
		r.EmbeddingEnabled = *in.enabled
	}
	if in.hasOrigins {
		r.AllowedOrigins = in.origins
	}
	if in.hasRoles {
		r.AllowedRoles = in.roles
	}
	if in.hasGroups {
		r.AllowedGroups = in.groups
	}
	if in.dashboardURL != nil {
		r.DashboardURL = *in.dashboardURL
	}
	if in.loginURL != nil {
		r.LoginURL = *in.loginURL
	}
	if in.secret != nil {
		// Setting a secret replaces every secret at once, with no grace
		// period: it is the way out after a leak. Rotation keeps the old one.
		r.Secrets = []embedsso.Secret{{KeyID: newKeyID, Value: *in.secret}}
	}
	if in.endsSessions() {
		r.Epoch++
	}
}

// endsSessions reports whether the change ends every session of the
// organization (see [embedsso.Org.Epoch]): it replaces the secrets, or it
// turns embedding off (every such PATCH does, so a retry after a failure
// finishes the job).
func (in orgInput) endsSessions() bool {
	return in.secret != nil || in.enabled != nil && !*in.enabled
}

// withdrawsSecret reports whether after lacks a secret of before that is
// still in force at now: a rotation that drops a secret to stay within
// MaxSecrets withdraws it early, and the sessions signed in under it end
// with it.
func withdrawsSecret(before, after []embedsso.Secret, now time.Time) bool {
	for _, s := range before {
		if !expired(s, now) && !slices.ContainsFunc(after, func(a embedsso.Secret) bool { return a.Value == s.Value }) {
			return true
		}
	}
	return false
}

func checkID(id string) *apiError {
	if len(id) > maxIDBytes || !idPattern.MatchString(id) {
		return fieldError("id must be 1 to %d letters, digits, '_', '.' or '-', starting with a letter or digit.", maxIDBytes)
	}
	return nil
}

func checkName(name string) *apiError {
	if strings.TrimSpace(name) == "" || len(name) > maxNameBytes || !printable(name) {
		return fieldError("name must be 1 to %d bytes of printable UTF-8 text.", maxNameBytes)
	}
	return nil
}

// checkOrigins parses each entry as the SSO handler does and returns them in
// canonical form, duplicates removed.
func checkOrigins(l []string) ([]string, *apiError) {
	out := make([]string, 0, len(l))
	for i, s := range l {
		p, err := origin.ParsePattern(s)
		if err != nil {
			return nil, fieldError("embedAllowedOrigins[%d] %.64q is not an origin (scheme://host[:port], or https://*.domain): %v.", i, s, err)
		}
		if c := p.String(); !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// checkNames checks the entries of a role or group list as a token's claim
// would be checked, and removes duplicates. Roles are compared with the
// token's role as they are, so they may hold no space at all.
func checkNames(field string, l []string, max int, noSpace bool) ([]string, *apiError) {
	out := make([]string, 0, len(l))
	for i, s := range l {
		if strings.TrimSpace(s) == "" || len(s) > max || !printable(s) || noSpace && strings.ContainsFunc(s, unicode.IsSpace) {
			return nil, fieldError("%s[%d] must be 1 to %d bytes of text without control characters%s.", field, i, max,
				map[bool]string{true: " or spaces", false: ""}[noSpace])
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// checkSecret refuses a secret the handler would refuse, and one whose
// leading or trailing space or newline is a copy-paste accident waiting to
// fail every login (the troubleshooting table's "trailing newline").
func checkSecret(s string) *apiError {
	switch {
	case len(s) < minSecretBytes:
		return fieldError("jwtSecret is %d bytes; HS256 needs at least %d.", len(s), minSecretBytes)
	case len(s) > maxSecretBytes:
		return fieldError("jwtSecret is longer than %d bytes.", maxSecretBytes)
	case !printable(s) || strings.TrimSpace(s) != s:
		return fieldError("jwtSecret must be printable text without leading or trailing spaces.")
	}
	return nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

// checkOrg is the last gate before a store write: the whole organization
// as it will be stored, judged by [embedsso.Org.Validate], the rule every
// store applies where organizations enter (dashboard and login URLs, which
// depend on the origins, are judged here, on the final state of a PATCH).
// Its message names the problem and never a secret's value.
func checkOrg(o embedsso.Org) *apiError {
	if err := o.Validate(); err != nil {
		msg := strings.TrimPrefix(err.Error(), "embedsso: ")
		return &apiError{status: http.StatusBadRequest, code: codeInvalidField, message: msg + ".", cause: err}
	}
	return nil
}
