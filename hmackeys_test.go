package embedsso

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
	var c macCache
	var wg sync.WaitGroup
	for i := range 8 { // the pooled HMACs are shared by concurrent verifications
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if !c.verify(secret, input, good) {
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
		"a flipped bit":      c.verify(secret, input, flipped),
		"a truncated MAC":    c.verify(secret, input, good[:31]),
		"another secret":     c.verify(secret+"x", input, good),
		"another input":      c.verify(secret, []byte("header.payload2"), good),
		"an empty signature": c.verify(secret, input, nil),
	} {
		if ok {
			t.Errorf("%s verified", name)
		}
	}
	for i := range maxCachedMACs + 10 { // past the bound the cache starts over and still verifies
		c.verify(fmt.Sprintf("%s-%d", secret, i), input, good)
	}
	if !c.verify(secret, input, good) {
		t.Error("a good signature did not verify after the cache started over")
	}
}
