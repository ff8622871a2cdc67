// Package origin parses web origins, matches them against allow-lists and
// renders those lists as a CSP frame-ancestors directive.
package origin

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Normalize returns s as "scheme://host[:port]" with scheme and host in lower
// case and the scheme's default port removed. It fails for anything that is
// not an http or https origin: paths, queries, user info, "null".
func Normalize(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", errors.New("scheme must be http or https")
	}
	if u.Host == "" || u.User != nil || u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", errors.New("not a bare scheme://host[:port]")
	}
	if err := checkHost(u); err != nil {
		return "", err
	}
	return canonical(u), nil
}

// checkHost accepts DNS names, IPv4 and bracketed IPv6 literals, and decimal
// ports. Anything else ("*", quotes, spaces) could widen an allow-list or
// break the CSP header the list is rendered into.
func checkHost(u *url.URL) error {
	host, port := u.Hostname(), u.Port()
	if strings.HasPrefix(u.Host, "[") {
		if net.ParseIP(host) == nil {
			return errors.New("bad IPv6 literal")
		}
	} else if host == "" || len(host) > 253 || strings.Trim(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != "" ||
		strings.HasPrefix(host, ".") || strings.HasPrefix(host, "-") || strings.Contains(host, "..") {
		return errors.New("bad host name")
	}
	if strings.HasSuffix(u.Host, ":") || strings.Trim(port, "0123456789") != "" || len(port) > 5 {
		return errors.New("bad port")
	}
	return nil
}

// FromURL returns the origin of an absolute http(s) URL such as a Referer.
func FromURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("not an absolute http(s) URL")
	}
	if err := checkHost(u); err != nil {
		return "", err
	}
	return canonical(u), nil
}

func canonical(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

// OfRequest returns the origin of the page that made r: the Origin header,
// else the origin of the Referer. ok is false when neither is usable; an
// Origin of "null" (sandboxed or privacy-sensitive contexts) is returned as
// "null", which matches no allow-list.
func OfRequest(r *http.Request) (o string, ok bool) {
	if h := r.Header.Get("Origin"); h != "" {
		if h == "null" {
			return "null", true
		}
		if n, err := Normalize(h); err == nil {
			return n, true
		}
		return "null", true
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		if n, err := FromURL(ref); err == nil {
			return n, true
		}
	}
	return "", false
}

// Pattern is one entry of an allow-list: an exact origin, or a wildcard
// "scheme://*.domain[:port]" matching any subdomain (not the domain itself).
type Pattern struct {
	scheme, suffix, port string // suffix is ".domain" for wildcards
	exact                string
}

// ParsePattern checks and normalizes an allow-list entry.
func ParsePattern(s string) (Pattern, error) {
	if rest, ok := strings.CutPrefix(s, "https://*."); ok {
		return wildcard("https", rest)
	}
	if rest, ok := strings.CutPrefix(s, "http://*."); ok {
		return wildcard("http", rest)
	}
	n, err := Normalize(s)
	if err != nil {
		return Pattern{}, err
	}
	return Pattern{exact: n}, nil
}

func wildcard(scheme, rest string) (Pattern, error) {
	n, err := Normalize(scheme + "://" + rest)
	if err != nil {
		return Pattern{}, err
	}
	u, _ := url.Parse(n)
	host := u.Hostname()
	// "*.com" would let anyone embed: require a registrable-looking domain.
	if !strings.Contains(host, ".") || strings.ContainsAny(host, "*[]") {
		return Pattern{}, errors.New("wildcard needs a domain with at least two labels")
	}
	return Pattern{scheme: scheme, suffix: "." + host, port: u.Port()}, nil
}

// String returns the pattern in CSP source-expression form.
func (p Pattern) String() string {
	if p.exact != "" {
		return p.exact
	}
	s := p.scheme + "://*" + p.suffix
	if p.port != "" {
		s += ":" + p.port
	}
	return s
}

// Match reports whether the normalized origin o matches p.
func (p Pattern) Match(o string) bool {
	if p.exact != "" {
		return o == p.exact
	}
	rest, ok := strings.CutPrefix(o, p.scheme+"://")
	if !ok {
		return false
	}
	host, port := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		host, port = rest[:i], rest[i+1:]
	}
	return port == p.port && strings.HasSuffix(host, p.suffix) && len(host) > len(p.suffix)
}

// List is a parsed allow-list.
type List []Pattern

// ParseList parses every entry; one bad entry fails the whole list, because
// silently dropping it would change who may embed.
func ParseList(entries []string) (List, error) {
	l := make(List, 0, len(entries))
	for _, e := range entries {
		p, err := ParsePattern(e)
		if err != nil {
			return nil, fmt.Errorf("allowed origin %.64q: %w", e, err)
		}
		l = append(l, p)
	}
	return l, nil
}

// Allows reports whether o matches an entry.
func (l List) Allows(o string) bool {
	for _, p := range l {
		if p.Match(o) {
			return true
		}
	}
	return false
}

// FrameAncestors renders l as a Content-Security-Policy value. An empty list
// renders as "frame-ancestors *": any site may frame, as with no allow-list.
func (l List) FrameAncestors() string {
	if len(l) == 0 {
		return "frame-ancestors *"
	}
	var b strings.Builder
	b.WriteString("frame-ancestors 'self'")
	for _, p := range l {
		b.WriteByte(' ')
		b.WriteString(p.String())
	}
	return b.String()
}
