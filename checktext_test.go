package embedsso

import (
	"testing"
	"unicode"
)

// checkText's ASCII shortcut refuses exactly the ASCII runes the full
// Unicode check refuses.
func TestCheckTextASCIIShortcutAgreesWithUnicode(t *testing.T) {
	t.Parallel()
	for r := rune(0); r < unicode.MaxASCII+1; r++ {
		want := unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
		if got := checkText("x", string(r), 8) != nil; got != want {
			t.Errorf("%U: refused %v, want %v", r, got, want)
		}
	}
}
