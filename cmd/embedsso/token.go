package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/embedsso/embedsso/signer"
)

// secretEnv is where token and inspect read the secret by default, the
// variable name of the docs' snippets: a secret on the command line ends
// up in the shell's history and in ps.
const secretEnv = "EMBED_JWT_SECRET"

func runToken(e env, args []string) error {
	fs := newFlags("embedsso token -org ID -email EMAIL [flags]",
		"Mints an embedding token as the reference's Node snippet (jsonwebtoken, expiresIn '10m') does:\nHS256, typ JWT, the claims email, orgId, firstName, lastName, role, iat and exp, plus a random jti\n(single-use; -jti=false leaves it out). The secret is read from $"+secretEnv+" unless -secret-env names\nanother variable, -secret-file a file, or -secret gives it.", e.stderr)
	org := fs.String("org", "", "the organization id (orgId claim); required")
	email := fs.String("email", "", "the user's email; required")
	role := fs.String("role", "", "the role claim")
	first := fs.String("first", "", "the firstName claim")
	last := fs.String("last", "", "the lastName claim")
	ttl := fs.Duration("ttl", 10*time.Minute, "lifetime, exp minus iat")
	jti := fs.Bool("jti", true, "add a random jti, which makes the token single-use (-jti=false leaves it out, as the Node snippet does)")
	kid := fs.String("kid", "", "the header's kid, to pick one of the organization's secrets")
	secretIn := addSecretFlags(fs)
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
	secret, err := secretIn.read(e)
	if err != nil {
		return err
	}
	if secret == "" {
		return usagef("no secret: set $%s or give -secret-file", *secretIn.env)
	}
	tok, err := signer.Signer{Secret: secret, KeyID: *kid, TTL: *ttl, TokenID: *jti}.Sign(signer.Claims{
		Email: *email, OrgID: *org, FirstName: *first, LastName: *last, Role: *role})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, tok)
	return err
}

// secretFlags are the ways a command takes the organization's secret:
// -secret, -secret-file, or the environment variable -secret-env names.
type secretFlags struct{ value, file, env *string }

func addSecretFlags(fs *flagSet) secretFlags {
	return secretFlags{
		value: fs.String("secret", "", "the organization's secret (shows in ps and the shell's history: prefer -secret-file or the environment)"),
		file:  fs.String("secret-file", "", "a file holding the organization's secret (surrounding whitespace ignored)"),
		env:   fs.String("secret-env", secretEnv, "the environment variable holding the secret"),
	}
}

// read returns -secret, else -secret-file's content, else the environment
// variable's value; "" if none is set. A secret is never put in an error.
func (f secretFlags) read(e env) (string, error) {
	switch {
	case *f.value != "" && *f.file != "":
		return "", usagef("give -secret or -secret-file, not both")
	case *f.value != "":
		return *f.value, nil
	case *f.file != "":
		return readSecretFile(*f.file)
	case *f.env == "":
		return "", usagef("-secret-env is empty")
	}
	return e.getenv(*f.env), nil
}

// readSecretFile returns the file's content without surrounding whitespace
// (an editor's final newline), and fails if nothing is left.
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err // the path and why, never the content
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}
