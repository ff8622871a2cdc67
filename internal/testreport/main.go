// Command testreport runs `go test -json …` (its arguments), prints what
// `go test` would (each package's result line, and the output of failing
// tests), and closes with what ran and what did not: each package's counts,
// every skipped test with the reason it gave, whether the tests changed the
// git working tree, and last one line "tests: N passed, N failed, N skipped".
// ./test.sh runs every module's tests through it.
//
//	testreport [-strict] [-v] go test -json ./...
//
// It exits 1 when go test failed, and with -strict (CI) also when any test
// was skipped or the tests left a file in the working tree that git did
// not show before (an untracked go.work.sum, a node_modules): a suite whose
// tool is missing (Chromium, Node, PyJWT, PostgreSQL) skips itself on a
// developer's machine, and CI must never pass by running less than
// everything.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
)

func main() {
	strict := flag.Bool("strict", false, "a skipped test or a changed working tree fails the run (CI)")
	verbose := flag.Bool("v", false, "print every test's output, as go test -v does")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: testreport [-strict] [-v] go test -json packages…")
		os.Exit(2)
	}
	before, gitErr := treeStatus()
	r := newReport(os.Stdout, *verbose)
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	readErr := r.read(stdout)
	runErr := cmd.Wait()
	if readErr != nil {
		fmt.Fprintln(os.Stderr, "testreport:", readErr)
		os.Exit(2)
	}
	if gitErr == nil {
		after, err := treeStatus()
		if err == nil {
			r.treeChanges = newLines(before, after)
			r.treeChecked = true
		}
	}
	ok := r.summarize(*strict)
	if runErr != nil && ok {
		// go test failed without a failing test: a setup or vet error.
		fmt.Fprintln(os.Stderr, "testreport: go test:", runErr)
		ok = false
	}
	if !ok {
		os.Exit(1)
	}
}

// treeStatus is git's short status of the working tree, untracked files
// listed one by one (ignored files are not: they are meant to be there).
func treeStatus() ([]string, error) {
	out, err := exec.Command("git", "status", "--porcelain=v1", "--untracked-files=all").Output()
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n"), nil
}

// newLines are the lines of after that before did not have.
func newLines(before, after []string) []string {
	var out []string
	for _, l := range after {
		if l != "" && !slices.Contains(before, l) {
			out = append(out, l)
		}
	}
	return out
}

// event is one line of `go test -json` (see `go doc cmd/test2json`), or of
// the build events it interleaves (`go help buildjson`).
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	ImportPath  string // build events
	FailedBuild string
}

type testKey struct{ pkg, test string }

// pkgResult is one package's tally.
type pkgResult struct {
	passed, failed, skipped int
	noTests, failedPkg      bool
}

type skip struct {
	pkg, test, reason string
}

type report struct {
	out     io.Writer
	verbose bool
	buf     map[testKey][]string // each running test's output lines
	pkgs    map[string]*pkgResult
	order   []string // packages in the order they started
	skips   []skip
	builds  int // packages that failed to build

	treeChecked bool
	treeChanges []string // git status lines the tests added
}

func newReport(out io.Writer, verbose bool) *report {
	return &report{out: out, verbose: verbose, buf: map[testKey][]string{}, pkgs: map[string]*pkgResult{}}
}

func (r *report) pkg(name string) *pkgResult {
	p, ok := r.pkgs[name]
	if !ok {
		p = &pkgResult{}
		r.pkgs[name] = p
		r.order = append(r.order, name)
	}
	return p
}

// read consumes the stream. A line that is not JSON (go test can write a
// serious error as plain text) is printed as it is.
func (r *report) read(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(r.out, "%s\n", line)
			continue
		}
		r.handle(e)
	}
	return sc.Err()
}

func (r *report) handle(e event) {
	switch e.Action {
	case "build-output":
		fmt.Fprint(r.out, e.Output)
		return
	case "build-fail":
		r.builds++
		return
	}
	if e.Package == "" {
		return
	}
	p := r.pkg(e.Package)
	if e.Test == "" {
		switch e.Action {
		case "output":
			// go test without -v hides the test binary's bare PASS.
			if r.verbose || e.Output != "PASS\n" {
				fmt.Fprint(r.out, e.Output)
			}
		case "skip":
			p.noTests = true
		case "fail":
			p.failedPkg = true
		}
		return
	}
	k := testKey{e.Package, e.Test}
	switch e.Action {
	case "output":
		if r.verbose {
			fmt.Fprint(r.out, e.Output)
			break
		}
		r.buf[k] = append(r.buf[k], e.Output)
	case "pass":
		p.passed++
		delete(r.buf, k)
	case "fail":
		p.failed++
		for _, l := range r.buf[k] {
			if !isProgress(l) {
				fmt.Fprint(r.out, l)
			}
		}
		delete(r.buf, k)
	case "skip":
		p.skipped++
		r.skips = append(r.skips, skip{e.Package, e.Test, skipReason(r.buf[k])})
		delete(r.buf, k)
	}
}

// isProgress is a line go test prints only with -v.
func isProgress(l string) bool {
	t := strings.TrimSpace(l)
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// skipReason is what a skipped test said: its output less the progress
// lines and the --- SKIP line, without the file:line prefix.
func skipReason(lines []string) string {
	var said []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || isProgress(l) || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		if i := strings.Index(t, ": "); i > 0 && strings.Contains(t[:i], ".go:") {
			t = t[i+2:]
		}
		said = append(said, t)
	}
	if len(said) == 0 {
		return "(no reason given)"
	}
	return strings.Join(said, " ")
}

// summarize prints the closing summary and reports whether the run passed.
func (r *report) summarize(strict bool) bool {
	var passed, failed, skipped int
	ok := r.builds == 0
	fmt.Fprintln(r.out, "\n== suites")
	names := slices.Clone(r.order)
	slices.Sort(names)
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		p := r.pkgs[n]
		passed, failed, skipped = passed+p.passed, failed+p.failed, skipped+p.skipped
		status, what := "ran ", fmt.Sprintf("%d passed", p.passed)
		switch {
		case p.failed > 0 || p.failedPkg:
			status, ok = "FAIL", false
		case p.noTests && p.passed+p.skipped == 0:
			status, what = "--  ", "no test files"
		case p.passed+p.skipped == 0:
			status, what = "--  ", "no test matched"
		case p.passed == 0 && p.skipped > 0:
			status = "SKIP"
		}
		if p.failed > 0 {
			what += fmt.Sprintf(", %d failed", p.failed)
		}
		if p.skipped > 0 {
			what += fmt.Sprintf(", %d skipped", p.skipped)
		}
		fmt.Fprintf(r.out, "%s  %-*s  %s\n", status, width, n, what)
	}
	if len(r.skips) > 0 {
		fmt.Fprintln(r.out, "\n== skipped, and why")
		for _, g := range groupSkips(r.skips) {
			fmt.Fprintf(r.out, "%s %s: %s\n", g.pkg, g.tests, g.reason)
		}
		if strict {
			fmt.Fprintf(r.out, "\nCI runs every suite: %d skipped tests fail this run. Install what they name (.ci/run does).\n", len(r.skips))
			ok = false
		}
	}
	switch {
	case !r.treeChecked:
		fmt.Fprintln(r.out, "\n== working tree: not checked (not a git work tree)")
	case len(r.treeChanges) == 0:
		fmt.Fprintln(r.out, "\n== working tree: as the tests found it")
	default:
		fmt.Fprintln(r.out, "\n== working tree: the tests left files that git shows (ignore or commit them, or stop writing them)")
		for _, l := range r.treeChanges {
			fmt.Fprintln(r.out, l)
		}
		if strict {
			ok = false
		}
	}
	if r.builds > 0 {
		fmt.Fprintf(r.out, "\n%d packages failed to build\n", r.builds)
	}
	if len(names) == 0 {
		fmt.Fprintln(r.out, "no package was tested")
		ok = false
	}
	fmt.Fprintf(r.out, "\ntests: %d passed, %d failed, %d skipped\n", passed, failed, skipped)
	return ok
}

// skipGroup is the skips of one package that gave one reason.
type skipGroup struct {
	pkg, tests, reason string
}

// groupSkips folds the skips of one package with one reason into one line
// (a missing PostgreSQL skips every PostgreSQL subtest alike), naming the
// first test and how many more, in the order they were first seen.
func groupSkips(skips []skip) []skipGroup {
	type key struct{ pkg, reason string }
	var order []key
	tests := map[key][]string{}
	for _, s := range skips {
		k := key{s.pkg, s.reason}
		if _, seen := tests[k]; !seen {
			order = append(order, k)
		}
		tests[k] = append(tests[k], s.test)
	}
	out := make([]skipGroup, len(order))
	for i, k := range order {
		names := tests[k][0]
		if n := len(tests[k]); n > 1 {
			names += fmt.Sprintf(" and %d more", n-1)
		}
		out[i] = skipGroup{k.pkg, names, k.reason}
	}
	return out
}
