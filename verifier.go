package embedsso

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/embedsso/embedsso/internal/jwt"
	"reflect"
	"strings"
	"time"
)

// minSecretBytes is RFC 7518 §3.2's floor for an HS256 key: a key shorter
// than the hash output makes the MAC only as strong as the key.
const minSecretBytes = 32

// parsedToken is a compact JWS split and decoded but not yet verified. Only
// its OrgID may be trusted before [verifier.verify] succeeds, and only to
// choose the key.
type parsedToken struct {
	signingInput string // header "." payload, exactly as received
	payload      []byte // the claims' JSON, decoded once for every reader
	signature    []byte
	header       tokenHeader
	claims       tokenClaims
	// claimsErr is a type error in a claim other than orgId. It is reported
	// only once the signature verifies, so an unsigned payload tells an
	// attacker nothing about our validation.
	claimsErr error
}

// headerMembers and claimMembers are the names json.Unmarshal fills in
// tokenHeader and tokenClaims, read from their struct tags.
var (
	headerMembers = jwt.Names(reflect.TypeFor[tokenHeader]())
	claimMembers  = jwt.Names(reflect.TypeFor[tokenClaims]())
)

type tokenHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Enc  string          `json:"enc"`
	Crit json.RawMessage `json:"crit"`
}

// verifier checks embedding tokens. It is immutable and safe for concurrent use.
type verifier struct {
	macs  jwt.MACs // HS256 keyed once per secret
	rules func() timeRules
}

func newVerifier(rules func() timeRules) *verifier {
	return &verifier{rules: rules}
}

// parse splits raw and decodes its header and claims. It rejects with 400
// anything that is not a compact JWS, and with 401 any algorithm but HS256 or
// any crit extension, before a store is consulted.
func parse(raw string) (*parsedToken, error) {
	for i := 0; i < len(raw); i++ {
		if !jwt.CompactChars[raw[i]] {
			return nil, ErrTokenMalformed.because(fmt.Errorf("byte %d is not base64url", i))
		}
	}
	h, rest, ok1 := strings.Cut(raw, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s, ".") {
		if strings.Count(raw, ".") == 4 {
			return nil, ErrTokenMalformed.becauseText("a JWE (encrypted token) is not accepted")
		}
		return nil, ErrTokenMalformed.becauseText("not three dot-separated segments")
	}
	t := &parsedToken{signingInput: raw[:len(h)+1+len(p)]}
	if known, ok := commonHeaders[h]; ok {
		t.header = known
	} else if _, err := jwt.DecodeSegment(h, &t.header, headerMembers); err != nil {
		return nil, ErrTokenMalformed.because(fmt.Errorf("header: %w", err))
	}
	if t.header.Enc != "" {
		return nil, ErrTokenMalformed.becauseText("a JWE (encrypted token) is not accepted")
	}
	// The algorithm is pinned, never taken from the header: this is where
	// "none", HS512, RS256 and friends stop.
	if t.header.Alg != "HS256" {
		return nil, ErrAlgorithmNotAllowed.because(fmt.Errorf("alg %q", truncate(t.header.Alg, 16)))
	}
	if t.header.Crit != nil {
		return nil, ErrAlgorithmNotAllowed.becauseText("crit header names extensions this verifier does not implement")
	}
	payload, err := jwt.DecodeSegment(p, &t.claims, claimMembers)
	t.payload = payload
	if err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field == "orgId":
			return nil, ErrOrgIDInvalid.becauseText("orgId is not a string")
		case errors.As(err, &te) && te.Field != "":
			t.claimsErr = ErrClaimsInvalid.because(fmt.Errorf("claim %s: wrong type", te.Field))
		default:
			return nil, ErrTokenMalformed.because(fmt.Errorf("payload: %w", err))
		}
	}
	if t.claims.OrgID == "" {
		return nil, ErrOrgIDInvalid.becauseText("orgId missing or empty")
	}
	if err := checkText("orgId", t.claims.OrgID, maxNameBytes); err != nil {
		return nil, ErrOrgIDInvalid.because(err)
	}
	sig, err := jwt.SegmentEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrTokenMalformed.because(fmt.Errorf("signature: %w", err))
	}
	t.signature = sig
	return t, nil
}

// verify checks t's signature under org's secrets, then the type errors
// parse held back, then the time claims. On success the claims may be trusted.
func (v *verifier) verify(t *parsedToken, org *Org) error {
	if err := checkSecrets(org); err != nil {
		return err
	}
	rules := v.rules()
	if !v.signatureMatches(t, org, rules.now) {
		if t.header.Kid != "" {
			return ErrSignatureInvalid.becauseText("signature does not verify under the secret the kid names")
		}
		return ErrSignatureInvalid.becauseText("signature does not verify under any of the organization's secrets")
	}
	// A claim of the wrong type (a string exp, say) is a malformed claim,
	// not a missing one: report it before the time checks misread it.
	if t.claimsErr != nil {
		return t.claimsErr
	}
	return t.claims.checkTimes(rules)
}

func (v *verifier) signatureMatches(t *parsedToken, org *Org, now time.Time) bool {
	input := []byte(t.signingInput)
	for _, sec := range org.Secrets {
		// A secret past its grace period is skipped even if a store still
		// holds it: it is gone for the handler the moment it expires.
		if sec.expired(now) || t.header.Kid != "" && sec.KeyID != t.header.Kid {
			continue
		}
		if v.macs.Verify(sec.Value, input, t.signature) {
			return true
		}
	}
	return false
}

// checkSecrets refuses an organization whose keys are unusable rather than
// verify with a weak one.
func checkSecrets(org *Org) error {
	if len(org.Secrets) == 0 {
		return ErrOrgMisconfigured.becauseText("organization has no JWT secret")
	}
	if err := weakSecret(org); err != nil {
		return ErrOrgMisconfigured.because(err)
	}
	return nil
}

// commonHeaders holds the headers that HS256 signers send, by their exact
// segment, decoded at start-up by the same jwt.DecodeSegment as any other
// header, so a token from jsonwebtoken, jose, PyJWT, golang-jwt or signer.Signer
// skips a base64 pass and a json.Unmarshal per login. A header with any other
// spelling takes the general path; both end in the same checks below.
var commonHeaders = func() map[string]tokenHeader {
	m := make(map[string]tokenHeader)
	for _, text := range []string{
		`{"alg":"HS256","typ":"JWT"}`, // jsonwebtoken, PyJWT, golang-jwt, signer.Signer
		`{"typ":"JWT","alg":"HS256"}`,
		`{"alg":"HS256"}`, // jose's SignJWT with only alg set
	} {
		seg := base64.RawURLEncoding.EncodeToString([]byte(text))
		var h tokenHeader
		if _, err := jwt.DecodeSegment(seg, &h, headerMembers); err != nil {
			panic("embedsso: common header " + text + ": " + err.Error())
		}
		m[seg] = h
	}
	return m
}()

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
