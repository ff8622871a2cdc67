package embedsso_test

import (
	"os/exec"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/signer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTheLoginDoesNotBuildJWX checks that an app which verifies logins (the
// root package, and the admin API beside it) does not build jwx: only the
// customer-side signer imports it.
func TestTheLoginDoesNotBuildJWX(t *testing.T) {
	t.Parallel()
	for _, pkg := range []string{"github.com/embedsso/embedsso", "github.com/embedsso/embedsso/orgapi"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "net/http", pkg)
		assert.NotContains(t, string(out), "github.com/lestrrat-go", pkg)
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/embedsso/embedsso/signer").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "github.com/lestrrat-go/jwx", "the check would see jwx if it were there")
}

// TestBenchTokenIsTheSignersToken holds the benchmarks' literal token to what
// the signer mints for the bench org.
func TestBenchTokenIsTheSignersToken(t *testing.T) {
	t.Parallel()
	tok, err := signer.Signer{Secret: "q3Jv9xPpA1mS7cT0bW2eY5uK8hN4dF6gL1zR0sV3wXa", Now: func() time.Time { return time.Unix(1_800_000_000, 0) }}.
		Sign(signer.Claims{Email: "jane@example.com", OrgID: "org_abc123", FirstName: "Jane", LastName: "Doe", Role: "MEMBER"})
	require.NoError(t, err)
	assert.Equal(t, embedsso.BenchToken, tok)
}
