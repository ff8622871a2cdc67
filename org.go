package embedsso

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/embedsso/embedsso/internal/origin"
)

// Org is an organization's embedding configuration, as an [OrgStore] returns
// it. The memory and SQL stores check it with [Org.Validate] as it enters.
type Org struct {
	// ID is the token's orgId: at most 256 bytes of UTF-8, no control characters.
	ID string
	// EmbeddingEnabled MUST be true for the organization to accept logins.
	EmbeddingEnabled bool
	// Secrets are the HS256 keys the organization signs with; several allow
	// rotation: a token with a kid is checked only against the secret with
	// that KeyID, one without against each in turn. Each MUST be at least 32
	// bytes, and embedding needs one. [Org.Validate] refuses a shorter one;
	// one that reaches the handler anyway has every login refused with a 500
	// and a log line, rather than a weak key accepted.
	Secrets []Secret
	// AllowedOrigins lists the origins allowed to embed the organization, as
	// exact "scheme://host[:port]" values or "https://*.example.com" wildcards.
	// Empty means any origin, as the reference endpoint allows.
	AllowedOrigins []string
	// AllowedRoles lists the values the role claim may take; empty, any.
	AllowedRoles []string
	// AllowedGroups lists the names the groups claim may hold; empty, any.
	AllowedGroups []string
	// DashboardURL is where a signed-in user is sent: a path on this app
	// ("/dashboard") by the rule of return_to (never another origin).
	// Default: "/".
	DashboardURL string
	// LoginURL is an endpoint on the organization's site (Metabase's "JWT
	// identity provider URI") that mints a token for its signed-in user and
	// redirects to the SSO endpoint with the return_to it got, exactly: it
	// ends with the round trip's nonce, without which that login is refused.
	// A framed page behind [Handler.RequireUser] without a valid session
	// sends the user there, back signed in with no click. It MUST be https
	// (http on a loopback host) on one of the AllowedOrigins. Default: "" (a
	// page says the session ended and posts a message to the parent).
	LoginURL string
	// Epoch counts the times the organization ended all its sessions at
	// once: [Handler.RequireUser] and the resume refuse a session whose
	// [Session.OrgEpoch] (the Epoch its sign-in read) is not Epoch now. The
	// organization API moves it when embedding is turned off, the secrets are
	// replaced, or a secret in force is withdrawn (not by a rotation keeping
	// the old one in its grace period), so a login that read the organization
	// before, on any instance, ends with it. A store keeps it as given and
	// never lowers it. Default: 0.
	Epoch int64
}

// Secret is one HS256 key of an organization.
type Secret struct {
	// KeyID matches a token header's kid. It may be empty.
	KeyID string
	// Value is the secret exactly as the customer holds it: its bytes are the
	// HMAC key, with no base64 decoding (as Node's jsonwebtoken uses it).
	Value string
	// ExpiresAt, when not zero, is the end of the secret's grace period after
	// a rotation (see orgapi.RotateSecrets): from then on the handler no longer
	// verifies with it, and stores drop it on their next update or purge.
	ExpiresAt time.Time
}

// expired reports whether s's grace period is over at now.
func (s Secret) expired(now time.Time) bool {
	return !s.ExpiresAt.IsZero() && !now.Before(s.ExpiresAt)
}

// Validate reports whether o can be stored by the rules its fields state,
// with allowed origins that parse and roles (at most 64 bytes) and groups
// (at most 128) that are non-empty text without control characters. The
// error wraps
// [ErrOrgInvalid] and names the organization and the first problem, never a
// secret's value.
func (o Org) Validate() error {
	if err := o.problem(); err != nil {
		return invalidOrg{fmt.Errorf("embedsso: invalid organization %.64q: %w", o.ID, err)}
	}
	return nil
}

func (o *Org) problem() error {
	if o.ID == "" {
		return errors.New("id is empty")
	}
	if err := checkText("id", o.ID, maxNameBytes); err != nil {
		return err
	}
	if len(o.Secrets) == 0 && o.EmbeddingEnabled {
		return errors.New("embedding is enabled but there is no secret")
	}
	if err := weakSecret(o); err != nil {
		return err
	}
	for i, s := range o.Secrets {
		if err := checkText(fmt.Sprintf("secret %d's key id", i), s.KeyID, maxNameBytes); err != nil {
			return err
		}
	}
	if _, err := origin.ParseList(o.AllowedOrigins); err != nil {
		return fmt.Errorf("allowed origins: %w", err)
	}
	for i, r := range o.AllowedRoles {
		if r == "" {
			return fmt.Errorf("allowed role %d is empty", i)
		}
		if err := checkText(fmt.Sprintf("allowed role %d", i), r, maxRoleBytes); err != nil {
			return err
		}
	}
	for i, g := range o.AllowedGroups {
		if strings.TrimSpace(g) == "" {
			return fmt.Errorf("allowed group %d is empty", i)
		}
		if err := checkText(fmt.Sprintf("allowed group %d", i), g, maxGroupBytes); err != nil {
			return err
		}
	}
	if o.DashboardURL != "" && !isLocalPath(o.DashboardURL) {
		return fmt.Errorf("dashboard URL %.64q is not a path on this site", o.DashboardURL)
	}
	if o.LoginURL != "" {
		return checkOrgLoginURL(o)
	}
	return nil
}

// checkOrgLoginURL applies the rules the handler applies before it
// redirects to a LoginURL (see loginRedirect), so that a LoginURL it would
// refuse at every ended session is refused when it is stored.
func checkOrgLoginURL(o *Org) error {
	u, err := url.Parse(o.LoginURL)
	if err != nil {
		return fmt.Errorf("login URL does not parse: %w", err)
	}
	if err := checkLoginURL(u); err != nil {
		return err
	}
	allowed, err := origin.ParseList(o.AllowedOrigins)
	if err != nil {
		return err
	}
	if site := u.Scheme + "://" + u.Host; len(allowed) == 0 || !allowed.Allows(site) {
		return fmt.Errorf("login URL origin %.128q is not on the organization's allowed origins", site)
	}
	return nil
}

// weakSecret returns an error naming the first secret of o shorter than
// RFC 7518 §3.2's floor for HS256, by index and key id, never by value.
func weakSecret(o *Org) error {
	for i, s := range o.Secrets {
		if len(s.Value) < minSecretBytes {
			return fmt.Errorf("secret %d (kid %q) is %d bytes; HS256 needs at least %d", i, s.KeyID, len(s.Value), minSecretBytes)
		}
	}
	return nil
}

// invalidOrg is the error Validate returns: it reads as the problem and
// matches [ErrOrgInvalid].
type invalidOrg struct{ error }

func (e invalidOrg) Is(target error) bool { return target == error(ErrOrgInvalid) }

func (e invalidOrg) Unwrap() error { return e.error }
