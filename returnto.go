package embedsso

import (
	"net/url"
	"strings"
)

// destination is where a signed-in user goes: a validated return_to, else
// the organization's dashboard.
func destination(org *Org, returnTo string) (string, error) {
	if returnTo != "" {
		if !isLocalPath(returnTo) {
			return "", ErrReturnToInvalid
		}
		return returnTo, nil
	}
	if org.DashboardURL != "" {
		return org.DashboardURL, nil
	}
	return "/", nil
}

// isLocalPath accepts only a path on this site: "/x", never "//host",
// "/\host", "https:…" or anything a browser might read as another origin.
func isLocalPath(s string) bool {
	if len(s) > maxReturnToBytes || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c == 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil
}

// maxReturnToBytes bounds a return_to path (and so a ticket's destination).
const maxReturnToBytes = 2048
