package email

import "strings"

// plainEmail is [Normalize]'s fast path. Nearly every login's email is
// a plain ASCII address, such as jane.doe@example.com, for which the full
// path's net/mail parse and IDNA conversion cost about six allocations and
// change nothing but ASCII case. plainEmail recognises that form by hand and
// returns what the full path would: the address with A-Z folded to a-z.
//
// It is deliberately narrower than what the full path accepts, so that it
// never has to decide a hard case: it reports ok false for anything else
// (quoting, non-ASCII, any "--" in a label, which includes xn-- labels, a
// domain without a dot, localhost among them) and the full path judges it.
// It never refuses. FuzzEmailFastPath checks that for every address it takes,
// the full path gives byte for byte the same result.
//
// The form:
//   - at most MaxBytes bytes, one @;
//   - the local part a dot-atom (RFC 5322) of ASCII atext: no leading,
//     trailing or double dot, which is exactly what net/mail accepts without
//     quotes;
//   - the domain two or more labels of ASCII letters, digits and hyphens
//     (LDH), each 1 to 63 bytes, not starting or ending with a hyphen and
//     holding no "--", at most 253 bytes in all: a name IDNA2008's
//     registration profile returns as it is, once lower-cased.
func plainEmail(s string) (e string, ok bool) {
	if len(s) > MaxBytes {
		return "", false
	}
	at := strings.IndexByte(s, '@')
	if at < 0 || !isDotAtom(s[:at]) || !isLDHDomain(s[at+1:]) {
		return "", false
	}
	return asciiLower(s), true
}

// isDotAtom reports whether s is one or more runs of ASCII atext joined by
// single dots.
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			if s[i-1] == '.' {
				return false
			}
			continue
		}
		if !isAtext(c) {
			return false
		}
	}
	return true
}

// isAtext reports whether c is RFC 5322 atext: an ASCII letter, a digit or
// one of !#$%&'*+-/=?^_`{|}~.
func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// isLDHDomain reports whether s is the plain domain described at
// [plainEmail]: two or more LDH labels of 1 to 63 bytes, none starting or
// ending with a hyphen or holding "--", at most 253 bytes in all.
func isLDHDomain(s string) bool {
	if len(s) > 253 {
		return false
	}
	labels := 0
	for s != "" {
		label := s
		if dot := strings.IndexByte(s, '.'); dot >= 0 {
			label, s = s[:dot], s[dot+1:]
			if s == "" {
				return false // a trailing dot
			}
		} else {
			s = ""
		}
		if !isLDHLabel(label) {
			return false
		}
		labels++
	}
	return labels >= 2
}

// isLDHLabel reports whether s is 1 to 63 ASCII letters, digits and
// hyphens, neither starting nor ending with a hyphen and holding no "--".
func isLDHLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-':
			if s[i-1] == '-' {
				return false
			}
		default:
			return false
		}
	}
	return true
}
