package embedsso

import "testing"

func TestHasExtraMembers(t *testing.T) {
	t.Parallel()
	for payload, want := range map[string]bool{
		`{"email":"a@b.io","orgId":"o","exp":1,"iat":0}`:           false,
		`{ "email" : "a@b.io" , "role" : "MEMBER" }`:               false,
		`{"sub":"42","aud":["a","b"],"iss":"x","nbf":1,"jti":"j"}`: false,
		`{}`:                                  false,
		`{"email":"a@b.io","region":"eu"}`:    true,
		`{"groups":["a"]}`:                    true,
		`{"email":{"nested":"x"},"tenant":1}`: true,
		`{"\u0065mail":"a@b.io"}`:             false, // an escaped reserved name is still that name
		`{"\u0072egion":"eu"}`:                true,
		`not json`:                            true,
		`{"email":"unterminated`:              true,
	} {
		if got := hasExtraMembers([]byte(payload)); got != want {
			t.Errorf("hasExtraMembers(%s) = %v, want %v", payload, got, want)
		}
	}
}
