package textcheck

import (
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
)

// Check's ASCII shortcut refuses exactly the ASCII runes the full Unicode
// check refuses.
func TestCheckTextASCIIShortcutAgreesWithUnicode(t *testing.T) {
	t.Parallel()
	for r := rune(0); r < unicode.MaxASCII+1; r++ {
		want := unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
		if got := Check("x", string(r), 8) != nil; got != want {
			t.Errorf("%U: refused %v, want %v", r, got, want)
		}
	}
}

func TestOrgID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, id string
		ok       bool
	}{
		{"a plain id passes", "org_acme", true},
		{"any printable text passes, as in Org.ID", "Acme Corp/eu é", true},
		{"256 bytes pass", strings.Repeat("a", MaxNameBytes), true},
		{"257 bytes are refused", strings.Repeat("a", MaxNameBytes+1), false},
		{"a NUL is refused", "a\x00b", false},
		{"a lone 0xff byte is refused", "a\xffb", false},
		{"an overlong NUL (0xc0 0x80) is refused", "a\xc0\x80b", false},
		{"a newline is refused", "a\nb", false},
		{"DEL is refused", "a\x7fb", false},
		{"a C1 control is refused", "a\u0085b", false},
		{"a format character (RLO) is refused", "a\u202eb", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.ok, OrgID(tc.id) == nil)
		})
	}
}
