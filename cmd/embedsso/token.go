package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/signer"
)

// secretEnv is where token and inspect read the secret by default, the
// variable name of the docs' snippets: a secret on the command line ends
// up in the shell's history and in ps.
const secretEnv = "EMBED_JWT_SECRET"

func runToken(e env, args []string) error {
	fs := newFlags("embedsso token -org ID -email EMAIL [flags]",
		"Mints an embedding token exactly as the reference's Node snippet (jsonwebtoken, expiresIn '10m') does:\nHS256, typ JWT, the claims email, orgId, firstName, lastName, role, iat and exp. The secret is read\nfrom $"+secretEnv+" unless -secret-env names another variable or -secret gives it.", e.stderr)
	org := fs.String("org", "", "the organization id (orgId claim); required")
	email := fs.String("email", "", "the user's email; required")
	role := fs.String("role", "", "the role claim")
	first := fs.String("first", "", "the firstName claim")
	last := fs.String("last", "", "the lastName claim")
	ttl := fs.Duration("ttl", 10*time.Minute, "lifetime, exp minus iat")
	jti := fs.Bool("jti", false, "add a random jti, which makes the token single-use")
	kid := fs.String("kid", "", "the header's kid, to pick one of the organization's secrets")
	secretFlag := fs.String("secret", "", "the organization's secret (prefer the environment variable)")
	fromEnv := fs.String("secret-env", secretEnv, "the environment variable holding the secret")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case *org == "" || *email == "":
		return usagef("-org and -email are required")
	case *ttl <= 0:
		return usagef("-ttl must be positive")
	}
	secret, err := readSecret(e, *secretFlag, *fromEnv)
	if err != nil {
		return err
	}
	if secret == "" {
		return usagef("no secret: set $%s or give -secret", *fromEnv)
	}
	tok, err := signer.Signer{Secret: secret, KeyID: *kid, TTL: *ttl, TokenID: *jti}.Sign(embedsso.Claims{
		Email: *email, OrgID: *org, FirstName: *first, LastName: *last, Role: *role})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, tok)
	return err
}

// readSecret is -secret if given, else the environment variable.
func readSecret(e env, flagValue, variable string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if variable == "" {
		return "", errors.New("-secret-env is empty")
	}
	return e.getenv(variable), nil
}
