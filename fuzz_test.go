package embedsso

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"github.com/embedsso/embedsso/internal/email"
	"github.com/embedsso/embedsso/internal/ticket"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func fuzzSign(input, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func seg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// flipLastBit flips the lowest bit of the last base64url character, a
// padding bit when the last segment's length is not a multiple of four.
func flipLastBit(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return s[:len(s)-1] + string(alphabet[strings.IndexByte(alphabet, s[len(s)-1])^1])
}

// FuzzParseAndVerify feeds arbitrary strings to the token parser and, when
// they parse, to the verifier. Whatever the input: no panic, every refusal is
// an *Error with a 4xx status, and nothing but a correctly signed HS256 token
// for the org ever verifies.
func FuzzParseAndVerify(f *testing.F) {
	hdr := seg(`{"alg":"HS256","typ":"JWT"}`)
	good := `{"email":"jane@example.com","orgId":"org_abc123","role":"MEMBER","iat":1800000000,"exp":1800000600}`
	for _, s := range []string{
		fuzzSign(hdr+"."+seg(good), benchSecret),
		fuzzSign(seg(`{"alg":"none"}`)+"."+seg(good), benchSecret),
		fuzzSign(seg(`{"alg":"HS256","crit":["b64"],"b64":false}`)+"."+seg(good), benchSecret),
		fuzzSign(hdr+"."+seg(`{"orgId":7}`), benchSecret),
		fuzzSign(hdr+"."+seg(`{"orgId":"org_abc123","exp":"soon"}`), benchSecret),
		fuzzSign(hdr+"."+seg(`[]`), benchSecret),
		hdr + "." + seg(good) + ".",
		// The signature's last character respelled (same bytes), and
		// members that encoding/json alone would fold or let repeat.
		flipLastBit(fuzzSign(hdr+"."+seg(good), benchSecret)),
		fuzzSign(seg(`{"ALG":"HS256"}`)+"."+seg(good), benchSecret),
		fuzzSign(seg(`{"alg":"none","\u0061lg":"HS256"}`)+"."+seg(good), benchSecret),
		fuzzSign(hdr+"."+seg(`{"orgId":"org_other",`+good[1:]), benchSecret),
		fuzzSign(hdr+"."+seg(`{"ORGID":"org_abc123","exp":1800000600}`), benchSecret),
		"a.b.c.d.e", "..", "", ".", "eyJ", "=.=.=", hdr + ".." + hdr,
	} {
		f.Add(s)
	}
	org := benchOrg()
	v := newVerifier(func() timeRules {
		return timeRules{now: time.Unix(1_800_000_100, 0), leeway: 30 * time.Second, maxLifetime: 10 * time.Minute}
	})
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := parse(raw)
		if err != nil {
			assertRefusal(t, err, 400, 401)
			return
		}
		if tok.claims.OrgID == "" {
			t.Fatal("parse accepted a token without orgId")
		}
		if tok.header.Alg != "HS256" || tok.header.Crit != nil {
			t.Fatalf("parse accepted alg %q crit %s", tok.header.Alg, tok.header.Crit)
		}
		if err := v.verify(tok, &org); err != nil {
			assertRefusal(t, err, 400, 401)
			return
		}
		// Verified: it must really be HS256 under the org's secret over exactly these bytes.
		if fuzzSign(tok.signingInput, benchSecret) != raw {
			t.Fatalf("verified a token the secret did not sign: %q", raw)
		}
	})
}

// FuzzClaimsProfile validates arbitrary user claims. An accepted profile is
// always clean: an email of bounded length with ASCII letters in lower case,
// its domain in ASCII and normalizing it again a no-op, names and role without
// control characters, a role from the org's list.
func FuzzClaimsProfile(f *testing.F) {
	f.Add("jane@example.com", "Jane", "Doe", "MEMBER", "")
	f.Add("Jane@Example.COM", "Ünïcödé", "O'Brien-Smith", "ADMIN", "id-1")
	f.Add("jane\n@example.com", "J\x00", "D\u202e", "OWNER", "x")
	f.Add("<jane@example.com>", "", "", "", "")
	f.Add("\"quoted local\"@example.com", strings.Repeat("a", 300), "", "VIEWER", "")
	f.Add("\u212Aate@B\u00fccher.example", "", "", "MEMBER", "")
	f.Add("\uff2bate@\uff45xample.com", "", "", "MEMBER", "")
	f.Add("\u0130an@xn--bcher-kva.example", "", "", "MEMBER", "")
	org := benchOrg()
	f.Fuzz(func(t *testing.T, addr, first, last, role, jti string) {
		c := tokenClaims{Email: addr, OrgID: org.ID, FirstName: first, LastName: last, Role: role, TokenID: jti}
		p, err := c.profile(&org)
		if err != nil {
			assertRefusal(t, err, 400)
			return
		}
		at := strings.LastIndexByte(p.Email, '@')
		if at <= 0 || len(p.Email) > maxEmailBytes {
			t.Fatalf("accepted email %q", p.Email)
		}
		// ASCII case folded everywhere, the domain in ASCII, and stable:
		// normalizing the result again changes nothing.
		if strings.ContainsFunc(p.Email, func(r rune) bool { return 'A' <= r && r <= 'Z' }) ||
			strings.ContainsFunc(p.Email[at:], func(r rune) bool { return r >= utf8.RuneSelf }) {
			t.Fatalf("accepted email %q is not folded to ASCII lower case", p.Email)
		}
		if again, err := email.Normalize(p.Email); err != nil || again != p.Email {
			t.Fatalf("normalizing %q again gave %q, %v", p.Email, again, err)
		}
		// Only ASCII letters fold: the local part keeps every other byte.
		if in := addr[:strings.LastIndexByte(addr, '@')]; asciiLower(in) != p.Email[:at] {
			t.Fatalf("local part %q became %q", in, p.Email[:at])
		}
		for _, s := range []string{p.Email, p.FirstName, p.LastName, p.Role, jti} {
			if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
				t.Fatalf("accepted a value with control characters: %q", s)
			}
		}
		if len(p.FirstName) > maxNameBytes || len(p.LastName) > maxNameBytes {
			t.Fatal("accepted an over-long name")
		}
		if !slices.Contains(org.AllowedRoles, p.Role) {
			t.Fatalf("accepted role %q", p.Role)
		}
	})
}

func assertRefusal(t *testing.T, err error, statuses ...int) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("refusal is not an *Error: %v", err)
	}
	for _, s := range statuses {
		if e.Status == s {
			return
		}
	}
	t.Fatalf("refusal %s has status %d, want one of %v", e.Code, e.Status, statuses)
}

// FuzzOpenTicket feeds arbitrary check and resume links to the ticket
// opener. Nothing but a ticket sealed with the org's key may open (the only
// one sealed here is want, so anything that opens must carry exactly its
// content), and every refusal is a 4xx *Error.
func FuzzOpenTicket(f *testing.F) {
	now := func() time.Time { return time.Unix(1_800_000_000, 0) }
	org := benchOrg()
	h, err := New(Config{Orgs: testOrgStore{org.ID: org}, Users: nopStore{}, Sessions: nopStore{}, Now: now})
	if err != nil {
		f.Fatal(err)
	}
	want := ticket.Ticket{Purpose: ticket.PurposeResume, OrgID: org.ID, Email: "jane@example.com", Dest: "/", Expires: now().Add(time.Minute), SessionHash: sha256.Sum256([]byte("a session id"))}
	genuine, err := h.sealTicket(&org, &want)
	if err != nil {
		f.Fatal(err)
	}
	want.IDHash = hex.EncodeToString(want.SessionHash[:]) // Open's, not Seal's
	sealed, _ := base64.RawURLEncoding.DecodeString(genuine)
	sealed = sealed[1+len(org.ID):]
	renamed := func(orgID string) string {
		return base64.RawURLEncoding.EncodeToString(append(append([]byte{byte(len(orgID))}, orgID...), sealed...))
	}
	for _, s := range []string{genuine, genuine[:len(genuine)-1], genuine + "A", "", ".", "a.b.c",
		renamed("org_nope"), renamed("org_\x00abc"), renamed(""), seg("org_abc123")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		_, _, tk, err := h.openTicket(context.Background(), raw, ticket.PurposeResume)
		if err != nil {
			assertRefusal(t, err, 400, 403)
			return
		}
		// A fuzzing worker seals its own want, under another random nonce
		// than the coordinator's seed: the content must be want's, the id
		// the nonce it was sealed under.
		got := tk
		got.ID = want.ID
		if got != want || len(tk.ID) != len(want.ID) {
			t.Fatalf("opened a ticket the handler did not seal: %q gave %+v", raw, tk)
		}
	})
}

// FuzzIsLocalPath checks that a return_to the handler accepts stays on the
// app's origin however it is read: resolved by a browser (which removes dot
// segments) against any page of the app, and after one round of
// percent-decoding, as a server that decodes before it redirects would.
func FuzzIsLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/reports/42?tab=2", "//evil.example", "/.//evil.example", "/..//evil.example",
		"/%2e%2e//evil", "/%2F%2Fevil.example", "/a/..;//evil", `/\evil`, "/x?y=//z#//w"} {
		f.Add(s)
	}
	base, err := url.Parse("https://app.example/a/b/c")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !isLocalPath(s) {
			return
		}
		for _, form := range []string{s, decodeOnce(s)} {
			ref, err := url.Parse(form)
			if err != nil {
				continue
			}
			if u := base.ResolveReference(ref); u.Host != base.Host || u.Scheme != base.Scheme || strings.HasPrefix(u.Path, "//") {
				t.Fatalf("accepted %q, which resolves to %q", s, u)
			}
		}
	})
}

func decodeOnce(s string) string {
	path, rest, _ := strings.Cut(s, "?")
	if p, err := url.PathUnescape(path); err == nil {
		path = p
	}
	if rest != "" {
		return path + "?" + rest
	}
	return path
}

// asciiLower folds A-Z to a-z and keeps every other byte: the oracle for
// what the handler's email rule may change in a local part.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
