package ticket

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secret = "q3Jv9xPpA1mS7cT0bW2eY5uK8hN4dF6gL1zR0sV3wXa"

func TestATicketOpensAsItWasSealedAndOnlyThen(t *testing.T) {
	t.Parallel()
	var s Sealer
	want := Ticket{Purpose: PurposeCheck, Expires: time.Unix(1_800_000_000, 0), SessionHash: sha256.Sum256([]byte("id")),
		Email: "jane@example.com", Dest: "/reports?tab=2"}
	require.NoError(t, s.Ready("org_a", secret))
	raw, err := s.Seal("org_a", secret, &want)
	require.NoError(t, err)
	want.OrgID = "org_a"
	require.Len(t, want.ID, gcmNonceBytes, "Seal names the ticket by its nonce")
	want.IDHash = hex.EncodeToString(want.SessionHash[:])

	orgID, sealed, err := Split(raw)
	require.NoError(t, err)
	assert.Equal(t, "org_a", orgID)
	got, ok, err := s.Open(secret, orgID, sealed)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, want, got)

	_, ok, err = s.Open(strings.Repeat("x", 43), orgID, sealed)
	assert.False(t, ok, "another secret opens nothing")
	assert.NoError(t, err)
	_, ok, _ = s.Open(secret, "org_b", sealed)
	assert.False(t, ok, "the org id is bound to the ticket")

	for name, bad := range map[string]string{"empty": "", "not base64": "!!", "too long": strings.Repeat("A", MaxChars+1)} {
		_, _, err := Split(bad)
		assert.ErrorIs(t, err, errTicketMalformed, name)
	}
	assert.Error(t, s.Ready(strings.Repeat("o", 256), secret), "an org id past one length byte")
}

// Opening a ticket allocates the buffer it decrypts into and one string
// that its id, email, destination and IDHash share.
func TestOpeningATicketAllocatesTwice(t *testing.T) {
	var s Sealer
	tk := Ticket{Purpose: PurposeCheck, Expires: time.Unix(1_800_000_000, 0), Email: "jane@example.com", Dest: "/reports?tab=2"}
	raw, err := s.Seal("org_a", secret, &tk)
	require.NoError(t, err)
	orgID, sealed, err := Split(raw)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(100, func() {
		got, ok, err := s.Open(secret, orgID, sealed)
		if !ok || err != nil || got.Dest != tk.Dest {
			t.Fatal(ok, err, got)
		}
	})
	assert.Equal(t, 2.0, allocs)
}
