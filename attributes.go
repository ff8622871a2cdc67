package embedsso

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/embedsso/embedsso/internal/attrname"
	"github.com/embedsso/embedsso/internal/jwt"
)

// Attributes and groups. Every claim of a verified token that is not one of
// the reserved names (internal/attrname) becomes an attribute of the user when its value is
// a string, a number or a boolean, for the app's own use (row-level security
// in its queries, say); a "groups" claim is a list of group names. Both are
// stored with the user and replaced at every sign-in, so an attribute the
// latest token left out is gone. Anything else is refused with
// claims_invalid, after the signature verified.

// Limits on attributes and groups: enough for real data, too small to make
// a store hold megabytes for one user.
const (
	maxAttributes        = 50
	maxAttributeValueLen = 1024
	maxGroups            = 100
	maxGroupBytes        = 128
)

// extraClaims reads the attributes and groups of a verified token's payload
// (its JSON, as parse decoded it) and checks them against org.
func extraClaims(raw []byte, org *Org) (attrs map[string]any, groups []string, err error) {
	if !hasExtraMembers(raw) {
		return nil, nil, nil // the common token: nothing to decode twice
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, nil, ErrTokenMalformed.because(err)
	}
	for name, v := range members {
		if name == "groups" {
			if groups, err = parseGroups(v, org.AllowedGroups); err != nil {
				return nil, nil, err
			}
			continue
		}
		if attrname.Reserved(name) {
			continue
		}
		if !attrname.Valid(name) {
			return nil, nil, ErrClaimsInvalid.because(fmt.Errorf("attribute name %.80q is not [A-Za-z][A-Za-z0-9_.-]{0,63}", name))
		}
		value, err := attributeValue(name, v)
		if err != nil {
			return nil, nil, ErrClaimsInvalid.because(err)
		}
		if attrs == nil {
			attrs = make(map[string]any)
		}
		if len(attrs) == maxAttributes {
			return nil, nil, ErrClaimsInvalid.because(fmt.Errorf("more than %d attributes", maxAttributes))
		}
		attrs[name] = value
	}
	return attrs, groups, nil
}

// hasExtraMembers reports whether the payload b (already judged by
// jwt.CheckMembers) has a top-level member outside the claims tokenClaims decodes
// ("groups" counts as extra). It allocates nothing, so a token with only the
// usual claims costs no second decode. When unsure (malformed input) it says
// true, and the full decode decides.
func hasExtraMembers(b []byte) bool { return jwt.HasMemberOutside(b, isClaimsField) }

// isClaimsField reports whether name is a claim other than "groups" that
// the handler reads itself or ignores by design.
func isClaimsField(name []byte) bool {
	return string(name) != "groups" && attrname.Reserved(string(name))
}

// attributeValue decodes one attribute: a string (as text), a number (as
// a json.Number, so large integer ids keep every digit) or a boolean.
func attributeValue(name string, v json.RawMessage) (any, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return nil, fmt.Errorf("attribute %s is empty", name)
	}
	switch c := v[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		if err := checkText("attribute "+name, s, maxAttributeValueLen); err != nil {
			return nil, err
		}
		return s, nil
	case c == 't' || c == 'f':
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		return b, nil
	case c == '-' || c >= '0' && c <= '9':
		if len(v) > maxAttributeValueLen {
			return nil, fmt.Errorf("attribute %s: number longer than %d bytes", name, maxAttributeValueLen)
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		var n json.Number
		if err := dec.Decode(&n); err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		return n, nil
	}
	return nil, fmt.Errorf("attribute %s is not a string, number or boolean", name)
}

// parseGroups reads the groups claim: an array of distinct, non-empty group
// names, each in allowed when allowed is not empty. It returns them sorted.
func parseGroups(v json.RawMessage, allowed []string) ([]string, error) {
	var groups []string
	if err := json.Unmarshal(v, &groups); err != nil || groups == nil && !bytes.Equal(bytes.TrimSpace(v), []byte("[]")) {
		return nil, ErrClaimsInvalid.becauseText("groups is not an array of strings")
	}
	if len(groups) > maxGroups {
		return nil, ErrClaimsInvalid.because(fmt.Errorf("more than %d groups", maxGroups))
	}
	for _, g := range groups {
		if strings.TrimSpace(g) == "" {
			return nil, ErrClaimsInvalid.becauseText("a group name is empty")
		}
		if err := checkText("group", g, maxGroupBytes); err != nil {
			return nil, ErrClaimsInvalid.because(err)
		}
		if len(allowed) > 0 && !slices.Contains(allowed, g) {
			return nil, ErrGroupNotAllowed.because(fmt.Errorf("group %.80q not allowed", g))
		}
	}
	slices.Sort(groups)
	return slices.Compact(groups), nil
}
