// Command loadtest measures the example server (examples/server) on each of
// its storages, and a hand-written floor server, with the browser's whole
// flow over loopback, and prints one table:
//
//	go run ./examples/loadtest [-duration 10s] [-clients 32] [-storages floor,memory,sqlite,postgres] [-pg auto|off|DSN]
//
// For each storage it builds and starts the example (memory: -db memory;
// sqlite: a new SQLite file; postgres: a new PostgreSQL database, durable
// commits), then runs two phases of -duration each with -clients concurrent
// clients. In the login phase every client signs in over and over as the
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
	results, err := run(ctx, o, os.Stderr)
	if len(results) > 0 {
		writeTable(os.Stdout, results, o)
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
}

var allStorages = []string{"floor", "memory", "sqlite", "postgres"}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var storages string
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long each phase (logins, then authenticated requests) runs per storage")
	fs.IntVar(&o.clients, "clients", 32, "concurrent clients")
	fs.StringVar(&storages, "storages", strings.Join(allStorages, ","), "what to measure, comma-separated: "+strings.Join(allStorages, ", "))
	fs.StringVar(&o.pg, "pg", "auto", "PostgreSQL: a postgres:// DSN to use, auto to start a throwaway server from the machine's binaries (skipped if there are none), or off")
	fs.StringVar(&o.serverDir, "server", "", "the example server's source directory (default: examples/server above the current directory)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.duration <= 0 || o.clients <= 0 {
		return o, errors.New("-duration and -clients must be positive")
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
	return o, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// run measures each storage of o in turn and returns what it measured. log
// receives progress. A storage that cannot run fails the whole run, except
// PostgreSQL under -pg auto on a machine without its binaries, which is
// skipped with a note.
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
	var floorBin, serverBin string
	if contains(o.storages, "floor") {
		src, err := findDir(filepath.Join("examples", "loadtest", "floor"))
		if err != nil {
			return nil, err
		}
		if floorBin, err = build(ctx, src, dir); err != nil {
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
		if serverBin, err = build(ctx, src, dir); err != nil {
			return nil, err
		}
	}
	example := func(db string) []string {
		return []string{"-addr", "127.0.0.1:0", "-customer-addr", "127.0.0.1:0", "-orgs", orgsFile, "-db", db}
	}

	var results []result
	for _, storage := range o.storages {
		var target string
		var stop func() error
		switch storage {
		case "floor":
			target, stop, err = startServer(ctx, floorBin, []string{"-addr", "127.0.0.1:0", "-orgs", orgsFile}, log)
		case "postgres":
			dsn, stopPG, skip, perr := postgresDSN(ctx, o.pg, log)
			if perr != nil || skip {
				err = perr
				break
			}
			target, stop, err = startServer(ctx, serverBin, example(dsn), log)
			if err != nil {
				_ = stopPG()
				break
			}
			stopServer := stop
			stop = func() error { return errors.Join(stopServer(), stopPG()) }
		default:
			db := "memory"
			if storage == "sqlite" {
				db = filepath.Join(dir, "load.db")
			}
			target, stop, err = startServer(ctx, serverBin, example(db), log)
		}
		if err != nil {
			return results, fmt.Errorf("%s: %w", storage, err)
		}
		if stop == nil {
			continue // skipped
		}
		fmt.Fprintf(log, "%s: %d clients, %s of logins then %s of authenticated requests\n", storage, o.clients, o.duration, o.duration)
		r := measure(ctx, storage, target, org, o)
		err = stop()
		results = append(results, r)
		if err != nil {
			return results, fmt.Errorf("%s: stop: %w", storage, err)
		}
		if ctx.Err() != nil {
			return results, ctx.Err()
		}
	}
	return results, nil
}

func (o options) needsExample() bool {
	for _, s := range o.storages {
		if s != "floor" {
			return true
		}
	}
	return false
}
