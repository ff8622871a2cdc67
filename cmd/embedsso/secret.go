package main

import (
	"fmt"

	"github.com/embedsso/embedsso/signer"
)

func runSecret(e env, args []string) error {
	fs := newFlags("embedsso secret", "Prints a new organization secret: 32 random bytes in base64url (43 characters).\nThe string itself is the HMAC key; give it to the organization and store it with the app.", e.stderr)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	_, err = fmt.Fprintln(e.stdout, signer.GenerateSecret())
	return err
}
