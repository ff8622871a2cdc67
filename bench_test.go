package embedsso

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// The benchmarks compare the library with a hand-written floor measured in
// the same run: the least any HS256 login handler must do. Run them with
//
//	go test -run '^$' -bench . -benchmem -count 6 | tee new.txt && benchstat new.txt

const benchSecret = "q3Jv9xPpA1mS7cT0bW2eY5uK8hN4dF6gL1zR0sV3wXa"

var benchNow = time.Unix(1_800_000_000, 0)

func benchOrg() Org {
	return Org{ID: "org_abc123", EmbeddingEnabled: true, Secrets: []Secret{{Value: benchSecret}},
		AllowedOrigins: []string{"https://customer.example"}, AllowedRoles: []string{"ADMIN", "MEMBER", "VIEWER"}, DashboardURL: "/dashboard"}
}

// BenchToken is the reference's token: the seven claims, HS256, typ JWT, as
// signer.Signer mints it for the bench org at benchNow
// (TestBenchTokenIsTheSignersToken checks that). It is a literal because
// this package's own tests cannot import the signer, which imports it.
// Exported for the external tests, as an export_test.go would.
const BenchToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." +
	"eyJlbWFpbCI6ImphbmVAZXhhbXBsZS5jb20iLCJleHAiOjE4MDAwMDA2MDAsImZpcnN0TmFtZSI6IkphbmUiLCJpYXQiOjE4MDAwMDAwMDAsImxhc3ROYW1lIjoiRG9lIiwib3JnSWQiOiJvcmdfYWJjMTIzIiwicm9sZSI6Ik1FTUJFUiJ9." +
	"iC-YuBW9dlxFZvBYRzXjFADLmrf_0aEYt4kwly4HpBA"

// benchToken returns BenchToken.
func benchToken(testing.TB) string { return BenchToken }

// For the benchmarks of package embedsso_test (bench_handler_test.go), which
// build their handler over package memstore, as an export_test.go would.
var (
	BenchOrg    = benchOrg
	BenchNow    = benchNow
	FloorVerify = floorVerify
	BenchSecret = benchSecret
)

// floorClaims and floorVerify are the floor: split, base64url-decode, check
// alg, HMAC-SHA256-verify, decode the claims into a struct, check exp.
type floorClaims struct {
	Email, OrgID, FirstName, LastName, Role string
	Exp, Iat                                int64
}

func floorVerify(tok string, key []byte, now time.Time) (*floorClaims, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, false
	}
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, false
	}
	var h struct{ Alg string }
	if json.Unmarshal(hdr, &h) != nil || h.Alg != "HS256" {
		return nil, false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(tok[:len(parts[0])+1+len(parts[1])]))
	if !hmac.Equal(sig, m.Sum(nil)) {
		return nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var c floorClaims
	if json.Unmarshal(payload, &c) != nil || c.Exp <= now.Unix() {
		return nil, false
	}
	return &c, true
}

func BenchmarkVerify(b *testing.B) {
	tok := benchToken(b)
	org := benchOrg()
	key := []byte(benchSecret)

	b.Run("floor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := floorVerify(tok, key, benchNow); !ok {
				b.Fatal("floor refused a valid token")
			}
		}
	})
	b.Run("embedsso", func(b *testing.B) {
		v := newVerifier(func() timeRules {
			return timeRules{now: benchNow, leeway: 30 * time.Second, maxLifetime: 10 * time.Minute}
		})
		b.ReportAllocs()
		for b.Loop() {
			t, err := parse(tok)
			if err == nil {
				err = v.verify(t, &org)
			}
			if err == nil {
				_, err = t.claims.profile(&org)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jwx-jws.Verify+json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			payload, err := jws.Verify([]byte(tok), jws.WithKey(jwa.HS256, key))
			if err != nil {
				b.Fatal(err)
			}
			var c floorClaims
			if err := json.Unmarshal(payload, &c); err != nil || c.Exp <= benchNow.Unix() {
				b.Fatal("claims")
			}
		}
	})
	b.Run("jwx-jwt.Parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jwt.Parse([]byte(tok), jwt.WithKey(jwa.HS256, key), jwt.WithClock(jwt.ClockFunc(func() time.Time { return benchNow }))); err != nil {
				b.Fatal(err)
			}
		}
	})
}
