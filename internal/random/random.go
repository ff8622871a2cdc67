// Package random makes the random strings the module hands out: secrets and
// token ids.
package random

import (
	"crypto/rand"
	"encoding/base64"
)

// Base64URL returns n random bytes in unpadded base64url.
func Base64URL(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}
