package jwt

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
)

func TestMACCacheVerifiesOnlyTheRightSignature(t *testing.T) {
	t.Parallel()
	const secret = "q3Jv9xPpA1mS7cT0bW2eY5uK8hN4dF6gL1zR0sV3wXa"
	input := []byte("header.payload")
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(input)
	good := m.Sum(nil)
	var c MACs
	var wg sync.WaitGroup
	for i := range 8 { // the pooled HMACs are shared by concurrent verifications
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if !c.Verify(secret, input, good) {
					t.Errorf("goroutine %d: a good signature did not verify", i)
					return
				}
			}
		}()
	}
	wg.Wait()
	flipped := append([]byte(nil), good...)
	flipped[0] ^= 1
	for name, ok := range map[string]bool{
		"a flipped bit":      c.Verify(secret, input, flipped),
		"a truncated MAC":    c.Verify(secret, input, good[:31]),
		"another secret":     c.Verify(secret+"x", input, good),
		"another input":      c.Verify(secret, []byte("header.payload2"), good),
		"an empty signature": c.Verify(secret, input, nil),
	} {
		if ok {
			t.Errorf("%s verified", name)
		}
	}
	for i := range maxCachedMACs + 10 { // past the bound the cache starts over and still verifies
		c.Verify(fmt.Sprintf("%s-%d", secret, i), input, good)
	}
	if !c.Verify(secret, input, good) {
		t.Error("a good signature did not verify after the cache started over")
	}
}
