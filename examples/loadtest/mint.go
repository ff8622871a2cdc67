package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"hash"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// loadOrg is the one organization every server under test knows.
type loadOrg struct {
	id, secret string
	// origin is the embedding page's origin, sent as the Origin header.
	origin string
}

func newLoadOrg() loadOrg {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return loadOrg{id: "org_load", secret: base64.RawURLEncoding.EncodeToString(b), origin: "https://customer.example"}
}

// writeFile writes the example server's -orgs file (its field names are that
// command's contract) and returns its path.
func (o loadOrg) writeFile(dir string) (string, error) {
	b, err := json.Marshal([]map[string]any{{
		"id": o.id, "embeddingEnabled": true, "jwtSecrets": []string{o.secret},
		"allowedOrigins": []string{o.origin}, "allowedRoles": []string{"MEMBER"}, "dashboardUrl": "/dashboard",
	}})
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "orgs.json")
	return p, os.WriteFile(p, b, 0o600)
}

// minter signs tokens like the reference's customer server does: HS256,
// typ JWT, the reference's claims plus a jti (so each token logs in once).
// It is written out with crypto/hmac rather than taken from the library so
// that the clients, which share the machine with the server, spend as
// little as possible. One per client: it is not safe for concurrent use.
type minter struct {
	org loadOrg
	mac hash.Hash
	buf []byte
}

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

func newMinter(org loadOrg) *minter {
	return &minter{org: org, mac: hmac.New(sha256.New, []byte(org.secret))}
}

// token returns a token for email, valid for ten minutes from now.
func (m *minter) token(email string, now time.Time) string {
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	p := append(m.buf[:0], `{"email":`...)
	p = strconv.AppendQuote(p, email)
	p = append(p, `,"orgId":`...)
	p = strconv.AppendQuote(p, m.org.id)
	p = append(p, `,"firstName":"Load","lastName":"Test","role":"MEMBER","jti":"`...)
	p = base64.RawURLEncoding.AppendEncode(p, jti[:])
	p = append(p, `","iat":`...)
	p = strconv.AppendInt(p, now.Unix(), 10)
	p = append(p, `,"exp":`...)
	p = strconv.AppendInt(p, now.Add(10*time.Minute).Unix(), 10)
	p = append(p, '}')
	m.buf = p

	tok := make([]byte, 0, len(jwtHeader)+1+base64.RawURLEncoding.EncodedLen(len(p))+1+43)
	tok = append(tok, jwtHeader...)
	tok = append(tok, '.')
	tok = base64.RawURLEncoding.AppendEncode(tok, p)
	m.mac.Reset()
	m.mac.Write(tok)
	tok = append(tok, '.')
	tok = base64.RawURLEncoding.AppendEncode(tok, m.mac.Sum(nil))
	return string(tok)
}
