// Package jwt holds the parts of reading a compact JWS that know nothing of
// embedsso's claims or errors: strict segment decoding (exact, unique JSON
// member names; one spelling of each byte string) and HS256 verification
// with an HMAC keyed once per secret. The handler's parse and verify steps
// (the root's verifier.go) are built on it.
package jwt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// JSON member names in a token are exact, and each appears once.
//
// encoding/json matches a member to a struct field case-insensitively (with
// Unicode folding: "ALG", "Alg" and "\u212Aid" for kid all match), and when
// a member repeats the last one wins. Neither is what RFC 7515 and RFC 7519
// mean: names are case-sensitive, and a parser must reject duplicates or be
// sure everyone reads the same one. A token whose signer wrote two orgId
// members could otherwise mean one organization to its signer and another
// to us. CheckMembers is a small pre-scan that enforces both before
// json.Unmarshal decodes the segment. It is hand-written because the
// standard library has no strict mode (encoding/json/v2 is still behind
// GOEXPERIMENT) and a second JSON library in the core would cost more than
// this scan; json.Unmarshal still validates the syntax afterwards.

// Names returns the member names json.Unmarshal fills in the struct type t,
// read from its json tags: the fields argument of [CheckMembers].
func Names(t reflect.Type) [][]byte {
	names := make([][]byte, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "-" {
			continue // not decoded from JSON
		}
		names = append(names, []byte(name))
	}
	return names
}

// CheckMembers requires b to be a JSON object whose member names are
// distinct and none of which differs only in case from one of fields (which
// json.Unmarshal would match to it). It judges only the top level: nested
// values fill no field of ours. Invalid JSON may pass; json.Unmarshal then
// refuses it.
func CheckMembers(b []byte, fields [][]byte) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errors.New("not a JSON object")
	}
	// Names are compared as byte slices of b (or of their decoding), so the
	// scan allocates nothing for an honest token.
	var seen [16][]byte // enough for any honest header or payload
	n := 0
	var more map[string]bool
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for i < len(b) {
		if b[i] != '"' {
			return errors.New("member name expected")
		}
		end, ok := skipString(b, i)
		if !ok {
			return errors.New("unterminated member name")
		}
		name, err := memberName(b[i:end])
		if err != nil {
			return err
		}
		if f := foldsToField(name, fields); f != nil {
			return fmt.Errorf("member %.32q is not %q: names are case-sensitive", name, f)
		}
		dup := false
		if n < len(seen) {
			for _, s := range seen[:n] {
				dup = dup || bytes.Equal(s, name)
			}
			seen[n] = name
			n++
		} else {
			if more == nil {
				more = make(map[string]bool, 2*len(seen))
				for _, s := range seen {
					more[string(s)] = true
				}
			}
			dup = more[string(name)]
			more[string(name)] = true
		}
		if dup {
			return fmt.Errorf("member %.32q appears twice", name)
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return errors.New("':' expected")
		}
		if i, ok = skipValue(b, skipSpace(b, i+1)); !ok {
			return errors.New("unterminated value")
		}
		switch i = skipSpace(b, i); {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == '}':
			return nil
		default:
			return errors.New("',' or '}' expected")
		}
	}
	return errors.New("unterminated object")
}

// foldsToField returns the field name that json.Unmarshal would match name
// to although it is not exactly name, or nil.
func foldsToField(name []byte, fields [][]byte) []byte {
	ascii := true
	for _, c := range name {
		ascii = ascii && c < utf8.RuneSelf
	}
	for _, f := range fields {
		if bytes.Equal(name, f) {
			return nil // the exact field; no other field folds like it
		}
	}
	for _, f := range fields {
		// An ASCII name can only fold to an ASCII field of its length;
		// only non-ASCII names (U+212A for K, U+017F for s) need the
		// full Unicode comparison.
		if (!ascii || len(f) == len(name)) && bytes.EqualFold(name, f) {
			return f
		}
	}
	return nil
}

// memberName returns the name a quoted JSON string decodes to. Plain ASCII
// without escapes is the common case and needs no decoding; anything else
// goes through encoding/json, so that "\u0061lg" is alg here as it is there.
func memberName(quoted []byte) ([]byte, error) {
	for _, c := range quoted {
		if c == '\\' || c >= utf8.RuneSelf {
			var s string
			if err := json.Unmarshal(quoted, &s); err != nil {
				return nil, errors.New("malformed member name")
			}
			return []byte(s), nil
		}
	}
	return quoted[1 : len(quoted)-1], nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++ // the escaped byte; \uXXXX's digits are ordinary bytes
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

// skipValue returns the index after the value starting at b[i]: a string,
// an object or array (counting brackets outside strings), or a number or
// literal (up to the next delimiter).
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, ok := skipString(b, i)
				if !ok {
					return 0, false
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return 0, false
	default:
		for ; i < len(b); i++ {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return i, true
			}
		}
		return i, true
	}
}

// HasMemberOutside reports whether the JSON object b (already judged by
// [CheckMembers]) has a top-level member for which inside reports false. It
// scans with CheckMembers' helpers and allocates nothing. When unsure
// (malformed input) it says true.
func HasMemberOutside(b []byte, inside func(name []byte) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return true
	}
	for i = skipSpace(b, i+1); i < len(b) && b[i] != '}'; {
		end, ok := skipString(b, i)
		if !ok {
			return true
		}
		name, err := memberName(b[i:end])
		if err != nil || !inside(name) {
			return true
		}
		if i = skipSpace(b, end); i >= len(b) || b[i] != ':' {
			return true
		}
		if i, ok = skipValue(b, skipSpace(b, i+1)); !ok {
			return true
		}
		if i = skipSpace(b, i); i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return false
}
