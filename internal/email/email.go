// Package email normalizes the email addresses of tokens: the one rule by
// which the handler, the organization API and the stores tell users apart.
package email

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"

	"github.com/embedsso/embedsso/internal/textcheck"
	"golang.org/x/net/idna"
)

// MaxBytes is the longest address: RFC 5321's path limit.
const MaxBytes = 254

// Normalize returns the form of an email address that identifies a user:
// the value the handler puts in embedsso.Profile.Email, which stores compare
// byte for byte. Two addresses are one user exactly when Normalize returns
// the same string for both.
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
//
// Its errors are worded for the log line of a refused login.
func Normalize(s string) (string, error) {
	if e, ok := plainEmail(s); ok {
		return e, nil
	}
	return parseEmail(s)
}

// emailDomains converts an email's domain to ASCII. It is IDNA2008's
// registration profile, not the lookup one: idna.Lookup applies UTS #46's
// mappings (fullwidth to ASCII, U+212A to k, ẞ to ss, case folding), the
// very mappings a customer's system does not apply to its user ids, so
// under it two of the customer's accounts could become one of ours. The
// registration profile maps nothing and refuses what would need mapping.
var emailDomains = idna.Registration

// parseEmail is [Normalize]'s full path, for any address: the fast
// path, [plainEmail], takes only plain ones.
func parseEmail(s string) (string, error) {
	if s == "" {
		return "", errors.New("email missing")
	}
	if err := textcheck.Check("email", s, MaxBytes); err != nil {
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
	if len(e) > MaxBytes {
		return "", fmt.Errorf("email longer than %d bytes in ASCII form", MaxBytes)
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
