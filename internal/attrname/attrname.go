// Package attrname holds the rules for a token's attribute names, shared by
// the handler, which reads attributes, and the signer, which writes them.
package attrname

// MaxLen is the longest attribute name.
const MaxLen = 64

// reserved are the reference's claims, "groups", and the registered claims
// of RFC 7519 §4.1: never attributes.
var reserved = map[string]bool{
	"email": true, "orgId": true, "firstName": true, "lastName": true, "role": true, "groups": true,
	"exp": true, "iat": true, "nbf": true, "jti": true, "iss": true, "aud": true, "sub": true,
}

// Reserved reports whether name is a claim that is never an attribute.
func Reserved(name string) bool { return reserved[name] }

// Valid reports whether s matches [A-Za-z][A-Za-z0-9_.-]{0,63}: safe in a
// log line, a JSON key, a SQL JSON path and an HTML attribute without
// escaping.
func Valid(s string) bool {
	if s == "" || len(s) > MaxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}
