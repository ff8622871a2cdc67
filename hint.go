package embedsso

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The organization hint. When a session has ended (idle, expired, revoked,
// purged), the app still needs to know which organization's LoginURL to send
// the user to, and which sites may frame the page that says so. Every
// sign-in therefore also sets a second cookie that names the organization:
// no secret, the same attributes as the session cookie (Partitioned, so it
// lives exactly where the session cookie could), and a longer life. It also
// counts the automatic re-sign-ins of the last minute, so that a LoginURL
// that fails cannot make the frame loop.

// hintMaxAge is how long the hint outlives the session it came with.
const hintMaxAge = 30 * 24 * time.Hour

// hint is the content of the organization-hint cookie.
type hint struct {
	orgID   string
	bounces int       // automatic re-sign-ins since bouncedAt's minute began
	at      time.Time // when the first of them happened
}

func (c *CookieSessions) hintName() string { return c.name + "_org" }

// setHint writes h as the hint cookie.
func (c *CookieSessions) setHint(w http.ResponseWriter, h hint) {
	var buf [64]byte
	v := append(buf[:0], "1."...)
	v = strconv.AppendInt(v, int64(h.bounces), 10)
	v = append(v, '.')
	v = strconv.AppendInt(v, h.at.Unix(), 10)
	v = append(v, '.')
	v = base64.RawURLEncoding.AppendEncode(v, []byte(h.orgID))
	c.hintLine.set(w, string(v), time.Time{})
}

// hintCookie is the hint cookie, less its value.
func (c *CookieSessions) hintCookie() http.Cookie {
	return http.Cookie{
		Name: c.hintName(), Path: c.path, Domain: c.domain, MaxAge: int(hintMaxAge / time.Second),
		Secure: true, HttpOnly: true, SameSite: c.sameSite, Partitioned: !c.notPartitioned,
	}
}

// readHint returns the request's hint. ok is false when there is none or it
// does not parse; its orgID is held to a token's orgId rules.
func (c *CookieSessions) readHint(r *http.Request) (h hint, ok bool) {
	ck, err := r.Cookie(c.hintName())
	if err != nil || len(ck.Value) > 512 {
		return hint{}, false
	}
	parts := strings.Split(ck.Value, ".")
	if len(parts) != 4 || parts[0] != "1" {
		return hint{}, false
	}
	bounces, err1 := strconv.Atoi(parts[1])
	at, err2 := strconv.ParseInt(parts[2], 10, 64)
	org, err3 := base64.RawURLEncoding.Strict().DecodeString(parts[3])
	if err1 != nil || err2 != nil || err3 != nil || bounces < 0 || len(org) == 0 || checkText("orgId", string(org), maxNameBytes) != nil {
		return hint{}, false
	}
	return hint{orgID: string(org), bounces: bounces, at: time.Unix(at, 0)}, true
}
