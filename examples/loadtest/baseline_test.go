package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serverSource is this tree's examples/server, which the tests use as their
// own baseline.
func serverSource(t *testing.T) string {
	t.Helper()
	dir, err := findDir(filepath.Join("examples", "server"))
	require.NoError(t, err)
	return dir
}

func TestBaselineAndRoundsFlags(t *testing.T) {
	t.Parallel()
	src := serverSource(t)
	notServer := t.TempDir() // a directory without main.go
	for _, tc := range []struct {
		name     string
		args     []string
		baseline string
		rounds   int
		err      string // "" when the flags are accepted
	}{
		{name: "without them there is no baseline and one round", args: nil, rounds: 1},
		{name: "a baseline directory with main.go is taken", args: []string{"-baseline", src}, baseline: src, rounds: 1},
		{name: "a baseline with sqlite alone is taken", args: []string{"-baseline", src, "-storages", "sqlite"}, baseline: src, rounds: 1},
		{name: "a baseline with postgres alone is taken", args: []string{"-baseline", src, "-storages", "floor,postgres"}, baseline: src, rounds: 1},
		{name: "several rounds are taken", args: []string{"-rounds", "5"}, rounds: 5},
		{name: "a baseline directory without main.go is refused", args: []string{"-baseline", notServer}, err: "want the examples/server directory of a checkout"},
		{name: "a baseline directory that does not exist is refused", args: []string{"-baseline", filepath.Join(notServer, "missing")}, err: "want the examples/server directory of a checkout"},
		{name: "a baseline with neither sqlite nor postgres is refused", args: []string{"-baseline", src, "-storages", "floor,memory"}, err: "-storages names neither"},
		{name: "zero rounds are refused", args: []string{"-rounds", "0"}, err: "must be positive"},
		{name: "negative rounds are refused", args: []string{"-rounds", "-1"}, err: "must be positive"},
		{name: "rounds that are not a number are refused", args: []string{"-rounds", "three"}, err: "invalid value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, err := parseFlags(tc.args, io.Discard)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.baseline, o.baseline)
			assert.Equal(t, tc.rounds, o.rounds)
		})
	}
}

func TestThePlanAlternatesTheBaselineAndThisServer(t *testing.T) {
	t.Parallel()
	this := func(round int, storage string) step { return step{round: round, storage: storage} }
	base := func(round int, storage string) step { return step{round: round, storage: storage, baseline: true} }
	for _, tc := range []struct {
		name string
		o    options
		want []step
	}{
		{
			name: "without a baseline each storage is measured once a round",
			o:    options{storages: defaultStorages, rounds: 2},
			want: []step{
				this(0, "floor"), this(0, "memory"), this(0, "sqlite"), this(0, "postgres"),
				this(1, "floor"), this(1, "memory"), this(1, "sqlite"), this(1, "postgres"),
			},
		},
		{
			name: "the baseline goes first in the first round, this server in the second, and so on",
			o:    options{storages: defaultStorages, rounds: 3, baseline: "old"},
			want: []step{
				this(0, "floor"), this(0, "memory"), base(0, "sqlite"), this(0, "sqlite"), base(0, "postgres"), this(0, "postgres"),
				this(1, "floor"), this(1, "memory"), this(1, "sqlite"), base(1, "sqlite"), this(1, "postgres"), base(1, "postgres"),
				this(2, "floor"), this(2, "memory"), base(2, "sqlite"), this(2, "sqlite"), base(2, "postgres"), this(2, "postgres"),
			},
		},
		{
			name: "the floor and memory have no baseline",
			o:    options{storages: []string{"memory", "floor"}, rounds: 1, baseline: "old"},
			want: []step{this(0, "memory"), this(0, "floor")},
		},
		{
			name: "the storages keep the order -storages gives them",
			o:    options{storages: []string{"postgres", "sqlite"}, rounds: 1, baseline: "old"},
			want: []step{base(0, "postgres"), this(0, "postgres"), base(0, "sqlite"), this(0, "sqlite")},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, plan(tc.o))
		})
	}
}

func TestMedian(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   []float64
		want float64
	}{
		{name: "of nothing it is zero", in: nil, want: 0},
		{name: "of one value it is that value", in: []float64{3}, want: 3},
		{name: "of an odd count it is the middle one, whatever the order", in: []float64{9, 1, 4}, want: 4},
		{name: "of an even count it is the mean of the middle two", in: []float64{4, 1, 9, 2}, want: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, median(tc.in))
		})
	}
}

func TestTheTableGivesRatiosToTheBaseline(t *testing.T) {
	t.Parallel()
	ph := func(completed int, lat ...time.Duration) phase {
		return phase{window: time.Second, completed: completed, latencies: lat}
	}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	m := func(storage string, baseline bool, round, logins int, p99 time.Duration) result {
		return result{storage: storage, baseline: baseline, round: round, logins: ph(logins, p99), authd: ph(2*logins, ms(1))}
	}
	for _, tc := range []struct {
		name    string
		o       options
		results []result
		want    []string // lines of the output
		notWant []string
	}{
		{
			name: "one round: the ratio of the two and both p99s, and no baseline for the floor and memory",
			o:    options{clients: 32, duration: 10 * time.Second, warmup: time.Second, rounds: 1, baseline: "/tmp/old/examples/server", baselineRev: "fc3683c", thisRev: "cd4caba"},
			results: []result{
				m("floor", false, 0, 8000, ms(10)),
				m("memory", false, 0, 4000, ms(20)),
				m("sqlite", true, 0, 300, ms(1000)),
				m("sqlite", false, 0, 1200, ms(50)),
			},
			want: []string{
				"baseline: the example server of fc3683c, measured right beside this one (cd4caba) on the same storage, which of the two first alternating from round to round, each on a new database",
				"| storage | logins/s | login p50 | login p99 | authenticated req/s | p50 | p99 | logins/s vs floor | req/s vs floor | logins/s vs baseline | login p99, baseline → this | errors |",
				"|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
				"| floor | 8000 | 10.00 ms | 10.00 ms | 16000 | 1.00 ms | 1.00 ms | 1.00× | 1.00× | – | – | 0 |",
				"| memory | 4000 | 20.00 ms | 20.00 ms | 8000 | 1.00 ms | 1.00 ms | 0.50× | 0.50× | – | – | 0 |",
				"| sqlite, baseline | 300 | 1000.00 ms | 1000.00 ms | 600 | 1.00 ms | 1.00 ms | 0.04× | 0.04× | 1.00× | – | 0 |",
				"| sqlite | 1200 | 50.00 ms | 50.00 ms | 2400 | 1.00 ms | 1.00 ms | 0.15× | 0.15× | 4.00× | 1000.00 ms → 50.00 ms | 0 |",
			},
			notWant: []string{"rounds:", "by round"},
		},
		{
			name: "three rounds: medians of the figures, the median of the rounds' ratios, and each round's ratio",
			o:    options{clients: 32, duration: 10 * time.Second, warmup: time.Second, rounds: 3, baseline: "/tmp/old/examples/server"},
			results: []result{
				// Round 2's pair is slow together: its ratio (3×) is in line,
				// while the ratio of the medians (1000/300) would not be.
				m("postgres", true, 0, 300, ms(900)), m("postgres", false, 0, 1200, ms(60)),
				m("postgres", false, 1, 1000, ms(40)), m("postgres", true, 1, 200, ms(1500)),
				m("postgres", true, 2, 100, ms(1200)), m("postgres", false, 2, 300, ms(80)),
			},
			want: []string{
				"3 rounds: every figure is the median of its 3 measurements, every ratio the median of the rounds' ratios",
				"baseline: the example server of /tmp/old/examples/server, measured right beside this one (this tree) on the same storage, which of the two first alternating from round to round, each on a new database",
				"| postgres, baseline | 200 | 1200.00 ms | 1200.00 ms | 400 | 1.00 ms | 1.00 ms | – | – | 1.00× | – | 0 |",
				"| postgres | 1000 | 60.00 ms | 60.00 ms | 2000 | 1.00 ms | 1.00 ms | – | – | 4.00× | 1200.00 ms → 60.00 ms | 0 |",
				"postgres, logins/s vs baseline by round: 4.00×, 5.00×, 3.00×",
			},
		},
		{
			name: "without a baseline the table has no baseline columns",
			o:    options{clients: 32, duration: 10 * time.Second, warmup: time.Second, rounds: 1},
			results: []result{
				m("sqlite", false, 0, 1200, ms(50)),
			},
			want: []string{
				"| storage | logins/s | login p50 | login p99 | authenticated req/s | p50 | p99 | logins/s vs floor | req/s vs floor | errors |",
				"| sqlite | 1200 | 50.00 ms | 50.00 ms | 2400 | 1.00 ms | 1.00 ms | – | – | 0 |",
			},
			notWant: []string{"baseline"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			writeTable(&b, tc.results, tc.o)
			lines := strings.Split(b.String(), "\n")
			for _, w := range tc.want {
				assert.Contains(t, lines, w)
			}
			for _, nw := range tc.notWant {
				assert.NotContains(t, b.String(), nw)
			}
		})
	}
}

func TestTheTableNamesTheRoundOfAnError(t *testing.T) {
	t.Parallel()
	failed := phase{window: time.Second, errors: 2, firstErr: assert.AnError}
	results := []result{{storage: "sqlite", baseline: true, round: 1, logins: failed}}
	var b strings.Builder
	writeTable(&b, results, options{rounds: 2, baseline: "old"})
	assert.Contains(t, b.String(), "sqlite, baseline (round 2 of 2), login phase: 2 errors, the first: "+assert.AnError.Error())
	assert.Contains(t, b.String(), "| sqlite, baseline | 0 |")
}

// A short run with this tree's example as its own baseline, on sqlite and
// postgres: the plan's order, every login and request served, and every
// measurement on a database of its own. (One round: the order over several
// is the plan's test, and a throwaway PostgreSQL takes seconds to start.)
func TestABaselineIsMeasuredBesideThisServer(t *testing.T) {
	if _, err := findPostgres(); err != nil && os.Getenv("CI") != "" {
		t.Fatalf("CI must measure PostgreSQL too: %v", err)
	}
	o, err := parseFlags([]string{"-baseline", serverSource(t), "-storages", "sqlite,postgres", "-duration", "500ms", "-clients", "4"}, io.Discard)
	require.NoError(t, err)
	var log strings.Builder
	results, err := run(context.Background(), o, &log)
	require.NoError(t, err, log.String())

	want := plan(o)
	if strings.Contains(log.String(), "postgres: skipped") {
		t.Log("no PostgreSQL binaries: postgres not measured")
		want = want[:2]
	}
	require.Len(t, results, len(want))
	dbs := map[string]bool{}
	for i, r := range results {
		assert.Equal(t, want[i], step{round: r.round, storage: r.storage, baseline: r.baseline})
		for name, p := range map[string]phase{"login": r.logins, "authenticated": r.authd} {
			assert.Zero(t, p.errors, "%s %s: %v", r.storage, name, p.firstErr)
			assert.Positive(t, p.completed, "%s %s", r.storage, name)
		}
		assert.NotEmpty(t, r.db)
		assert.False(t, dbs[r.db], "%s round %d reuses the database %s", rowName(r.storage, r.baseline), r.round+1, r.db)
		dbs[r.db] = true
	}
	var table strings.Builder
	writeTable(&table, results, o)
	for _, r := range results {
		assert.Contains(t, table.String(), "| "+rowName(r.storage, r.baseline)+" | ")
	}
}

// The baseline builds in its own checkout: go build runs in its directory,
// so the go.work above it (there, the older library) decides what it links,
// not this tree's. Here a checkout's workspace supplies a library version
// that exists nowhere else, so the build succeeds only through it.
func TestTheBaselineBuildsAgainstItsOwnCheckout(t *testing.T) {
	t.Parallel()
	checkout := t.TempDir()
	files := map[string]string{
		"go.work":     "go 1.25.0\n\nuse (\n\t./app\n\t./lib\n)\n",
		"lib/go.mod":  "module example.com/lib\n\ngo 1.25.0\n",
		"lib/lib.go":  "package lib\n\nconst Version = \"the checkout's library\"\n",
		"app/go.mod":  "module example.com/app\n\ngo 1.25.0\n\nrequire example.com/lib v0.0.0\n",
		"app/main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/lib\"\n)\n\nfunc main() { fmt.Print(lib.Version) }\n",
	}
	for name, content := range files {
		p := filepath.Join(checkout, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	bin, err := build(context.Background(), filepath.Join(checkout, "app"), t.TempDir(), "baseline-server")
	require.NoError(t, err)
	out, err := exec.Command(bin).Output()
	require.NoError(t, err)
	assert.Equal(t, "the checkout's library", string(out))
}
