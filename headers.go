package embedsso

import "net/http"

// fixedHeaders sets the headers of one answer that have one fixed value each
// (Referrer-Policy, Cache-Control, X-Content-Type-Options,
// Content-Security-Policy, then Location or Allow) with one allocation for
// all of them. It is hand-written because [http.Header.Set] allocates a
// []string per header (and canonicalizes its key): with Set, these headers
// were the largest allocator of a login and of its cookie check, five
// allocations each where this makes one.
//
// Each header gets a one-value slice cut out of one per-answer array with
// its capacity clipped to its length, so a [http.Header.Add] by middleware
// after the handler appends into a new array and can never overwrite the
// neighbouring header's value. The array is made per answer and never shared
// between answers, so a middleware that changes a value in place changes
// only its own answer.
type fixedHeaders struct {
	h    http.Header
	vals []string
}

// maxFixedHeaders is the most fixed headers one answer sets: the four every
// answer carries, plus Location or Allow.
const maxFixedHeaders = 5

func newFixedHeaders(h http.Header) fixedHeaders {
	return fixedHeaders{h: h, vals: make([]string, 0, maxFixedHeaders)}
}

// set gives the header key the one value v, replacing any it had, as
// [http.Header.Set] does. key must already be in canonical form
// ([http.CanonicalHeaderKey]): it goes into the map as it is.
func (f *fixedHeaders) set(key, v string) {
	i := len(f.vals)
	// Past the capacity, append moves on to a new array: the slices already
	// cut keep the old one, so this stays correct, only dearer.
	f.vals = append(f.vals, v)
	f.h[key] = f.vals[i : i+1 : i+1]
}
