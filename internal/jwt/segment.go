package jwt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
)

// SegmentEncoding decodes a token's segments. Strict refuses non-zero
// padding bits in the last character, so each byte string has exactly one
// spelling: without it, the last character of a 32-byte signature has four
// spellings that decode to the same bytes, and a token could be altered
// without breaking its signature (defeating anything keyed on the token's
// text, such as a deny-list or a log search).
var SegmentEncoding = base64.RawURLEncoding.Strict()

// DecodeSegment decodes one base64url segment into v, whose JSON member
// names are fields (see [CheckMembers]), and returns the segment's JSON.
func DecodeSegment(seg string, v any, fields [][]byte) ([]byte, error) {
	if seg == "" {
		return nil, errors.New("empty segment")
	}
	b, err := SegmentEncoding.DecodeString(seg)
	if err != nil {
		return nil, err
	}
	if err := CheckMembers(b, fields); err != nil {
		return b, err
	}
	return b, json.Unmarshal(b, v)
}

// CompactChars holds the bytes a compact JWS may contain. The decoder
// alone would let '\r' and '\n' through (it skips them); a table keeps the
// check to one load per byte.
var CompactChars = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") {
		t[c] = true
	}
	return t
}()
