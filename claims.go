package embedsso

import (
	"fmt"
	"math"
	"time"

	"github.com/embedsso/embedsso/internal/email"
	"github.com/embedsso/embedsso/internal/textcheck"
)

// tokenClaims is the payload of an embedding token, as the reference
// signs it (signer.Claims is the same format, for signing):
//
//	{"email":"user@example.com","orgId":"org_abc123","firstName":"Jane",
//	 "lastName":"Doe","role":"MEMBER","exp":1234567890,"iat":1234567800}
//
// plus the optional registered claims nbf and jti. Times are seconds since
// the Unix epoch; zero means absent. The other claims (attributes, groups)
// are read from the payload itself (attributes.go).
type tokenClaims struct {
	Email     string  `json:"email"`
	OrgID     string  `json:"orgId"`
	FirstName string  `json:"firstName,omitempty"`
	LastName  string  `json:"lastName,omitempty"`
	Role      string  `json:"role,omitempty"`
	ExpiresAt float64 `json:"exp,omitempty"`
	IssuedAt  float64 `json:"iat,omitempty"`
	NotBefore float64 `json:"nbf,omitempty"`
	TokenID   string  `json:"jti,omitempty"`
}

// Limits on claim values. They are generous for real data and small enough
// that a hostile token cannot make us store megabytes.
const (
	maxEmailBytes   = email.MaxBytes
	maxNameBytes    = textcheck.MaxNameBytes
	maxRoleBytes    = 64
	maxTokenIDBytes = 256
	// Times beyond this (year 2286) are treated as malformed: they would
	// overflow time.Duration arithmetic and no honest token uses them.
	maxUnixSeconds = 1e10
)

// timeRules are the time checks of [tokenClaims.checkTimes].
type timeRules struct {
	now         time.Time
	leeway      time.Duration
	maxLifetime time.Duration
}

// checkTimes applies exp, nbf, iat and the lifetime limit. exp is required.
// Without iat the lifetime is measured from now, so a token that omits iat
// cannot escape the limit.
func (c *tokenClaims) checkTimes(r timeRules) error {
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
func (c *tokenClaims) profile(org *Org) (Profile, error) {
	email, err := email.Normalize(c.Email)
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
