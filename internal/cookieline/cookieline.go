// Package cookieline renders the Set-Cookie lines of cookies whose name and
// attributes never change: the handler's hint cookie and the cookie
// session issuer's session cookie.
package cookieline

import (
	"net/http"
	"strings"
	"time"
)

// Line writes the Set-Cookie value of one cookie whose name and
// attributes are fixed, as (*http.Cookie).String writes it. It is
// hand-written because http.SetCookie checks and formats every attribute on
// every call, and a sign-in sets two cookies whose attributes never change:
// here [http.Cookie] renders them once, at start-up, with its own checks
// (a path or domain it would drop is dropped the same way), and each call
// only puts the value, and for the session cookie the expiry, in place.
// TestCookieLinesAreWhatSetCookieWrites and FuzzCookieLine hold it to
// http.Cookie's output; a value or time that http.Cookie would quote, drop
// or leave out takes http.Cookie itself.
type Line struct {
	template    http.Cookie // Value and Expires are set per call
	withExpires bool
	head        string // "name="
	// Around the value and the expiry: what follows the value up to
	// "; Expires=", and what follows the expiry (or the value, when the
	// cookie has none).
	beforeExpires, tail string
}

// expiresMarker stands for the expiry while the template renders. No path
// or domain can hold "; Expires=", so finding it there is unambiguous.
var expiresMarker = time.Date(2001, time.February, 3, 4, 5, 6, 0, time.UTC)

// New renders template's attributes; withExpires says whether
// each line carries an Expires attribute.
func New(template http.Cookie, withExpires bool) Line {
	template.Value, template.Expires = "", time.Time{}
	l := Line{template: template, withExpires: withExpires, head: template.Name + "="}
	if withExpires {
		template.Expires = expiresMarker
	}
	rendered := template.String()
	rest := strings.TrimPrefix(rendered, l.head)
	if withExpires {
		at := "; Expires=" + expiresMarker.Format(http.TimeFormat)
		before, after, _ := strings.Cut(rest, at)
		l.beforeExpires, l.tail = before, after
	} else {
		l.tail = rest
	}
	return l
}

// String is the Set-Cookie value for value, expiring at expires if the line
// has an expiry.
func (l *Line) String(value string, expires time.Time) string {
	if !plainCookieValue(value) || l.withExpires && expires.Year() < 1601 {
		c := l.template
		c.Value = value
		if l.withExpires {
			c.Expires = expires
		}
		return c.String()
	}
	var b strings.Builder
	b.Grow(len(l.head) + len(value) + len(l.beforeExpires) + len("; Expires=") + len(http.TimeFormat) + len(l.tail))
	b.WriteString(l.head)
	b.WriteString(value)
	if l.withExpires {
		var buf [len(http.TimeFormat) + 8]byte
		b.WriteString(l.beforeExpires)
		b.WriteString("; Expires=")
		b.Write(expires.UTC().AppendFormat(buf[:0], http.TimeFormat))
	}
	b.WriteString(l.tail)
	return b.String()
}

// Set adds the cookie to w's header, as http.SetCookie does.
func (l *Line) Set(w http.ResponseWriter, value string, expires time.Time) {
	w.Header().Add("Set-Cookie", l.String(value, expires))
}

// plainCookieValue reports whether http.Cookie writes v as it is: not empty,
// and only bytes RFC 6265 allows in a cookie value unquoted (no space,
// comma, quote, semicolon, backslash or control byte).
func plainCookieValue(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}

// Name is the cookie's name.
func (l *Line) Name() string { return l.template.Name }

// ValidName reports whether s can name a cookie: a non-empty RFC 6265
// token.
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b <= ' ' || b >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", b) >= 0 {
			return false
		}
	}
	return true
}
