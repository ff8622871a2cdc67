package embedsso_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/signer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refusal is one way a login must be refused.
type refusal struct {
	name string
	// request returns the target URL (and extra headers) to send.
	request func(f *fixture) (target string, headers map[string]string)
	method  string // default GET
	opts    []fixtureOption
	want    embedsso.Kind
}

// tokenReq builds a login request for a token made from the fixture.
func tokenReq(mk func(f *fixture) string) func(f *fixture) (string, map[string]string) {
	return func(f *fixture) (string, map[string]string) { return loginURL(mk(f)), nil }
}

// claimsReq signs claims, modified from the valid set, with org_abc123's secret.
func claimsReq(kv ...any) func(f *fixture) (string, map[string]string) {
	return tokenReq(func(f *fixture) string { return rawToken(hs256, with(f.claims(), kv...), secretABC) })
}

// signerReq mints with signer.Signer for org_abc123, its clock shifted by
// skew and its TTL set to ttl (0 = the default ten minutes).
func signerReq(secret, kid string, skew, ttl time.Duration) func(f *fixture) (string, map[string]string) {
	return tokenReq(func(f *fixture) string {
		s := signer.Signer{Secret: secret, KeyID: kid, TTL: ttl, Now: func() time.Time { return f.now.Add(skew) }}
		tok, err := s.Sign(signer.Claims{Email: "jane@example.com", OrgID: "org_abc123", Role: "MEMBER"})
		if err != nil {
			panic(err)
		}
		return tok
	})
}

// returnToReq is a valid login asking to go to returnTo.
func returnToReq(returnTo string) func(f *fixture) (string, map[string]string) {
	return func(f *fixture) (string, map[string]string) {
		return loginURL(rawToken(hs256, f.claims(), secretABC)) + "&return_to=" + url.QueryEscape(returnTo), nil
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func refusals() []refusal {
	valid := func(f *fixture) string { return rawToken(hs256, f.claims(), secretABC) }
	header := func(h map[string]any) func(f *fixture) string {
		return func(f *fixture) string { return rawToken(h, f.claims(), secretABC) }
	}
	return []refusal{
		// 400: the request or the token's framing.
		{name: "no jwt parameter is a 400", request: func(*fixture) (string, map[string]string) { return "/api/sso/jwt", nil }, want: embedsso.ErrTokenMissing},
		{name: "an empty jwt parameter is a 400", request: func(*fixture) (string, map[string]string) { return "/api/sso/jwt?jwt=", nil }, want: embedsso.ErrTokenMissing},
		{name: "a repeated jwt parameter is a 400", request: func(f *fixture) (string, map[string]string) {
			return loginURL(valid(f)) + "&jwt=" + valid(f), nil
		}, want: embedsso.ErrTokenMissing},
		{name: "a query that does not parse is a 400", request: func(*fixture) (string, map[string]string) { return "/api/sso/jwt?jwt=%zz", nil }, want: embedsso.ErrTokenMissing},
		{name: "a jwt over 8 KiB is a 400", request: func(f *fixture) (string, map[string]string) {
			return loginURL(rawToken(hs256, with(f.claims(), "firstName", strings.Repeat("a", 9000)), secretABC)), nil
		}, want: embedsso.ErrTokenTooLarge},
		{name: "two segments are a 400", request: tokenReq(func(f *fixture) string { v := valid(f); return v[:strings.LastIndex(v, ".")] }), want: embedsso.ErrTokenMalformed},
		{name: "four segments are a 400", request: tokenReq(func(f *fixture) string { return valid(f) + ".AAAA" }), want: embedsso.ErrTokenMalformed},
		{name: "a five-segment JWE is a 400", request: tokenReq(func(*fixture) string {
			return b64(`{"alg":"dir","enc":"A256GCM"}`) + "..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA"
		}), want: embedsso.ErrTokenMalformed},
		{name: "a header naming enc is a 400", request: tokenReq(header(map[string]any{"alg": "HS256", "enc": "A256GCM"})), want: embedsso.ErrTokenMalformed},
		{name: "padded base64 is a 400", request: tokenReq(func(f *fixture) string { v := valid(f); return strings.Replace(v, ".", "=.", 1) }), want: embedsso.ErrTokenMalformed},
		{name: "a line break inside a segment is a 400", request: tokenReq(func(f *fixture) string { v := valid(f); return v[:20] + "%0A" + v[20:] }), want: embedsso.ErrTokenMalformed},
		{name: "standard base64 characters are a 400", request: tokenReq(func(f *fixture) string { return "+" + valid(f)[1:] }), want: embedsso.ErrTokenMalformed},
		{name: "a header that is not JSON is a 400", request: tokenReq(func(f *fixture) string { return rawToken(b64("not json"), f.claims(), secretABC) }), want: embedsso.ErrTokenMalformed},
		{name: "a payload that is not JSON is a 400", request: tokenReq(func(*fixture) string { return rawToken(hs256, b64(`{"orgId":`), secretABC) }), want: embedsso.ErrTokenMalformed},
		{name: "a payload that is a JSON array is a 400", request: tokenReq(func(*fixture) string { return rawToken(hs256, b64(`["org_abc123"]`), secretABC) }), want: embedsso.ErrTokenMalformed},
		{name: "an empty payload segment is a 400", request: tokenReq(func(*fixture) string { return rawToken(hs256, "", secretABC) }), want: embedsso.ErrTokenMalformed},
		{name: "a signature whose last character was changed without changing its bytes is a 400", request: tokenReq(func(f *fixture) string {
			return respell(valid(f))
		}), want: embedsso.ErrTokenMalformed},
		{name: "a header segment spelled with non-zero padding bits is a 400, even when signed so", request: tokenReq(func(f *fixture) string {
			return rawToken(respell(b64(`{"alg":"HS256" }`)), f.claims(), secretABC)
		}), want: embedsso.ErrTokenMalformed},
		{name: "a payload segment spelled with non-zero padding bits is a 400, even when signed so", request: tokenReq(func(f *fixture) string {
			p := b64(string(mustJSON(f.claims())))
			if len(p)%4 == 0 { // no padding bits: one more byte makes some
				p = b64(" " + string(mustJSON(f.claims())))
			}
			return rawToken(hs256, respell(p), secretABC)
		}), want: embedsso.ErrTokenMalformed},
		{name: "a header member ALG is not alg: a 400", request: tokenReq(func(f *fixture) string {
			return rawToken(b64(`{"ALG":"HS256","typ":"JWT"}`), f.claims(), secretABC)
		}), want: embedsso.ErrTokenMalformed},
		{name: "a header member that Unicode-folds to kid is a 400", request: tokenReq(func(f *fixture) string {
			return rawToken(b64(`{"alg":"HS256","\u212Aid":"x"}`), f.claims(), secretABC)
		}), want: embedsso.ErrTokenMalformed},
		{name: "a header with alg twice is a 400, not last-wins", request: tokenReq(func(f *fixture) string {
			return rawToken(b64(`{"alg":"none","alg":"HS256"}`), f.claims(), secretABC)
		}), want: embedsso.ErrTokenMalformed},
		{name: "a header with alg twice, once escaped, is a 400", request: tokenReq(func(f *fixture) string {
			return rawToken(b64(`{"alg":"none","\u0061lg":"HS256"}`), f.claims(), secretABC)
		}), want: embedsso.ErrTokenMalformed},
		{name: "a header with an unknown member twice is a 400", request: tokenReq(func(f *fixture) string {
			return rawToken(b64(`{"alg":"HS256","typ":"JWT","typ":"JWT"}`), f.claims(), secretABC)
		}), want: embedsso.ErrTokenMalformed},
		{name: "a payload member ORGID is not orgId: a 400", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, withMembers(with(f.claims(), "orgId", nil), `"ORGID":"org_abc123"`), secretABC)
		}), want: embedsso.ErrTokenMalformed},
		{name: "a payload member EMAIL is not email: a 400", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, withMembers(with(f.claims(), "email", nil), `"EMAIL":"jane@example.com"`), secretABC)
		}), want: embedsso.ErrTokenMalformed},
		{name: "a payload with orgId twice is a 400, not last-wins", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, withMembers(f.claims(), `"orgId":"org_open"`), secretABC)
		}), want: embedsso.ErrTokenMalformed},
		{name: "a payload with exp twice is a 400, not last-wins", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, withMembers(f.claims(), `"exp":1`), secretABC)
		}), want: embedsso.ErrTokenMalformed},
		{name: "a payload with email twice is a 400, not last-wins", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, withMembers(f.claims(), `"email":"mallory@example.com"`), secretABC)
		}), want: embedsso.ErrTokenMalformed},
		{name: "a signature that is not base64url is a 400", request: tokenReq(func(f *fixture) string { return valid(f)[:strings.LastIndex(valid(f), ".")] + ".A" }), want: embedsso.ErrTokenMalformed},

		// 400: orgId, judged before the signature because it picks the key.
		{name: "a missing orgId is a 400", request: claimsReq("orgId", nil), want: embedsso.ErrOrgIDInvalid},
		{name: "an empty orgId is a 400", request: claimsReq("orgId", ""), want: embedsso.ErrOrgIDInvalid},
		{name: "a numeric orgId is a 400", request: claimsReq("orgId", 123), want: embedsso.ErrOrgIDInvalid},
		{name: "an orgId with a control character is a 400", request: claimsReq("orgId", "org_abc123\n"), want: embedsso.ErrOrgIDInvalid},

		// 404, 403: the organization and the embedding site.
		{name: "an unknown organization is a 404", request: claimsReq("orgId", "org_nope"), want: embedsso.ErrOrgNotFound},
		{name: "an organization with embedding disabled is a 403", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, with(f.claims(), "orgId", "org_off"), secretOpen)
		}), want: embedsso.ErrEmbeddingDisabled},
		{name: "a Referer from another site is a 403", request: func(f *fixture) (string, map[string]string) {
			return loginURL(valid(f)), map[string]string{"Referer": "https://evil.example/page"}
		}, want: embedsso.ErrOriginNotAllowed},
		{name: "an Origin from another site is a 403 even with an allowed Referer", request: func(f *fixture) (string, map[string]string) {
			return loginURL(valid(f)), map[string]string{"Origin": "https://evil.example"}
		}, want: embedsso.ErrOriginNotAllowed},
		{name: "the allowed host on another scheme is a 403", request: func(f *fixture) (string, map[string]string) {
			return loginURL(valid(f)), map[string]string{"Referer": "http://customer.example/"}
		}, want: embedsso.ErrOriginNotAllowed},
		{name: "a lookalike host is a 403", request: func(f *fixture) (string, map[string]string) {
			return loginURL(valid(f)), map[string]string{"Referer": "https://customer.example.evil.example/"}
		}, want: embedsso.ErrOriginNotAllowed},
		{name: "a wildcard does not match its bare domain", request: func(f *fixture) (string, map[string]string) {
			return loginURL(valid(f)), map[string]string{"Referer": "https://partner.example/"}
		}, want: embedsso.ErrOriginNotAllowed},
		{name: "an opaque null Origin is a 403", request: func(f *fixture) (string, map[string]string) {
			return loginURL(valid(f)), map[string]string{"Origin": "null"}
		}, want: embedsso.ErrOriginNotAllowed},
		{name: "no Origin and no Referer with an allow-list is a 403", request: func(f *fixture) (string, map[string]string) {
			return loginURL(valid(f)), map[string]string{"Referer": ""}
		}, want: embedsso.ErrOriginMissing},

		// 401: algorithm, signature, time and replay.
		{name: "alg none with no signature is a 401", request: tokenReq(func(f *fixture) string {
			v := rawToken(map[string]any{"alg": "none", "typ": "JWT"}, f.claims(), secretABC)
			return v[:strings.LastIndex(v, ".")+1]
		}), want: embedsso.ErrAlgorithmNotAllowed},
		{name: "alg HS512 is a 401", request: tokenReq(header(map[string]any{"alg": "HS512"})), want: embedsso.ErrAlgorithmNotAllowed},
		{name: "alg RS256 is a 401", request: tokenReq(header(map[string]any{"alg": "RS256"})), want: embedsso.ErrAlgorithmNotAllowed},
		{name: "alg in lower case is a 401", request: tokenReq(header(map[string]any{"alg": "hs256"})), want: embedsso.ErrAlgorithmNotAllowed},
		{name: "a missing alg is a 401", request: tokenReq(header(map[string]any{"typ": "JWT"})), want: embedsso.ErrAlgorithmNotAllowed},
		{name: "an unknown crit extension is a 401", request: tokenReq(header(map[string]any{"alg": "HS256", "crit": []string{"exp"}, "exp": 1})), want: embedsso.ErrAlgorithmNotAllowed},
		{name: "b64 false under crit is a 401", request: tokenReq(header(map[string]any{"alg": "HS256", "crit": []string{"b64"}, "b64": false})), want: embedsso.ErrAlgorithmNotAllowed},
		{name: "a tampered payload is a 401", request: tokenReq(func(f *fixture) string {
			good := strings.Split(valid(f), ".")
			forged := strings.Split(rawToken(hs256, with(f.claims(), "role", "ADMIN"), secretABC), ".")
			return good[0] + "." + forged[1] + "." + good[2]
		}), want: embedsso.ErrSignatureInvalid},
		{name: "a truncated signature is a 401", request: tokenReq(func(f *fixture) string { v := valid(f); return v[:len(v)-4] }), want: embedsso.ErrSignatureInvalid},
		{name: "a token signed with another organization's secret is a 401", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, f.claims(), secretOpen)
		}), want: embedsso.ErrSignatureInvalid},
		{name: "the secret's base64 decoding as key is a 401", request: tokenReq(func(f *fixture) string {
			k, _ := base64.RawURLEncoding.DecodeString(secretABC)
			return rawToken(hs256, f.claims(), string(k))
		}), want: embedsso.ErrSignatureInvalid},
		{name: "a kid naming no secret is a 401", request: tokenReq(func(f *fixture) string {
			return rawToken(map[string]any{"alg": "HS256", "kid": "gone"}, with(f.claims(), "orgId", "org_rotating", "role", nil), secretNew)
		}), want: embedsso.ErrSignatureInvalid},
		{name: "a kid naming the other rotation secret is a 401", request: tokenReq(func(f *fixture) string {
			return rawToken(map[string]any{"alg": "HS256", "kid": "old"}, with(f.claims(), "orgId", "org_rotating", "role", nil), secretNew)
		}), want: embedsso.ErrSignatureInvalid},
		{name: "a missing exp is a 401", request: claimsReq("exp", nil), want: embedsso.ErrTokenExpired},
		{name: "an exp past the leeway is a 401", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, with(f.claims(), "iat", f.now.Add(-10*time.Minute).Unix(), "exp", f.now.Add(-31*time.Second).Unix()), secretABC)
		}), want: embedsso.ErrTokenExpired},
		{name: "an nbf in the future is a 401", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, with(f.claims(), "nbf", f.now.Add(time.Minute).Unix()), secretABC)
		}), want: embedsso.ErrTokenNotYetValid},
		{name: "an iat in the future is a 401", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, with(f.claims(), "iat", f.now.Add(time.Minute).Unix(), "exp", f.now.Add(5*time.Minute).Unix()), secretABC)
		}), want: embedsso.ErrTokenNotYetValid},
		{name: "a lifetime over ten minutes is a 401", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, with(f.claims(), "exp", f.now.Add(10*time.Minute+time.Second).Unix()), secretABC)
		}), want: embedsso.ErrTokenLifetimeTooLong},
		{name: "a long lifetime without iat is a 401", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, with(f.claims(), "iat", nil, "exp", f.now.Add(24*time.Hour).Unix()), secretABC)
		}), want: embedsso.ErrTokenLifetimeTooLong},
		{name: "a token without jti is a 401 when jti is required", request: tokenReq(valid),
			opts: []fixtureOption{func(c *embedsso.Config) { c.RequireTokenID = true }}, want: embedsso.ErrTokenIDRequired},

		// The same refusals for tokens from the library's own Signer.
		{name: "a Signer token minted an hour ago is a 401", request: signerReq(secretABC, "", -time.Hour, 0), want: embedsso.ErrTokenExpired},
		{name: "a Signer token valid for an hour is a 401", request: signerReq(secretABC, "", 0, time.Hour), want: embedsso.ErrTokenLifetimeTooLong},
		{name: "a Signer token under another org's secret is a 401", request: signerReq(secretOpen, "", 0, 0), want: embedsso.ErrSignatureInvalid},
		{name: "a Signer token with an unknown kid is a 401", request: signerReq(secretABC, "k9", 0, 0), want: embedsso.ErrSignatureInvalid},

		// 400 after the signature verified: the user's details.
		{name: "a missing email is a 400", request: claimsReq("email", nil), want: embedsso.ErrClaimsInvalid},
		{name: "an email without @ is a 400", request: claimsReq("email", "jane.example.com"), want: embedsso.ErrClaimsInvalid},
		{name: "an email with a display name is a 400", request: claimsReq("email", "Jane <jane@example.com>"), want: embedsso.ErrClaimsInvalid},
		{name: "an email with a newline is a 400", request: claimsReq("email", "jane@example.com\nX-Injected: 1"), want: embedsso.ErrClaimsInvalid},
		{name: "an email with a NUL is a 400", request: claimsReq("email", "jane\x00@example.com"), want: embedsso.ErrClaimsInvalid},
		{name: "an email over 254 bytes is a 400", request: claimsReq("email", strings.Repeat("a", 250)+"@example.com"), want: embedsso.ErrClaimsInvalid},
		{name: "an email of the wrong type is a 400", request: claimsReq("email", []string{"jane@example.com"}), want: embedsso.ErrClaimsInvalid},
		{name: "an email with a fullwidth domain is a 400, not mapped to ASCII", request: claimsReq("email", "jane@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com"), want: embedsso.ErrClaimsInvalid},
		{name: "an email with a KELVIN SIGN in the domain is a 400", request: claimsReq("email", "kate@\u212Aexample.com"), want: embedsso.ErrClaimsInvalid},
		{name: "an email with non-ASCII capitals in the domain is a 400", request: claimsReq("email", "jane@B\u00dcCHER.example"), want: embedsso.ErrClaimsInvalid},
		{name: "an email with a capital sharp s in the domain is a 400", request: claimsReq("email", "jane@stra\u1E9Ee.de"), want: embedsso.ErrClaimsInvalid},
		{name: "an email with an underscore in the domain is a 400", request: claimsReq("email", "jane@exa_mple.com"), want: embedsso.ErrClaimsInvalid},
		{name: "an email with a no-break space is a 400", request: claimsReq("email", "ja\u00a0ne@example.com"), want: embedsso.ErrClaimsInvalid},
		{name: "a role the organization does not have is a 400", request: claimsReq("role", "OWNER"), want: embedsso.ErrRoleNotAllowed},
		{name: "a missing role when the organization lists roles is a 400", request: claimsReq("role", nil), want: embedsso.ErrRoleNotAllowed},
		{name: "a role of the wrong type is a 400", request: claimsReq("role", true), want: embedsso.ErrClaimsInvalid},
		{name: "a firstName over 256 bytes is a 400", request: claimsReq("firstName", strings.Repeat("J", 257)), want: embedsso.ErrClaimsInvalid},
		{name: "a lastName with a right-to-left override is a 400", request: claimsReq("lastName", "Doe\u202e"), want: embedsso.ErrClaimsInvalid},
		{name: "a lastName with a control character is a 400", request: claimsReq("lastName", "Do\x1be"), want: embedsso.ErrClaimsInvalid},
		{name: "a firstName that is an object is a 400", request: claimsReq("firstName", map[string]any{"x": 1}), want: embedsso.ErrClaimsInvalid},
		{name: "an exp that is a string is a 400", request: claimsReq("exp", "1800000600"), want: embedsso.ErrClaimsInvalid},
		{name: "an absurd exp is a 400", request: claimsReq("exp", 1e300), want: embedsso.ErrClaimsInvalid},
		{name: "a jti that is a number is a 400", request: claimsReq("jti", 7), want: embedsso.ErrClaimsInvalid},
		{name: "a return_to on another site is a 400", request: func(f *fixture) (string, map[string]string) {
			return loginURL(valid(f)) + "&return_to=" + url.QueryEscape("https://evil.example/"), nil
		}, want: embedsso.ErrReturnToInvalid},
		{name: "a protocol-relative return_to is a 400", request: func(f *fixture) (string, map[string]string) {
			return loginURL(valid(f)) + "&return_to=" + url.QueryEscape("//evil.example/x"), nil
		}, want: embedsso.ErrReturnToInvalid},
		{name: "a backslash return_to is a 400", request: func(f *fixture) (string, map[string]string) {
			return loginURL(valid(f)) + "&return_to=" + url.QueryEscape(`/\evil.example`), nil
		}, want: embedsso.ErrReturnToInvalid},
		{name: "a return_to that is //evil.example after dot-segment removal is a 400", request: returnToReq("/.//evil.example"), want: embedsso.ErrReturnToInvalid},
		{name: "a return_to climbing to //evil.example is a 400", request: returnToReq("/..//evil.example"), want: embedsso.ErrReturnToInvalid},
		{name: "a return_to with percent-encoded dot segments is a 400", request: returnToReq("/%2e%2e//evil"), want: embedsso.ErrReturnToInvalid},
		{name: "a return_to whose decoding starts with // is a 400", request: returnToReq("/%2F%2Fevil.example"), want: embedsso.ErrReturnToInvalid},
		{name: "a javascript return_to is a 400", request: func(f *fixture) (string, map[string]string) {
			return loginURL(valid(f)) + "&return_to=" + url.QueryEscape("javascript:alert(1)"), nil
		}, want: embedsso.ErrReturnToInvalid},

		// 500: configuration that would weaken the check.
		{name: "a secret shorter than 32 bytes is a 500", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, with(f.claims(), "orgId", "org_weak"), "too-short-16byte")
		}), want: embedsso.ErrOrgMisconfigured},
		{name: "a dashboard URL on another site is a 500, never a Location", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, with(f.claims(), "orgId", "org_phish"), secretOpen)
		}), want: embedsso.ErrOrgMisconfigured},
		{name: "a javascript dashboard URL is a 500, never a Location", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, with(f.claims(), "orgId", "org_jsdash"), secretOpen)
		}), want: embedsso.ErrOrgMisconfigured},
		{name: "a dashboard URL that dot segments take to another site is a 500", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, with(f.claims(), "orgId", "org_dotdash"), secretOpen)
		}), want: embedsso.ErrOrgMisconfigured},
		{name: "a malformed allowed origin is a 500", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, with(f.claims(), "orgId", "org_badlist"), secretOpen)
		}), want: embedsso.ErrOrgMisconfigured},

		// Attributes and groups: judged after the signature, refused whole.
		{name: "an attribute name outside the safe pattern is a 400", request: claimsReq("bad name", "x"), want: embedsso.ErrClaimsInvalid},
		{name: "an attribute name starting with a digit is a 400", request: claimsReq("1st", "x"), want: embedsso.ErrClaimsInvalid},
		{name: "a nested object attribute is a 400", request: claimsReq("team", map[string]any{"id": 1}), want: embedsso.ErrClaimsInvalid},
		{name: "an array attribute is a 400", request: claimsReq("regions", []string{"eu"}), want: embedsso.ErrClaimsInvalid},
		{name: "a null attribute is a 400", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, b64(strings.TrimSuffix(string(mustJSON(f.claims())), "}")+`,"region":null}`), secretABC)
		}), want: embedsso.ErrClaimsInvalid},
		{name: "an attribute over 1 KiB is a 400", request: claimsReq("note", strings.Repeat("n", 1025)), want: embedsso.ErrClaimsInvalid},
		{name: "an attribute with a control character is a 400", request: claimsReq("note", "a\u0000b"), want: embedsso.ErrClaimsInvalid},
		{name: "51 attributes are a 400", request: tokenReq(func(f *fixture) string {
			c := f.claims()
			for i := range 51 {
				c[fmt.Sprintf("attr%d", i)] = i
			}
			return rawToken(hs256, c, secretABC)
		}), want: embedsso.ErrClaimsInvalid},
		{name: "groups that are not an array of strings are a 400", request: claimsReq("groups", "analysts"), want: embedsso.ErrClaimsInvalid},
		{name: "a group that is not a string is a 400", request: claimsReq("groups", []any{"analysts", 7}), want: embedsso.ErrClaimsInvalid},
		{name: "an empty group name is a 400", request: claimsReq("groups", []string{" "}), want: embedsso.ErrClaimsInvalid},
		{name: "a group the organization does not list is a 400", request: tokenReq(func(f *fixture) string {
			return rawToken(hs256, with(f.claims(), "orgId", "org_groups", "groups", []string{"analysts", "admins"}), secretOpen)
		}), want: embedsso.ErrGroupNotAllowed},

		{name: "a POST is a 405", method: "POST", request: claimsReq(), want: embedsso.ErrMethodNotAllowed},
		{name: "a HEAD is a 405 and spends nothing", method: "HEAD", request: claimsReq("jti", "head-1"), want: embedsso.ErrMethodNotAllowed},
	}
}

func TestHandlerRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range refusals() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.opts...)
			target, headers := tc.request(f)
			w := f.do(tc.method, target, headers)

			res := w.Result()
			assert.Equal(t, tc.want.Status(), res.StatusCode)
			assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
			assert.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))
			assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
			assert.Empty(t, res.Header.Get("Location"))
			assert.Empty(t, res.Header.Values("Set-Cookie"))
			body := w.Body.String()
			assert.Contains(t, body, "Error "+res.Status[:3])
			assert.Contains(t, body, "code: "+string(tc.want))
			assert.Equal(t, wantFrameAncestors(target, tc.want), res.Header.Get("Content-Security-Policy"),
				"every answer carries a frame-ancestors CSP: 'none' until the organization is known and allowed to embed")
			if tok := tokenOf(target); len(tok) > 8 {
				// No piece of the token (its signature segment, say) may be echoed.
				for _, seg := range strings.Split(tok, ".") {
					if len(seg) > 8 {
						assert.NotContains(t, body, seg)
					}
				}
			}

			ev := f.lastEvent(t)
			assert.False(t, ev.Success)
			require.NotNil(t, ev.Err)
			assert.True(t, errors.Is(ev.Err, tc.want), "got %v, want %s", ev.Err, tc.want)
			assert.Equal(t, embedsso.EventRefused, ev.Kind)
			f.assertNothingWritten(t)
		})
	}
}

// respell changes the last character of a base64url segment so that it
// decodes to the same bytes: only the padding bits, which a canonical
// encoding leaves zero, differ.
func respell(token string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.LastIndexAny(token, ".") + 1
	if (len(token)-last)%4 == 0 {
		panic("respell: the segment has no padding bits")
	}
	i := strings.IndexByte(alphabet, token[len(token)-1])
	return token[:len(token)-1] + string(alphabet[i^1])
}

// withMembers returns claims as a base64url JSON segment with raw members
// put first, so that encoding/json, which keeps the last of two, would read
// the valid one.
func withMembers(claims map[string]any, raw string) string {
	b := mustJSON(claims)
	return b64("{" + raw + "," + string(b[1:]))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func tokenOf(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return ""
	}
	return u.Query().Get("jwt")
}

// wantFrameAncestors is the CSP a refusal must carry: the organization's
// allow-list once the handler knows an organization that may embed, and
// 'none' before that (malformed requests, unknown, disabled or misconfigured
// organizations).
func wantFrameAncestors(target string, k embedsso.Kind) string {
	switch k {
	case embedsso.ErrTokenMissing, embedsso.ErrTokenTooLarge, embedsso.ErrTokenMalformed, embedsso.ErrOrgIDInvalid,
		embedsso.ErrAlgorithmNotAllowed, embedsso.ErrOrgNotFound, embedsso.ErrEmbeddingDisabled, embedsso.ErrMethodNotAllowed:
		return "frame-ancestors 'none'"
	}
	var c struct {
		OrgID string `json:"orgId"`
	}
	if parts := strings.Split(tokenOf(target), "."); len(parts) == 3 {
		if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			_ = json.Unmarshal(b, &c)
		}
	}
	for _, o := range append(testOrgs(), misconfiguredOrgs()...) {
		if o.ID == c.OrgID && o.ID == "org_badlist" {
			return "frame-ancestors 'none'" // its allow-list does not parse: framed by no one
		}
		if o.ID == c.OrgID {
			if len(o.AllowedOrigins) == 0 {
				return "frame-ancestors *"
			}
			return "frame-ancestors 'self' " + strings.Join(o.AllowedOrigins, " ")
		}
	}
	return "unknown organization " + c.OrgID
}
