package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/embedsso/embedsso/signer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An -orgs file with an organization embedsso would refuse at login stops
// the server at startup with one line that names the file, the org and the
// problem, and nothing is written to the database.
func TestStartupRefusesAnInvalidOrg(t *testing.T) {
	t.Parallel()
	secret := signer.GenerateSecret()
	for _, tc := range []struct {
		name, org, want string
	}{
		{"a 5-byte secret", `{"id":"org_x","embeddingEnabled":true,"jwtSecrets":["12345"]}`,
			`organization 0: embedsso: invalid organization "org_x": secret 0 (kid "") is 5 bytes; HS256 needs at least 32`},
		{"a dashboard URL on another site", `{"id":"org_x","jwtSecrets":["` + secret + `"],"dashboardUrl":"https://evil.example/phish"}`,
			`organization 0: embedsso: invalid organization "org_x": dashboard URL "https://evil.example/phish" is not a path on this site`},
		{"an origin that does not parse", `{"id":"org_x","jwtSecrets":["` + secret + `"],"allowedOrigins":["evil.example; script-src *"]}`,
			`organization 0: embedsso: invalid organization "org_x": allowed origins:`},
		{"an empty role", `{"id":"org_x","jwtSecrets":["` + secret + `"],"allowedRoles":[""]}`,
			`organization 0: embedsso: invalid organization "org_x": allowed role 0 is empty`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			file, db := filepath.Join(dir, "orgs.json"), filepath.Join(dir, "app.db")
			require.NoError(t, os.WriteFile(file, []byte("["+tc.org+"]"), 0o600))
			// A done context: a server that accepted the file would stop at
			// once instead of running.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			err := run(ctx, []string{"-addr", "localhost:0", "-customer-addr", "127.0.0.1:0", "-db", db, "-orgs", file}, io.Discard, io.Discard, nil)
			require.Error(t, err)
			assert.True(t, errors.As(err, new(usageError)), "not a usage error (exit status 2): %v", err)
			assert.Equal(t, file+": "+tc.want, err.Error()[:min(len(err.Error()), len(file)+2+len(tc.want))])
			assert.NotContains(t, err.Error(), "\n", "the error is more than one line")
			assert.NotContains(t, err.Error(), secret, "the error shows a secret")
			assert.NoFileExists(t, db, "the database was touched")
		})
	}
}
