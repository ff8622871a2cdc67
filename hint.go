package embedsso

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The organization hint. When a session has ended (idle, expired, revoked,
// purged), the app still needs to know which organization's LoginURL to send
// the user to, and which sites may frame the page that says so. Every
// sign-in therefore also sets a second cookie that names the organization.
// It is the handler's own, whatever the [SessionIssuer]: no secret, Secure,
// HttpOnly, SameSite=None and Partitioned (unless [Config.NotPartitioned]),
// so it lives exactly where a session cookie could, Path=/, host-only, and
// a longer life. It also counts the automatic re-sign-ins of the last
// minute, so that a LoginURL that fails cannot make the frame loop, and
// holds the nonce of the LoginURL round trip under way, which the login
// that ends it must carry back (sessionend.go).

// hintMaxAge is how long the hint outlives the session it came with.
const hintMaxAge = 30 * 24 * time.Hour

// hint is the content of the organization-hint cookie.
type hint struct {
	orgID   string
	bounces int       // automatic re-sign-ins since bouncedAt's minute began
	at      time.Time // when the first of them happened
	// trip is the nonce of the LoginURL round trip the guard began last
	// (see sessionend.go), empty when none is under way. The login that
	// comes back from the LoginURL must carry it in its return_to; the
	// sign-in writes a hint without it, which spends it.
	trip string
}

// tripBytes is the size of a trip's nonce: 128 random bits.
const tripBytes = 16

// newTrip returns a fresh trip nonce, in base64url.
func newTrip() string {
	var b [tripBytes]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// defaultHintCookie is the hint cookie's name when [Config.HintCookie] is
// empty: the default session cookie's, with "_org".
const defaultHintCookie = "embedsso_session_org"

// setHint writes h as the hint cookie.
func (h *Handler) setHint(w http.ResponseWriter, hnt hint) {
	// "1.BOUNCES.AT.ORG", or with a trip under way "2.BOUNCES.AT.TRIP.ORG".
	var buf [96]byte
	v := append(buf[:0], "1."...)
	if hnt.trip != "" {
		v[0] = '2'
	}
	v = strconv.AppendInt(v, int64(hnt.bounces), 10)
	v = append(v, '.')
	v = strconv.AppendInt(v, hnt.at.Unix(), 10)
	v = append(v, '.')
	if hnt.trip != "" {
		v = append(v, hnt.trip...)
		v = append(v, '.')
	}
	v = base64.RawURLEncoding.AppendEncode(v, []byte(hnt.orgID))
	h.hintLine.Set(w, string(v), time.Time{})
}

// hintCookie is the hint cookie named name, less its value.
func hintCookie(name string, partitioned bool) http.Cookie {
	return http.Cookie{
		Name: name, Path: "/", MaxAge: int(hintMaxAge / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode, Partitioned: partitioned,
	}
}

// readHint returns the request's hint. ok is false when there is none or it
// does not parse; its orgID is held to a token's orgId rules.
func (h *Handler) readHint(r *http.Request) (hint, bool) {
	ck, err := r.Cookie(h.hintLine.Name())
	if err != nil || len(ck.Value) > 512 {
		return hint{}, false
	}
	parts := strings.Split(ck.Value, ".")
	var trip string
	switch {
	case len(parts) == 4 && parts[0] == "1":
	case len(parts) == 5 && parts[0] == "2" && validTrip(parts[3]):
		trip = parts[3]
		parts = append(parts[:3], parts[4])
	default:
		return hint{}, false
	}
	bounces, err1 := strconv.Atoi(parts[1])
	at, err2 := strconv.ParseInt(parts[2], 10, 64)
	org, err3 := base64.RawURLEncoding.Strict().DecodeString(parts[3])
	if err1 != nil || err2 != nil || err3 != nil || bounces < 0 || len(org) == 0 || checkText("orgId", string(org), maxNameBytes) != nil {
		return hint{}, false
	}
	return hint{orgID: string(org), bounces: bounces, at: time.Unix(at, 0), trip: trip}, true
}

// validTrip reports whether s can be a trip nonce newTrip made.
func validTrip(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(tripBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil
}
