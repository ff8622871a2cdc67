package signer_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/embedsso/embedsso/signer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secret = "q3Jv9xPpA1mS7cT0bW2eY5uK8hN4dF6gL1zR0sV3wXa"

var now = time.Unix(1_800_000_000, 0)

// open checks tok's HS256 signature under key by hand (sharing no code with
// jwx) and returns its decoded header and claims.
func open(t *testing.T, tok, key string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	require.True(t, hmac.Equal(sig, m.Sum(nil)), "signature")
	for i, v := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		d := json.NewDecoder(strings.NewReader(string(b)))
		d.UseNumber()
		require.NoError(t, d.Decode(v))
	}
	return header, claims
}

func TestSign(t *testing.T) {
	t.Parallel()
	clock := func() time.Time { return now }
	jane := signer.Claims{Email: "jane@example.com", OrgID: "org_abc123", FirstName: "Jane", LastName: "Doe", Role: "MEMBER"}
	for _, tc := range []struct {
		name       string
		signer     signer.Signer
		claims     signer.Claims
		wantHeader map[string]any
		want       map[string]any // claims besides jti
		wantJTI    bool
	}{
		{name: "the reference's token: seven claims, HS256, typ JWT, ten minutes",
			signer: signer.Signer{Secret: secret, Now: clock}, claims: jane,
			wantHeader: map[string]any{"alg": "HS256", "typ": "JWT"},
			want: map[string]any{"email": "jane@example.com", "orgId": "org_abc123", "firstName": "Jane", "lastName": "Doe",
				"role": "MEMBER", "iat": json.Number("1800000000"), "exp": json.Number("1800000600")}},
		{name: "a key id goes into the header as kid",
			signer: signer.Signer{Secret: secret, KeyID: "k2", Now: clock}, claims: signer.Claims{Email: "a@b.example", OrgID: "o"},
			wantHeader: map[string]any{"alg": "HS256", "typ": "JWT", "kid": "k2"},
			want:       map[string]any{"email": "a@b.example", "orgId": "o", "iat": json.Number("1800000000"), "exp": json.Number("1800000600")}},
		{name: "TTL sets exp, and the clock is truncated to the second",
			signer:     signer.Signer{Secret: secret, TTL: time.Minute, Now: func() time.Time { return now.Add(900 * time.Millisecond) }},
			claims:     signer.Claims{Email: "a@b.example", OrgID: "o"},
			wantHeader: map[string]any{"alg": "HS256", "typ": "JWT"},
			want:       map[string]any{"email": "a@b.example", "orgId": "o", "iat": json.Number("1800000000"), "exp": json.Number("1800000060")}},
		{name: "times already set are kept, nbf included",
			signer:     signer.Signer{Secret: secret, Now: clock},
			claims:     signer.Claims{Email: "a@b.example", OrgID: "o", IssuedAt: 5, ExpiresAt: 65, NotBefore: 6},
			wantHeader: map[string]any{"alg": "HS256", "typ": "JWT"},
			want:       map[string]any{"email": "a@b.example", "orgId": "o", "iat": json.Number("5"), "exp": json.Number("65"), "nbf": json.Number("6")}},
		{name: "TokenID adds a random jti",
			signer: signer.Signer{Secret: secret, TokenID: true, Now: clock}, claims: signer.Claims{Email: "a@b.example", OrgID: "o"},
			wantHeader: map[string]any{"alg": "HS256", "typ": "JWT"},
			want:       map[string]any{"email": "a@b.example", "orgId": "o", "iat": json.Number("1800000000"), "exp": json.Number("1800000600")},
			wantJTI:    true},
		{name: "a jti the claims carry is kept",
			signer: signer.Signer{Secret: secret, TokenID: true, Now: clock}, claims: signer.Claims{Email: "a@b.example", OrgID: "o", TokenID: "mine"},
			wantHeader: map[string]any{"alg": "HS256", "typ": "JWT"},
			want:       map[string]any{"email": "a@b.example", "orgId": "o", "jti": "mine", "iat": json.Number("1800000000"), "exp": json.Number("1800000600")}},
		{name: "attributes and groups are claims of their own",
			signer:     signer.Signer{Secret: secret, Now: clock},
			claims:     signer.Claims{Email: "a@b.example", OrgID: "o", Attributes: map[string]any{"region": "eu"}, Groups: []string{"finance"}},
			wantHeader: map[string]any{"alg": "HS256", "typ": "JWT"},
			want: map[string]any{"email": "a@b.example", "orgId": "o", "region": "eu", "groups": []any{"finance"},
				"iat": json.Number("1800000000"), "exp": json.Number("1800000600")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, err := tc.signer.Sign(tc.claims)
			require.NoError(t, err)
			header, claims := open(t, tok, secret)
			assert.Equal(t, tc.wantHeader, header)
			jti, hasJTI := claims["jti"].(string)
			if tc.wantJTI {
				require.True(t, hasJTI)
				assert.Len(t, jti, 22)
				delete(claims, "jti")
			}
			assert.Equal(t, tc.want, claims)
		})
	}
}

func TestSignRefuses(t *testing.T) {
	t.Parallel()
	ok := signer.Claims{Email: "a@b.example", OrgID: "o"}
	for _, tc := range []struct {
		name    string
		secret  string
		claims  signer.Claims
		wantErr string
	}{
		{name: "a secret under 32 bytes", secret: secret[:31], claims: ok, wantErr: "embedsso: secret is 31 bytes; HS256 needs at least 32"},
		{name: "no org id", secret: secret, claims: signer.Claims{Email: "a@b.example"}, wantErr: "embedsso: Claims.OrgID and Claims.Email are required"},
		{name: "no email", secret: secret, claims: signer.Claims{OrgID: "o"}, wantErr: "embedsso: Claims.OrgID and Claims.Email are required"},
		{name: "a reserved claim as an attribute", secret: secret,
			claims: signer.Claims{Email: "a@b.example", OrgID: "o", Attributes: map[string]any{"exp": 1}}, wantErr: `embedsso: "exp" cannot be an attribute name`},
		{name: "groups as an attribute", secret: secret,
			claims: signer.Claims{Email: "a@b.example", OrgID: "o", Attributes: map[string]any{"groups": "x"}}, wantErr: `embedsso: "groups" cannot be an attribute name`},
		{name: "an attribute name with a space", secret: secret,
			claims: signer.Claims{Email: "a@b.example", OrgID: "o", Attributes: map[string]any{"bad name": "x"}}, wantErr: `embedsso: "bad name" cannot be an attribute name`},
		{name: "an attribute name of 65 characters", secret: secret,
			claims: signer.Claims{Email: "a@b.example", OrgID: "o", Attributes: map[string]any{"a" + strings.Repeat("b", 64): "x"}}, wantErr: "cannot be an attribute name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, err := signer.Signer{Secret: tc.secret}.Sign(tc.claims)
			assert.ErrorContains(t, err, tc.wantErr)
			assert.Empty(t, tok)
		})
	}
}

func TestGenerateSecretAndNewTokenID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		make func() string
		len  int
	}{
		{name: "a secret is 32 random bytes in 43 base64url characters", make: signer.GenerateSecret, len: 43},
		{name: "a token id is 16 random bytes in 22 base64url characters", make: signer.NewTokenID, len: 22},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			seen := map[string]bool{}
			for range 100 {
				s := tc.make()
				assert.Len(t, s, tc.len)
				_, err := base64.RawURLEncoding.DecodeString(s)
				assert.NoError(t, err)
				assert.False(t, seen[s], "repeated %q", s)
				seen[s] = true
			}
		})
	}
}
