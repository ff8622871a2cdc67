package main

import (
	"fmt"
	"io"
	"runtime"
	"time"
)

// writeTable prints the results as a Markdown table, with each storage's
// throughput as a ratio to the floor's when the floor ran.
func writeTable(w io.Writer, results []result, o options) {
	var base *result
	for i := range results {
		if results[i].storage == "floor" {
			base = &results[i]
			break
		}
	}
	ratio := func(v, floor float64) string {
		if base == nil || floor == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f×", v/floor)
	}
	fmt.Fprintf(w, "%d clients over loopback, %s per phase (the first %s not counted), GOMAXPROCS %d, %d CPUs\n\n",
		o.clients, o.duration, o.warmup, runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Fprintln(w, "| storage | logins/s | login p50 | login p99 | authenticated req/s | p50 | p99 | logins/s vs floor | req/s vs floor | errors |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range results {
		var fl, fa float64
		if base != nil {
			fl, fa = base.logins.perSecond(), base.authd.perSecond()
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %.0f | %s | %s | %s | %s | %d |\n", r.storage,
			r.logins.perSecond(), ms(r.logins.percentile(0.50)), ms(r.logins.percentile(0.99)),
			r.authd.perSecond(), ms(r.authd.percentile(0.50)), ms(r.authd.percentile(0.99)),
			ratio(r.logins.perSecond(), fl), ratio(r.authd.perSecond(), fa), r.logins.errors+r.authd.errors)
	}
	for _, r := range results {
		for _, p := range []struct {
			name string
			ph   *phase
		}{{"login", &r.logins}, {"authenticated", &r.authd}} {
			if p.ph.firstErr != nil {
				fmt.Fprintf(w, "\n%s, %s phase: %d errors, the first: %v\n", r.storage, p.name, p.ph.errors, p.ph.firstErr)
			}
		}
	}
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}
