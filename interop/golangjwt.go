// Package interop holds the customer-side signers embedsso is tested
// against: Node's jsonwebtoken and jose (node/), Python's PyJWT (python/),
// and Go's golang-jwt (this file). Each is the snippet the
// embedding guide (docs/embedding.md) shows; the tests run them and send what they mint through
// the real handler.
package interop

import (
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// User is who the customer's server signs in.
type User struct{ Email, FirstName, LastName string }

// SignWithGolangJWT mints the embedding token with golang-jwt/jwt/v5, as a
// customer's Go server would without embedsso's own Signer.
func SignWithGolangJWT(secret, orgID string, user User) (string, error) {
	now := time.Now()
	token := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"email":     user.Email,
		"orgId":     orgID,
		"firstName": user.FirstName,
		"lastName":  user.LastName,
		"role":      "MEMBER",
		"iat":       now.Unix(),
		"exp":       now.Add(10 * time.Minute).Unix(),
	})
	return token.SignedString([]byte(secret))
}
