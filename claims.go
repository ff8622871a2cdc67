package embedsso

import (
	"errors"
	"fmt"
	"math"
	"net/mail"
	"strings"
	"time"
	"unicode"

	"github.com/embedsso/embedsso/internal/textcheck"
	"golang.org/x/net/idna"
)

// Claims is the payload of an embedding token, as in the reference:
//
//	{"email":"user@example.com","orgId":"org_abc123","firstName":"Jane",
//	 "lastName":"Doe","role":"MEMBER","exp":1234567890,"iat":1234567800}
//
// plus the optional registered claims nbf and jti. Times are seconds since the
// Unix epoch; zero means absent.
type Claims struct {
	Email     string  `json:"email"`
	OrgID     string  `json:"orgId"`
	FirstName string  `json:"firstName,omitempty"`
	LastName  string  `json:"lastName,omitempty"`
	Role      string  `json:"role,omitempty"`
	ExpiresAt float64 `json:"exp,omitempty"`
	IssuedAt  float64 `json:"iat,omitempty"`
	NotBefore float64 `json:"nbf,omitempty"`
	TokenID   string  `json:"jti,omitempty"`
	// Attributes are extra claims for [github.com/embedsso/embedsso/signer.Signer.Sign] to add: string, number
	// or boolean values under names matching [A-Za-z][A-Za-z0-9_.-]{0,63}
	// (see docs/embedding.md, "Attributes and groups"). The handler reads them
	// into [Profile.Attributes], not here.
	Attributes map[string]any `json:"-"`
	// Groups is the groups claim for [github.com/embedsso/embedsso/signer.Signer.Sign] to add. The handler reads
	// it into [Profile.Groups], not here.
	Groups []string `json:"-"`
}

// Limits on claim values. They are generous for real data and small enough
// that a hostile token cannot make us store megabytes.
const (
	maxEmailBytes   = 254 // RFC 5321's path limit.
	maxNameBytes    = textcheck.MaxNameBytes
	maxRoleBytes    = 64
	maxTokenIDBytes = 256
	// Times beyond this (year 2286) are treated as malformed: they would
	// overflow time.Duration arithmetic and no honest token uses them.
	maxUnixSeconds = 1e10
)

// timeRules are the time checks of [Claims.checkTimes].
type timeRules struct {
	now         time.Time
	leeway      time.Duration
	maxLifetime time.Duration
}

// checkTimes applies exp, nbf, iat and the lifetime limit. exp is required.
// Without iat the lifetime is measured from now, so a token that omits iat
// cannot escape the limit.
func (c *Claims) checkTimes(r timeRules) error {
	for _, v := range [...]float64{c.ExpiresAt, c.IssuedAt, c.NotBefore} {
		if v < 0 || v > maxUnixSeconds || math.IsNaN(v) {
			return ErrClaimsInvalid.becauseText("time claim out of range")
		}
	}
	if c.ExpiresAt == 0 {
		return ErrTokenExpired.becauseText("exp claim missing")
	}
	exp := unixTime(c.ExpiresAt)
	if !r.now.Before(exp.Add(r.leeway)) {
		return ErrTokenExpired.because(fmt.Errorf("expired at %s, now %s", exp.UTC().Format(time.RFC3339), r.now.UTC().Format(time.RFC3339)))
	}
	if c.NotBefore != 0 && unixTime(c.NotBefore).After(r.now.Add(r.leeway)) {
		return ErrTokenNotYetValid.becauseText("nbf in the future")
	}
	start := r.now
	if c.IssuedAt != 0 {
		start = unixTime(c.IssuedAt)
		if start.After(r.now.Add(r.leeway)) {
			return ErrTokenNotYetValid.becauseText("iat in the future")
		}
	}
	if lifetime := exp.Sub(start); lifetime > r.maxLifetime {
		return ErrTokenLifetimeTooLong.because(fmt.Errorf("lifetime %s exceeds %s", lifetime, r.maxLifetime))
	}
	return nil
}

func unixTime(sec float64) time.Time {
	whole, frac := math.Modf(sec)
	return time.Unix(int64(whole), int64(frac*1e9))
}

// profile validates the user claims against org and returns them normalized.
// It runs only after the signature verified.
func (c *Claims) profile(org *Org) (Profile, error) {
	email, err := normalizeEmail(c.Email)
	if err != nil {
		return Profile{}, ErrClaimsInvalid.because(err)
	}
	for _, f := range [...]struct{ name, v string }{{"firstName", c.FirstName}, {"lastName", c.LastName}} {
		if err := checkText(f.name, f.v, maxNameBytes); err != nil {
			return Profile{}, ErrClaimsInvalid.because(err)
		}
	}
	if err := checkText("jti", c.TokenID, maxTokenIDBytes); err != nil {
		return Profile{}, ErrClaimsInvalid.because(err)
	}
	if err := checkRole(c.Role, org.AllowedRoles); err != nil {
		return Profile{}, err
	}
	return Profile{OrgID: org.ID, Email: email, FirstName: c.FirstName, LastName: c.LastName, Role: c.Role}, nil
}

// NormalizeEmail returns the form of an email address that identifies a
// user: the value the handler puts in [Profile.Email], which stores compare
// byte for byte. Two addresses are one user exactly when NormalizeEmail
// returns the same string for both.
//
// The address must be a bare addr-spec (no display name, quotes, comments or
// brackets) of at most 254 bytes, in valid UTF-8 without control, format or
// space characters. Then:
//
//   - ASCII letters are folded to lower case, in the local part and the
//     domain: Jane@Example.COM is jane@example.com.
//   - Any other byte of the local part is kept exactly: no Unicode case
//     mapping or normalization. U+212A KELVIN SIGN stays itself (it is not
//     k), U+0130 is not i, ß is not ss nor ẞ, fullwidth ｋ is not k.
//   - The domain is converted to its ASCII (IDNA2008) form, so bücher.example
//     and xn--bcher-kva.example are one domain. A domain that is not already
//     a valid, canonical IDNA2008 name is refused rather than mapped: that
//     includes non-ASCII capitals (BÜCHER), fullwidth letters, U+212A, ẞ and
//     U+0130 in the domain, and an underscore or a trailing dot.
//
// The rule folds only what every mail system treats as equal and keeps
// apart what a customer's system may hold as two accounts: merging two of
// them would sign one person in as the other.
func NormalizeEmail(s string) (string, error) {
	e, err := normalizeEmail(s)
	if err != nil {
		return "", fmt.Errorf("embedsso: %w", err)
	}
	return e, nil
}

// emailDomains converts an email's domain to ASCII. It is IDNA2008's
// registration profile, not the lookup one: idna.Lookup applies UTS #46's
// mappings (fullwidth to ASCII, U+212A to k, ẞ to ss, case folding), the
// very mappings a customer's system does not apply to its user ids, so
// under it two of the customer's accounts could become one of ours. The
// registration profile maps nothing and refuses what would need mapping.
var emailDomains = idna.Registration

// normalizeEmail is [NormalizeEmail] with causes worded for the log line of
// a refused login.
func normalizeEmail(s string) (string, error) {
	if e, ok := plainEmail(s); ok {
		return e, nil
	}
	return parseEmail(s)
}

// parseEmail is [normalizeEmail]'s full path, for any address: the fast
// path, [plainEmail], takes only plain ones.
func parseEmail(s string) (string, error) {
	if s == "" {
		return "", errors.New("email missing")
	}
	if err := checkText("email", s, maxEmailBytes); err != nil {
		return "", err
	}
	if strings.ContainsAny(s, " \t<>\"(),;:\\[]") || strings.ContainsFunc(s, unicode.IsSpace) {
		return "", errors.New("email has characters not allowed in an address")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", errors.New("email is not a plain address")
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", errors.New("email has no domain")
	}
	domain, err := emailDomains.ToASCII(asciiLower(s[at+1:]))
	if err != nil || strings.HasSuffix(domain, ".") {
		return "", errors.New("email domain is not a valid IDNA2008 host name in canonical form")
	}
	if !strings.Contains(domain, ".") && domain != "localhost" {
		return "", errors.New("email has no domain")
	}
	e := s // the common case, already normalized, costs no allocation
	if local := asciiLower(s[:at]); local != s[:at] || domain != s[at+1:] {
		e = local + "@" + domain
	}
	if len(e) > maxEmailBytes {
		return "", fmt.Errorf("email longer than %d bytes in ASCII form", maxEmailBytes)
	}
	return e, nil
}

// asciiLower folds A-Z to a-z and leaves every other byte as it is, unlike
// strings.ToLower, which also maps non-ASCII letters (U+212A to k).
func asciiLower(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return 'A' <= r && r <= 'Z' })
	if i < 0 {
		return s
	}
	// A Builder makes the result in one allocation; []byte(s) and back
	// would take two.
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// checkText rejects invalid UTF-8, control and format characters (which can
// hide text or forge log lines) and values longer than max bytes: the one
// rule, in internal/textcheck, that orgapi applies to path ids too.
func checkText(field, s string, max int) error { return textcheck.Check(field, s, max) }

func checkRole(role string, allowed []string) error {
	if role == "" {
		if len(allowed) > 0 {
			return ErrRoleNotAllowed.becauseText("role missing")
		}
		return nil
	}
	if err := checkText("role", role, maxRoleBytes); err != nil {
		return ErrClaimsInvalid.because(err)
	}
	if len(allowed) == 0 {
		return nil
	}
	for _, a := range allowed {
		if a == role {
			return nil
		}
	}
	return ErrRoleNotAllowed.because(fmt.Errorf("role %q not allowed", role))
}
