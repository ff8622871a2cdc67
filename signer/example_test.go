package signer_test

import (
	"fmt"
	"log"
	"time"

	"github.com/embedsso/embedsso/signer"
)

// On the customer's server: mint the token the iframe URL carries.
func ExampleSigner_Sign() {
	s := signer.Signer{
		Secret: "q3Jv9xPpA1mS7cT0bW2eY5uK8hN4dF6gL1zR0sV3wXa",           // the org's secret, from your config
		Now:    func() time.Time { return time.Unix(1_800_000_000, 0) }, // omit: defaults to time.Now
	}
	token, err := s.Sign(signer.Claims{
		Email: "jane@example.com", OrgID: "org_abc123", FirstName: "Jane", LastName: "Doe", Role: "MEMBER",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf(`<iframe src="https://app.example.com/api/sso/jwt?jwt=%s"></iframe>`+"\n", token[:20]+"…")
	// Output: <iframe src="https://app.example.com/api/sso/jwt?jwt=eyJhbGciOiJIUzI1NiIs…"></iframe>
}

func ExampleGenerateSecret() {
	secret := signer.GenerateSecret() // store it for the org; give it to the customer once
	fmt.Println(len(secret), "printable characters")
	// Output: 43 printable characters
}
