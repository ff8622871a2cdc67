// Package textcheck holds the rule every text value from outside goes
// through before it is stored, logged or used as a key: a token's claims,
// an organization's fields, and the organization id in an org API path.
// It is internal so that the root package, orgapi and the stores apply one
// rule without it becoming public API.
package textcheck

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxNameBytes bounds an organization id (Org.ID, a token's orgId claim, an
// org API path id) and a token's names.
const MaxNameBytes = 256

// Check rejects invalid UTF-8, control and format characters (which can
// hide text or forge log lines) and values longer than max bytes. field
// names the value in the error.
func Check(field, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%s longer than %d bytes", field, max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", field)
	}
	for _, r := range s {
		// ASCII has no format (Cf) characters, so its control characters
		// are the whole check; the table lookups are for the rest.
		if r < utf8.RuneSelf && (r < 0x20 || r == 0x7f) ||
			r >= utf8.RuneSelf && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
			return fmt.Errorf("%s contains a control character", field)
		}
	}
	return nil
}

// OrgID checks an organization id as the SSO handler checks a token's
// orgId claim and [embedsso.Org.Validate] checks Org.ID: an id that fails
// it cannot name a stored organization.
func OrgID(id string) error { return Check("orgId", id, MaxNameBytes) }
