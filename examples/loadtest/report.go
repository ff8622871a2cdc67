package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"
)

// writeTable prints the results as a Markdown table, one row per server and
// storage, with each row's throughput as a ratio to the floor's when the
// floor ran, and with -baseline, this server's logins/s as a ratio to the
// baseline's and the two login p99s. Over several rounds each figure is the
// median of the rounds', and each ratio the median of the rounds' ratios:
// a ratio within a round compares measurements minutes apart at most (the
// baseline's right beside this one's), which rounds apart are not.
func writeTable(w io.Writer, results []result, o options) {
	rows := tableRows(results)
	var floor *row
	for i := range rows {
		if rows[i].storage == "floor" {
			floor = &rows[i]
			break
		}
	}
	withBaseline := slices.ContainsFunc(rows, func(r row) bool { return r.baseline })

	fmt.Fprintf(w, "%d clients over loopback, %s per phase (the first %s not counted), GOMAXPROCS %d, %d CPUs\n",
		o.clients, o.duration, o.warmup, runtime.GOMAXPROCS(0), runtime.NumCPU())
	if o.rounds > 1 {
		fmt.Fprintf(w, "%d rounds: every figure is the median of its %d measurements, every ratio the median of the rounds' ratios\n", o.rounds, o.rounds)
	}
	if withBaseline {
		fmt.Fprintf(w, "baseline: the example server of %s, measured right beside this one (%s) on the same storage, which of the two first alternating from round to round, each on a new database\n",
			revOr(o.baselineRev, o.baseline), revOr(o.thisRev, "this tree"))
	}
	fmt.Fprintln(w)

	head := "| storage | logins/s | login p50 | login p99 | authenticated req/s | p50 | p99 | logins/s vs floor | req/s vs floor |"
	rule := "|---|--:|--:|--:|--:|--:|--:|--:|--:|"
	if withBaseline {
		head += " logins/s vs baseline | login p99, baseline → this |"
		rule += "--:|--:|"
	}
	fmt.Fprintln(w, head+" errors |")
	fmt.Fprintln(w, rule+"--:|")
	var byRound []string // the rounds' ratios to the baseline, when there are several
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %.0f | %s | %s | %s | %s |", rowName(r.storage, r.baseline),
			r.median(loginsPerSecond), ms(r.medianDuration(loginP50)), ms(r.medianDuration(loginP99)),
			r.median(authdPerSecond), ms(r.medianDuration(authdP50)), ms(r.medianDuration(authdP99)),
			ratio(r.ratios(floor, loginsPerSecond)), ratio(r.ratios(floor, authdPerSecond)))
		if withBaseline {
			base := r.baselineRow(rows)
			switch {
			case r.baseline:
				fmt.Fprint(w, " 1.00× | – |")
			case base == nil:
				fmt.Fprint(w, " – | – |")
			default:
				rs := r.ratios(base, loginsPerSecond)
				fmt.Fprintf(w, " %s | %s → %s |", ratio(rs), ms(base.medianDuration(loginP99)), ms(r.medianDuration(loginP99)))
				if o.rounds > 1 {
					byRound = append(byRound, fmt.Sprintf("%s, logins/s vs baseline by round: %s", r.storage, ratioList(rs)))
				}
			}
		}
		fmt.Fprintf(w, " %d |\n", r.errors())
	}
	if len(byRound) > 0 {
		fmt.Fprintf(w, "\n%s\n", strings.Join(byRound, "\n"))
	}
	writeVersusSCS(w, rows)
	for _, r := range results {
		for _, p := range []struct {
			name string
			ph   *phase
		}{{"login", &r.logins}, {"authenticated", &r.authd}} {
			if p.ph.firstErr != nil {
				fmt.Fprintf(w, "\n%s%s, %s phase: %d errors, the first: %v\n", rowName(r.storage, r.baseline),
					step{round: r.round}.roundNote(o), p.name, p.ph.errors, p.ph.firstErr)
			}
		}
	}
}

// writeVersusSCS gives, for each storage measured beside scs on the same
// storage (-storages sqlite,scs-sqlite), the example's authenticated req/s
// as a ratio to scs's, round by round.
func writeVersusSCS(w io.Writer, rows []row) {
	find := func(storage string) *row {
		for i := range rows {
			if rows[i].storage == storage && !rows[i].baseline {
				return &rows[i]
			}
		}
		return nil
	}
	first := true
	for _, s := range []string{"sqlite", "postgres"} {
		this, other := find(s), find("scs-"+s)
		if this == nil || other == nil {
			continue
		}
		if first {
			fmt.Fprintln(w)
			first = false
		}
		rs := this.ratios(other, authdPerSecond)
		fmt.Fprintf(w, "%s: authenticated req/s %s scs's on the same storage (p99 %s, scs %s)\n", s, ratio(rs),
			ms(this.medianDuration(authdP99)), ms(other.medianDuration(authdP99)))
	}
}

// row is one line of the table: one server on one storage, every round.
type row struct {
	storage  string
	baseline bool
	runs     []result
}

// tableRows groups results into rows: the storages in the order they were
// first measured, each storage's baseline row just above this server's.
func tableRows(results []result) []row {
	var rows []row
	var storages []string
	for _, r := range results {
		if !contains(storages, r.storage) {
			storages = append(storages, r.storage)
		}
	}
	for _, s := range storages {
		for _, baseline := range []bool{true, false} {
			rw := row{storage: s, baseline: baseline}
			for _, r := range results {
				if r.storage == s && r.baseline == baseline {
					rw.runs = append(rw.runs, r)
				}
			}
			if len(rw.runs) > 0 {
				rows = append(rows, rw)
			}
		}
	}
	return rows
}

// baselineRow is the baseline's row of r's storage, or nil.
func (r row) baselineRow(rows []row) *row {
	for i := range rows {
		if rows[i].storage == r.storage && rows[i].baseline {
			return &rows[i]
		}
	}
	return nil
}

func (r row) errors() int {
	n := 0
	for _, m := range r.runs {
		n += m.logins.errors + m.authd.errors
	}
	return n
}

// The figures a row reports, of one measurement.
func loginsPerSecond(m result) float64 { return m.logins.perSecond() }
func authdPerSecond(m result) float64  { return m.authd.perSecond() }
func loginP50(m result) time.Duration  { return m.logins.percentile(0.50) }
func loginP99(m result) time.Duration  { return m.logins.percentile(0.99) }
func authdP50(m result) time.Duration  { return m.authd.percentile(0.50) }
func authdP99(m result) time.Duration  { return m.authd.percentile(0.99) }

func (r row) median(f func(result) float64) float64 {
	var v []float64
	for _, m := range r.runs {
		v = append(v, f(m))
	}
	return median(v)
}

func (r row) medianDuration(f func(result) time.Duration) time.Duration {
	return time.Duration(r.median(func(m result) float64 { return float64(f(m)) }))
}

// ratios are f of r's measurements over f of base's in the same round, in
// round order, for the rounds in which both were measured; none when base
// is nil.
func (r row) ratios(base *row, f func(result) float64) []float64 {
	if base == nil {
		return nil
	}
	var out []float64
	for _, m := range r.runs {
		for _, b := range base.runs {
			if b.round == m.round && f(b) > 0 {
				out = append(out, f(m)/f(b))
			}
		}
	}
	return out
}

// median is the middle value of v (the mean of the two middle ones when
// there are an even number), or 0 when v is empty.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratio is the median of rs as "1.23×", or "–" when there is none.
func ratio(rs []float64) string {
	if len(rs) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", median(rs))
}

func ratioList(rs []float64) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = fmt.Sprintf("%.2f×", r)
	}
	return strings.Join(s, ", ")
}

func revOr(rev, fallback string) string {
	if rev == "" {
		return fallback
	}
	return rev
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}
