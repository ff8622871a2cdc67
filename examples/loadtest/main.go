// Command loadtest measures the example server (examples/server) on each of
// its storages, and a hand-written floor server, with the browser's whole
// flow over loopback, and prints one table:
//
//	go run ./examples/loadtest [-duration 10s] [-clients 32] [-storages floor,memory,sqlite,postgres] [-pg auto|off|DSN]
//	    [-server DIR] [-baseline DIR] [-rounds N] [-two-instances]
//
// For each storage it builds and starts the example (memory: -db memory;
// sqlite: a new SQLite file; postgres: a new PostgreSQL database, durable
// commits), then runs two phases of -duration each with -clients concurrent
// clients.
//
// -baseline names the examples/server directory of an older checkout (git
// worktree add /tmp/base COMMIT). That server is built too and measured in
// the same run on sqlite and postgres, right beside this one, each on a
// database of its own, and the table gives this one's logins/s as a ratio to
// the baseline's. -rounds repeats every measurement; see plan for the order. In the login phase every client signs in over and over as the
// browser in the frame does: GET /api/sso/jwt?jwt=… with an allowed Origin,
// then the sso_check redirect with the session cookie, to the dashboard's
// Location. In the authenticated phase every client sends GET /api/me with
// the cookie of its last login. The floor (examples/loadtest/floor) does the
// least any HS256 login must do (verify with crypto/hmac, set a cookie,
// redirect) and answers /api/me from a map; its figures are the ratios'
// base. Like the example, it is built with go build and runs as a child
// process, so that neither shares a runtime with the clients.
//
// Every request goes to 127.0.0.1, each phase ends after -duration, and the
// servers and any PostgreSQL it started stop before the command returns.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
	o.thisRev = revision(ctx, o.serverDir)
	if o.baseline != "" {
		o.baselineRev = revision(ctx, o.baseline)
	}
	results, err := run(ctx, o, os.Stderr)
	if len(results) > 0 {
		writeTable(os.Stdout, results, o)
		writeRevocations(os.Stdout, results)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	duration  time.Duration // of each phase
	warmup    time.Duration // at the start of each phase, not counted
	clients   int
	storages  []string
	pg        string // "auto", "off" or a DSN
	serverDir string // the example server's source
	baseline  string // an older example server's source, or ""
	rounds    int    // how many times each storage is measured
	// twoInstances adds, on sqlite and postgres, a second example server
	// on the same database and a phase of page views on it while half the
	// sessions sign out on the first (revocation.go).
	twoInstances bool

	// The commits the example and the baseline are built from, for the
	// table's heading; "" when unknown.
	thisRev, baselineRev string
}

// defaultStorages are measured without -storages; allStorages may be
// named. scs-sqlite and scs-postgres are the floor with its sessions in
// github.com/alexedwards/scs/v2 on SQLite and PostgreSQL (floor/scs.go): the
// signed-in request of the session library most Go apps use, on the same
// storage as the example's.
var (
	defaultStorages = []string{"floor", "memory", "sqlite", "postgres"}
	allStorages     = append(slices.Clone(defaultStorages), "scs-sqlite", "scs-postgres")
)

// isFloor reports whether storage runs the floor binary.
func isFloor(storage string) bool {
	return storage == "floor" || strings.HasPrefix(storage, "scs-")
}

// baselineStorages are the storages the baseline is measured on: the older
// example has no -db memory (it would take "memory" for a SQLite file name),
// and the floor is not the example at all.
var baselineStorages = []string{"sqlite", "postgres"}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var storages string
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long each phase (logins, then authenticated requests) runs per storage")
	fs.IntVar(&o.clients, "clients", 32, "concurrent clients")
	fs.StringVar(&storages, "storages", strings.Join(defaultStorages, ","), "what to measure, comma-separated: "+strings.Join(allStorages, ", "))
	fs.StringVar(&o.pg, "pg", "auto", "PostgreSQL: a postgres:// DSN of a server on which each measurement gets a new database (needs CREATEDB), auto to start a throwaway server from the machine's binaries for each measurement (skipped if there are none), or off")
	fs.StringVar(&o.serverDir, "server", "", "the example server's source directory (default: examples/server above the current directory)")
	fs.StringVar(&o.baseline, "baseline", "", "the examples/server source directory of an older checkout, measured beside this one on "+strings.Join(baselineStorages, " and ")+" in the same run, each on a database of its own")
	fs.BoolVar(&o.twoInstances, "two-instances", false, "on sqlite and postgres, then start a second example server on the same database and send it page views of every session for -duration while half of them sign out on the first: how long after a sign-out the second still accepts it, against sqlstore's bound of 100 ms")
	fs.IntVar(&o.rounds, "rounds", 1, "how many times to measure each storage (and the baseline); the table shows medians")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.duration <= 0 || o.clients <= 0 || o.rounds <= 0 {
		return o, errors.New("-duration, -clients and -rounds must be positive")
	}
	// A tenth of each phase, at most a second, lets connections open and
	// caches fill before anything is counted.
	o.warmup = min(o.duration/10, time.Second)
	for _, s := range strings.Split(storages, ",") {
		if !contains(allStorages, s) {
			return o, fmt.Errorf("unknown storage %q in -storages", s)
		}
		o.storages = append(o.storages, s)
	}
	if o.pg != "auto" && o.pg != "off" && !strings.HasPrefix(o.pg, "postgres://") && !strings.HasPrefix(o.pg, "postgresql://") {
		return o, fmt.Errorf("-pg %q: want auto, off or a postgres:// DSN", o.pg)
	}
	if o.baseline != "" {
		if !slices.ContainsFunc(o.storages, o.hasBaseline) {
			return o, fmt.Errorf("-baseline is measured on %s only, and -storages names neither", strings.Join(baselineStorages, " and "))
		}
		// Checked now rather than at its build, after the floor and the
		// example: a mistyped directory should not cost a build.
		if _, err := os.Stat(filepath.Join(o.baseline, "main.go")); err != nil {
			return o, fmt.Errorf("-baseline %s: want the examples/server directory of a checkout: %w", o.baseline, err)
		}
	}
	return o, nil
}

func contains(list []string, s string) bool {
	return slices.Contains(list, s)
}

// hasBaseline reports whether storage is measured on the baseline too.
func (o options) hasBaseline(storage string) bool {
	return o.baseline != "" && contains(baselineStorages, storage)
}

// run measures each step of plan(o) in turn and returns what it measured.
// log receives progress. A storage that cannot run fails the whole run,
// except PostgreSQL under -pg auto on a machine without its binaries, which
// is skipped with a note.
func run(ctx context.Context, o options, log io.Writer) ([]result, error) {
	dir, err := os.MkdirTemp("", "embedsso-loadtest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	org := newLoadOrg()

	orgsFile, err := org.writeFile(dir)
	if err != nil {
		return nil, err
	}
	bins := map[string]string{} // "floor", "this", "baseline" → binary
	if slices.ContainsFunc(o.storages, isFloor) {
		src, err := findDir(filepath.Join("examples", "loadtest", "floor"))
		if err != nil {
			return nil, err
		}
		if bins["floor"], err = build(ctx, src, dir, "floor"); err != nil {
			return nil, err
		}
	}
	if o.needsExample() {
		src := o.serverDir
		if src == "" {
			if src, err = findDir(filepath.Join("examples", "server")); err != nil {
				return nil, fmt.Errorf("%w; pass -server", err)
			}
		}
		if bins["this"], err = build(ctx, src, dir, "server"); err != nil {
			return nil, err
		}
	}
	if o.baseline != "" {
		// The baseline builds in its own checkout, against that checkout's
		// go.work and so its own library: the old code, not this tree's.
		if bins["baseline"], err = build(ctx, o.baseline, dir, "baseline-server"); err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
	}
	example := func(db string) []string {
		return []string{"-addr", "127.0.0.1:0", "-customer-addr", "127.0.0.1:0", "-orgs", orgsFile, "-db", db}
	}

	var results []result
	noPostgres := false
	for i, st := range plan(o) {
		if (st.storage == "postgres" || st.storage == "scs-postgres") && noPostgres {
			continue
		}
		name := st.name()
		var target string
		var stop func() error
		var db string
		switch st.storage {
		case "floor":
			target, stop, err = startServer(ctx, bins["floor"], []string{"-addr", "127.0.0.1:0", "-orgs", orgsFile}, log)
		case "scs-sqlite":
			db = filepath.Join(dir, fmt.Sprintf("load-%d-scs.db", i))
			target, stop, err = startServer(ctx, bins["floor"], []string{"-addr", "127.0.0.1:0", "-orgs", orgsFile, "-sessions", st.storage, "-db", db}, log)
		case "postgres", "scs-postgres":
			// Every measurement gets a database nobody wrote to before it, so
			// that neither server inherits the other's rows (or its schema).
			dsn, stopPG, skip, perr := postgresDSN(ctx, o.pg, log)
			if perr != nil || skip {
				err, noPostgres = perr, skip
				break
			}
			db = dsn
			if st.storage == "scs-postgres" {
				target, stop, err = startServer(ctx, bins["floor"], []string{"-addr", "127.0.0.1:0", "-orgs", orgsFile, "-sessions", st.storage, "-db", dsn}, log)
			} else {
				target, stop, err = startServer(ctx, bins[st.server()], example(dsn), log)
			}
			if err != nil {
				err = errors.Join(err, stopPG())
				break
			}
			stopServer := stop
			stop = func() error { return errors.Join(stopServer(), stopPG()) }
		default:
			db = "memory"
			if st.storage == "sqlite" {
				// A new file for every measurement, for the same reason.
				db = filepath.Join(dir, fmt.Sprintf("load-%d-%s.db", i, st.server()))
			}
			target, stop, err = startServer(ctx, bins[st.server()], example(db), log)
		}
		if err != nil {
			return results, fmt.Errorf("%s: %w", name, err)
		}
		if stop == nil {
			continue // skipped
		}
		fmt.Fprintf(log, "%s%s: %d clients, %s of logins then %s of authenticated requests\n", name, st.roundNote(o), o.clients, o.duration, o.duration)
		var two func([]*client) *revocation
		if o.twoInstances && (st.storage == "sqlite" || st.storage == "postgres") && !st.baseline {
			two = func(clients []*client) *revocation {
				second, stopSecond, err := startServer(ctx, bins[st.server()], example(db), log)
				if err != nil {
					return &revocation{firstErr: fmt.Errorf("second instance: %w", err)}
				}
				fmt.Fprintf(log, "%s%s: a second instance on the same database, %s of page views on it while half the sessions sign out on the first\n", name, st.roundNote(o), o.duration)
				rv := measureRevocation(ctx, clients, target, second, o)
				if err := stopSecond(); err != nil && rv.firstErr == nil {
					rv.firstErr = fmt.Errorf("second instance: stop: %w", err)
				}
				return &rv
			}
		}
		r := measure(ctx, st.storage, target, org, o, two)
		r.baseline, r.round, r.db = st.baseline, st.round, db
		err = stop()
		results = append(results, r)
		if err != nil {
			return results, fmt.Errorf("%s: stop: %w", name, err)
		}
		if ctx.Err() != nil {
			return results, ctx.Err()
		}
	}
	return results, nil
}

func (o options) needsExample() bool {
	return slices.ContainsFunc(o.storages, func(s string) bool { return !isFloor(s) })
}
