// Package signer is the customer's side of embedsso: it mints the tokens the
// handler verifies, and makes organization secrets. It runs on the server of
// the site that embeds the app, never in a browser.
//
// It is the only package of the module that imports jwx: an app that only
// verifies logins does not build it.
package signer

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/embedsso/embedsso/internal/attrname"
	"github.com/embedsso/embedsso/internal/random"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
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
	// Attributes are extra claims for [Signer.Sign] to add: string, number
	// or boolean values under names matching [A-Za-z][A-Za-z0-9_.-]{0,63}
	// (see docs/embedding.md, "Attributes and groups"). The handler reads them
	// into embedsso.Profile.Attributes.
	Attributes map[string]any `json:"-"`
	// Groups is the groups claim for [Signer.Sign] to add. The handler reads
	// it into embedsso.Profile.Groups.
	Groups []string `json:"-"`
}

// Signer mints embedding tokens on the customer's server, exactly as the
// reference's Node example does with jsonwebtoken: HS256, header typ JWT, the
// claims email, orgId, firstName, lastName, role, iat and exp. Give it to the
// engineers of the sites that embed you; it never runs in a browser.
type Signer struct {
	// Secret is the organization's secret, at least 32 bytes. Required.
	Secret string
	// KeyID, when set, is sent as the header's kid so the app picks the
	// matching secret during rotation. Default: "" (no kid).
	KeyID string
	// TTL is the token's lifetime, exp minus iat. Default: 10m, as the
	// reference's expiresIn: '10m'.
	TTL time.Duration
	// TokenID adds a random jti claim, which makes the token single-use at
	// the app. Default: false, like the reference.
	TokenID bool
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Sign returns a compact JWS carrying c. c.IssuedAt and c.ExpiresAt are set
// from the clock and TTL unless already set; c.TokenID is set when the Signer
// asks for one and c has none.
func (s Signer) Sign(c Claims) (string, error) {
	if len(s.Secret) < minSecretBytes {
		return "", fmt.Errorf("embedsso: secret is %d bytes; HS256 needs at least %d", len(s.Secret), minSecretBytes)
	}
	if c.OrgID == "" || c.Email == "" {
		return "", errors.New("embedsso: Claims.OrgID and Claims.Email are required")
	}
	clock := s.Now
	if clock == nil {
		clock = time.Now
	}
	now := clock().Truncate(time.Second)
	ttl := s.TTL
	if ttl == 0 {
		ttl = 10 * time.Minute
	}
	if c.IssuedAt == 0 {
		c.IssuedAt = float64(now.Unix())
	}
	if c.ExpiresAt == 0 {
		c.ExpiresAt = float64(now.Add(ttl).Unix())
	}
	if s.TokenID && c.TokenID == "" {
		c.TokenID = NewTokenID()
	}

	t := jwt.New()
	set := func(k string, v any) {
		if err := t.Set(k, v); err != nil {
			panic(err) // impossible: every key and value type below is valid
		}
	}
	set("email", c.Email)
	set("orgId", c.OrgID)
	for k, v := range map[string]string{"firstName": c.FirstName, "lastName": c.LastName, "role": c.Role, jwt.JwtIDKey: c.TokenID} {
		if v != "" {
			set(k, v)
		}
	}
	for name, v := range c.Attributes {
		if attrname.Reserved(name) || !attrname.Valid(name) {
			return "", fmt.Errorf("embedsso: %q cannot be an attribute name", name)
		}
		set(name, v)
	}
	if len(c.Groups) > 0 {
		set("groups", c.Groups)
	}
	set(jwt.IssuedAtKey, unixTime(c.IssuedAt))
	set(jwt.ExpirationKey, unixTime(c.ExpiresAt))
	if c.NotBefore != 0 {
		set(jwt.NotBeforeKey, unixTime(c.NotBefore))
	}

	hdr := jws.NewHeaders()
	if s.KeyID != "" {
		if err := hdr.Set(jws.KeyIDKey, s.KeyID); err != nil {
			return "", err
		}
	}
	b, err := jwt.Sign(t, jwt.WithKey(jwa.HS256, []byte(s.Secret), jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("embedsso: sign: %w", err)
	}
	return string(b), nil
}

// minSecretBytes is RFC 7518 §3.2's floor for an HS256 key, as the handler
// enforces it.
const minSecretBytes = 32

func unixTime(sec float64) time.Time {
	whole, frac := math.Modf(sec)
	return time.Unix(int64(whole), int64(frac*1e9))
}

// GenerateSecret returns a new organization secret: 32 random bytes in
// unpadded base64url, 43 printable characters. The app and the customer use
// the string itself as the HMAC key.
func GenerateSecret() string { return random.Base64URL(32) }

// NewTokenID returns a random token id for the jti claim.
func NewTokenID() string { return random.Base64URL(16) }
