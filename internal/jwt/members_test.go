package jwt

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestCheckMembers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"an empty object passes", `{}`, true},
		{"the reference header passes", `{"alg":"HS256","typ":"JWT"}`, true},
		{"whitespace anywhere passes", " {\n\t\"alg\" : \"HS256\" ,\r\n \"kid\":\"k\" }\n", true},
		{"unknown members pass", `{"alg":"HS256","x5t":"abc","ALGX":1}`, true},
		{"a nested object may repeat a name", `{"alg":"HS256","ext":{"alg":1,"alg":2}}`, true},
		{"a nested array of objects passes", `{"crit":["b64"],"x":[{"a":[1,{"b":"}"}]}]}`, true},
		{"strings with braces, quotes and escapes pass", `{"alg":"H\"S{2}5[6]\\","kid":"\u00e9\"}"}`, true},
		{"numbers and literals pass", `{"exp":1.5e9,"iat":-0,"nbf":null,"a":true,"b":false}`, true},
		{"a non-ASCII unknown name passes", `{"Ålg":1,"alg":"HS256"}`, true},

		{"an array is refused", `["alg"]`, false},
		{"a string is refused", `"alg"`, false},
		{"null is refused", `null`, false},
		{"a name in capitals is refused", `{"ALG":"HS256"}`, false},
		{"a name in mixed case is refused", `{"Alg":"HS256"}`, false},
		{"a name that Unicode-folds to a field is refused", `{"\u212Aid":"x"}`, false},
		{"an escaped name that folds to a field is refused", `{"\u004Bid":"x"}`, false},
		{"a name twice is refused", `{"alg":"HS256","alg":"HS256"}`, false},
		{"an unknown name twice is refused", `{"typ":"JWT","typ":"JWS"}`, false},
		{"a name twice, once escaped, is refused", `{"alg":"none","\u0061lg":"HS256"}`, false},
		{"a name repeated after 16 others is refused", `{"a0":0,"a1":0,"a2":0,"a3":0,"a4":0,"a5":0,"a6":0,"a7":0,"a8":0,"a9":0,"b0":0,"b1":0,"b2":0,"b3":0,"b4":0,"b5":0,"b6":0,"b0":0}`, false},
		{"a name repeated among more than 16 is refused", `{"a0":0,"a1":0,"a2":0,"a3":0,"a4":0,"a5":0,"a6":0,"a7":0,"a8":0,"a9":0,"b0":0,"b1":0,"b2":0,"b3":0,"b4":0,"b5":0,"b6":0,"b7":0,"b7":0}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := CheckMembers([]byte(tc.in), headerMembers)
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			} else if err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// FuzzCheckMembers compares CheckMembers with a reference built on
// encoding/json's tokenizer: on every valid JSON text they agree.
func FuzzCheckMembers(f *testing.F) {
	for _, s := range []string{`{}`, `{"alg":"HS256","typ":"JWT"}`, `{"alg":1,"alg":2}`, `{"ALG":1}`, `{"a":{"a":1,"a":2}}`,
		`{"\u0061lg":"x","alg":"y"}`, `{"k":"\"}\\"}`, `[1]`, `{"a":[{"b":"]"}],"c":"d"}`, `{"\u212Aid":1}`, "{\"\xff\":1,\"\xfe\":2}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !json.Valid([]byte(in)) {
			return
		}
		got := CheckMembers([]byte(in), claimMembers) == nil
		if want := referenceMembersOK(t, in, claimMembers); got != want {
			t.Fatalf("CheckMembers(%q) ok = %v, reference says %v", in, got, want)
		}
	})
}

func referenceMembersOK(t *testing.T, in string, fields [][]byte) bool {
	dec := json.NewDecoder(strings.NewReader(in))
	dec.UseNumber() // 1E700 is valid JSON, not a float64
	tok, err := dec.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		name := tok.(string)
		for _, f := range fields {
			if name != string(f) && bytes.EqualFold([]byte(name), f) {
				return false
			}
		}
		if seen[name] {
			return false
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return true
}

// headerMembers and claimMembers are the member names of the handler's
// tokenHeader and Claims (the root's verifier.go reads its own from their
// struct tags with Names).
var (
	headerMembers = [][]byte{[]byte("alg"), []byte("kid"), []byte("enc"), []byte("crit")}
	claimMembers  = [][]byte{[]byte("email"), []byte("orgId"), []byte("firstName"), []byte("lastName"), []byte("role"),
		[]byte("exp"), []byte("iat"), []byte("nbf"), []byte("jti")}
)

func TestNamesReadsTheJSONTags(t *testing.T) {
	t.Parallel()
	type header struct {
		Alg    string `json:"alg"`
		Kid    string `json:"kid,omitempty"`
		Hidden string `json:"-"`
	}
	got := Names(reflect.TypeFor[header]())
	want := [][]byte{[]byte("alg"), []byte("kid")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Names = %q, want %q", got, want)
	}
}
