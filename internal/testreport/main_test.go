package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stream is a go test -json run, one event per entry.
func stream(t *testing.T, events ...event) string {
	t.Helper()
	var b strings.Builder
	for _, e := range events {
		line, err := json.Marshal(e)
		require.NoError(t, err)
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func out(pkg, test, text string) event {
	return event{Action: "output", Package: pkg, Test: test, Output: text}
}

const (
	core = "github.com/embedsso/embedsso"
	e2e  = "github.com/embedsso/embedsso/e2e"
)

// A passing core package and an e2e package that skipped for want of
// Chromium.
var chromiumMissing = []event{
	{Action: "start", Package: core},
	{Action: "run", Package: core, Test: "TestA"},
	out(core, "TestA", "=== RUN   TestA\n"),
	out(core, "TestA", "--- PASS: TestA (0.00s)\n"),
	{Action: "pass", Package: core, Test: "TestA"},
	out(core, "", "PASS\n"),
	out(core, "", "ok  \t"+core+"\t0.1s\n"),
	{Action: "pass", Package: core},
	{Action: "start", Package: e2e},
	{Action: "run", Package: e2e, Test: "TestEmbeddingInChromium"},
	out(e2e, "TestEmbeddingInChromium", "=== RUN   TestEmbeddingInChromium\n"),
	out(e2e, "TestEmbeddingInChromium", "    embedding_test.go:21: no Chromium at /nonexistent (apt-get install chromium, or set E2E_CHROMIUM)\n"),
	out(e2e, "TestEmbeddingInChromium", "--- SKIP: TestEmbeddingInChromium (0.00s)\n"),
	{Action: "skip", Package: e2e, Test: "TestEmbeddingInChromium"},
	out(e2e, "", "ok  \t"+e2e+"\t0.1s\n"),
	{Action: "pass", Package: e2e},
	{Action: "start", Package: core + "/internal/x"},
	out(core+"/internal/x", "", "?   \t"+core+"/internal/x\t[no test files]\n"),
	{Action: "skip", Package: core + "/internal/x"},
}

func run(t *testing.T, strict bool, events []event, treeChanges ...string) (string, bool) {
	t.Helper()
	var b strings.Builder
	r := newReport(&b, false)
	require.NoError(t, r.read(strings.NewReader(stream(t, events...))))
	r.treeChecked, r.treeChanges = true, treeChanges
	ok := r.summarize(strict)
	return b.String(), ok
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestASkippedSuiteIsReportedWithItsReason(t *testing.T) {
	got, ok := run(t, false, chromiumMissing)
	assert.True(t, ok, "outside CI a skip does not fail the run")
	assert.Contains(t, got, "ok  \t"+core+"\t0.1s\n", "go test's own result lines are kept")
	assert.NotContains(t, got, "=== RUN", "passing tests' output is not printed")
	assert.Contains(t, got, "SKIP  "+e2e+"         0 passed, 1 skipped\n")
	assert.Contains(t, got, "ran   "+core+"             1 passed\n")
	assert.Contains(t, got, "--    "+core+"/internal/x  no test files\n", "a package without tests is no skip")
	assert.Contains(t, got, "== skipped, and why\n"+e2e+" TestEmbeddingInChromium: no Chromium at /nonexistent (apt-get install chromium, or set E2E_CHROMIUM)\n")
	assert.Equal(t, "tests: 1 passed, 0 failed, 1 skipped", lastLine(got))
}

func TestInCIASkipFailsTheRun(t *testing.T) {
	got, ok := run(t, true, chromiumMissing)
	assert.False(t, ok)
	assert.Contains(t, got, "CI runs every suite: 1 skipped tests fail this run.")
	assert.Equal(t, "tests: 1 passed, 0 failed, 1 skipped", lastLine(got), "the closing line stays last")
}

func TestAFailingTestPrintsItsOutputAndFailsTheRun(t *testing.T) {
	got, ok := run(t, false, []event{
		{Action: "start", Package: core},
		out(core, "TestB", "=== RUN   TestB\n"),
		out(core, "TestB", "    b_test.go:9: got 1, want 2\n"),
		out(core, "TestB", "--- FAIL: TestB (0.00s)\n"),
		{Action: "fail", Package: core, Test: "TestB"},
		out(core, "", "FAIL\n"),
		out(core, "", "FAIL\t"+core+"\t0.1s\n"),
		{Action: "fail", Package: core},
	})
	assert.False(t, ok)
	assert.Contains(t, got, "    b_test.go:9: got 1, want 2\n--- FAIL: TestB (0.00s)\n")
	assert.Contains(t, got, "FAIL  "+core+"  0 passed, 1 failed\n")
	assert.Equal(t, "tests: 0 passed, 1 failed, 0 skipped", lastLine(got))
}

func TestABuildFailureFailsTheRun(t *testing.T) {
	got, ok := run(t, false, []event{
		{Action: "build-output", ImportPath: core + " [" + core + ".test]", Output: "./a.go:1:1: syntax error\n"},
		{Action: "build-fail", ImportPath: core + " [" + core + ".test]"},
		{Action: "start", Package: core},
		out(core, "", "FAIL\t"+core+" [build failed]\n"),
		{Action: "fail", Package: core, FailedBuild: core + " [" + core + ".test]"},
	})
	assert.False(t, ok)
	assert.Contains(t, got, "./a.go:1:1: syntax error\n")
	assert.Contains(t, got, "1 packages failed to build")
}

func TestFilesLeftInTheTreeAreShownAndFailCI(t *testing.T) {
	passing := chromiumMissing[:8]
	got, ok := run(t, false, passing, "?? go.work.sum")
	assert.True(t, ok)
	assert.Contains(t, got, "== working tree: the tests left files that git shows (ignore or commit them, or stop writing them)\n?? go.work.sum\n")
	_, ok = run(t, true, passing, "?? go.work.sum")
	assert.False(t, ok)
	got, ok = run(t, true, passing)
	assert.True(t, ok)
	assert.Contains(t, got, "== working tree: as the tests found it\n")
}

func TestNewLinesAreWhatTheTestsAdded(t *testing.T) {
	assert.Equal(t, []string{"?? go.work.sum"}, newLines([]string{" M README.md"}, []string{" M README.md", "?? go.work.sum"}))
	assert.Empty(t, newLines([]string{""}, []string{""}))
}

// The command runs go test (here a stand-in printing a stream) and exits 1
// under -strict when a test skipped.
func TestTheCommandExitsNonZeroOnASkipInCI(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatal("go is not on PATH")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "testreport")
	build := exec.Command("go", "build", "-o", bin, ".")
	buildOut, err := build.CombinedOutput()
	require.NoError(t, err, "%s", buildOut)
	file := filepath.Join(dir, "stream.json")
	require.NoError(t, os.WriteFile(file, []byte(stream(t, chromiumMissing...)), 0o600))

	out, err := exec.Command(bin, "cat", file).Output()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "tests: 1 passed, 0 failed, 1 skipped", lastLine(string(out)))

	out, err = exec.Command(bin, "-strict", "cat", file).Output()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "%s", out)
	assert.Equal(t, 1, ee.ExitCode())
	assert.Equal(t, "tests: 1 passed, 0 failed, 1 skipped", lastLine(string(out)))

	_, err = exec.Command(bin, "false").Output()
	require.ErrorAs(t, err, &ee, "a failing go test without events fails the run")
	assert.Equal(t, 1, ee.ExitCode())
}

func TestSkipsForOneReasonAreOneLine(t *testing.T) {
	const sql = "github.com/embedsso/embedsso/sqlstore"
	reason := "    main_test.go:64: no PostgreSQL server binaries (initdb, pg_ctl) on this machine: apt-get install postgresql\n"
	var events []event
	for _, name := range []string{"TestA/postgres", "TestB/postgres", "TestC/postgres"} {
		events = append(events, out(sql, name, reason), event{Action: "skip", Package: sql, Test: name})
	}
	events = append(events, out(sql, "TestD", "    d_test.go:1: another reason\n"), event{Action: "skip", Package: sql, Test: "TestD"})
	got, _ := run(t, false, events)
	assert.Contains(t, got, "== skipped, and why\n"+
		sql+" TestA/postgres and 2 more: no PostgreSQL server binaries (initdb, pg_ctl) on this machine: apt-get install postgresql\n"+
		sql+" TestD: another reason\n")
	assert.Equal(t, "tests: 0 passed, 0 failed, 4 skipped", lastLine(got))
}
