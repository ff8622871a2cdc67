package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// revocationBound is the bound sqlstore documents for a change made on one
// instance to be honoured by another (sqlstore.CacheOptions).
const revocationBound = 100 * time.Millisecond

// revocation is what -two-instances measured: page views of every client's
// session on a second instance B of the example, on the same database as
// the first (A), while half of the clients sign out on A.
type revocation struct {
	views      int           // GET /api/me on B within the phase
	window     time.Duration // the phase's length
	p99        time.Duration // of the views on B
	signedOut  int           // sessions signed out on A
	lastSeen   time.Duration // the latest acceptance on B of a signed-out session, after its sign-out returned
	pastBound  int           // views on B that began more than revocationBound after their session's sign-out and were accepted
	keptErrors int           // views of sessions not signed out that were refused
	firstErr   error
}

// measureRevocation runs the two-instance phase: every client sends GET
// /api/me to b with the cookie of its last login on a, for o.duration; at
// half-time the even clients sign out on a, one after the other.
func measureRevocation(ctx context.Context, clients []*client, a, b string, o options) revocation {
	start := time.Now()
	until := start.Add(o.duration)
	half := start.Add(o.duration / 2)
	signedOutAt := make([]time.Time, len(clients)) // zero: not signed out
	var mu sync.Mutex
	var r revocation
	var latencies []time.Duration
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			var lat []time.Duration
			for time.Now().Before(until) && ctx.Err() == nil {
				began := time.Now()
				ok, err := c.viewOn(ctx, b)
				end := time.Now()
				mu.Lock()
				out := signedOutAt[i]
				r.views++
				switch {
				case err != nil:
					if r.firstErr == nil {
						r.firstErr = err
					}
				case ok && !out.IsZero() && began.After(out):
					r.lastSeen = max(r.lastSeen, began.Sub(out))
					if began.Sub(out) > revocationBound {
						r.pastBound++
					}
				case !ok && out.IsZero():
					r.keptErrors++
				}
				mu.Unlock()
				lat = append(lat, end.Sub(began))
			}
			mu.Lock()
			latencies = append(latencies, lat...)
			mu.Unlock()
		})
	}
	time.Sleep(time.Until(half))
	for i, c := range clients {
		if i%2 != 0 {
			continue
		}
		if err := c.signOut(ctx, a); err != nil {
			mu.Lock()
			if r.firstErr == nil {
				r.firstErr = err
			}
			mu.Unlock()
			continue
		}
		mu.Lock()
		signedOutAt[i] = time.Now()
		r.signedOut++
		mu.Unlock()
	}
	wg.Wait()
	r.window = time.Since(start)
	slices.Sort(latencies)
	if len(latencies) > 0 {
		r.p99 = latencies[int(0.99*float64(len(latencies)-1))]
	}
	return r
}

// viewOn sends GET /api/me to base with c's cookie and reports whether it
// was accepted (200) or refused (401).
func (c *client) viewOn(ctx context.Context, base string) (bool, error) {
	res, err := c.get(ctx, base+"/api/me", http.Header{"Cookie": {c.cookie}, "Accept": {"application/json"}})
	if err != nil {
		return false, err
	}
	switch res.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusUnauthorized:
		return false, nil
	}
	return false, fmt.Errorf("GET /api/me: status %d: %.200s", res.StatusCode, c.buf.String())
}

// signOut posts the example's sign-out form to base with c's cookie.
func (c *client) signOut(ctx context.Context, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/logout", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Cookie", c.cookie)
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("POST /logout: status %d", res.StatusCode)
	}
	return nil
}

// writeRevocations prints what the two-instance phases measured.
func writeRevocations(w io.Writer, results []result) {
	first := true
	for _, r := range results {
		rv := r.revocation
		if rv == nil {
			continue
		}
		if first {
			fmt.Fprintf(w, "\nTwo instances on one database (-two-instances): page views on B while half the sessions sign out on A; the bound is %s\n\n", revocationBound)
			fmt.Fprintln(w, "| storage | views on B/s | p99 | signed out on A | latest acceptance on B after a sign-out | accepted past the bound | other sessions refused | errors |")
			fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|")
			first = false
		}
		errs := 0
		if rv.firstErr != nil {
			errs = 1
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %d | %s | %d | %d | %d |\n", r.storage, float64(rv.views)/rv.window.Seconds(), ms(rv.p99),
			rv.signedOut, ms(rv.lastSeen), rv.pastBound, rv.keptErrors, errs)
		if rv.firstErr != nil {
			fmt.Fprintf(w, "\n%s, two instances: the first error: %v\n", r.storage, rv.firstErr)
		}
	}
}
