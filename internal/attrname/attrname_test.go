package attrname

import "testing"

func TestValidAndReserved(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name            string
		valid, reserved bool
	}{
		{"region", true, false},
		{"a.b-c_1", true, false},
		{"A", true, false},
		{"x123456789012345678901234567890123456789012345678901234567890123", true, false}, // 64
		{"x1234567890123456789012345678901234567890123456789012345678901234", false, false},
		{"", false, false},
		{"1abc", false, false},
		{"_abc", false, false},
		{"bad name", false, false},
		{"naïve", false, false},
		{"email", true, true},
		{"groups", true, true},
		{"jti", true, true},
		{"sub", true, true},
	} {
		if got := Valid(tc.name); got != tc.valid {
			t.Errorf("Valid(%q) = %v, want %v", tc.name, got, tc.valid)
		}
		if got := Reserved(tc.name); got != tc.reserved {
			t.Errorf("Reserved(%q) = %v, want %v", tc.name, got, tc.reserved)
		}
	}
}
