package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/embedsso/embedsso/signer"
)

// The documentation's code blocks are tested here, in the module that
// requires everything they import (the core, sqlstore, the SQLite driver,
// testify). A Go block is compiled as a package of this module that exists
// only in a go build -overlay, so nothing is written to the tree:
//
//   - a block that starts with "package" is a whole file, compiled as it is;
//   - a block that starts with func or type is top-level declarations;
//   - any other block is statements, compiled in a function that declares
//     ctx, w, r, mux, store (a *sqlstore.Store), sso and sessions for it.
//
// A block preceded by "<!-- from PATH -->" is an excerpt of that file of the
// repository, which its own tests run (the interop signers): it must appear
// in that file as it is, and is not compiled here.

// docFiles are the documents whose snippets are tested, relative to the
// repository's root.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md", "examples/server/README.md"}
	docs, err := filepath.Glob("../../docs/*.md")
	require.NoError(t, err)
	for _, d := range docs {
		files = append(files, strings.TrimPrefix(filepath.ToSlash(d), "../../"))
	}
	sort.Strings(files[2:])
	return files
}

type snippet struct {
	file string // relative to the repository's root
	line int    // the block's first line of code, counted from 1
	lang string
	from string // the path a "<!-- from PATH -->" marker names
	code string
}

func (s snippet) String() string { return fmt.Sprintf("%s:%d", s.file, s.line) }

var fromMarker = regexp.MustCompile(`^<!-- from (\S+) -->$`)

// docSnippets returns every fenced code block of the documents.
func docSnippets(t *testing.T) []snippet {
	t.Helper()
	var all []snippet
	for _, file := range docFiles(t) {
		b, err := os.ReadFile("../../" + file)
		require.NoError(t, err)
		var cur *snippet
		var code []string
		prev := ""
		for i, line := range strings.Split(string(b), "\n") {
			switch {
			case cur == nil && strings.HasPrefix(line, "```"):
				cur = &snippet{file: file, line: i + 2, lang: strings.TrimPrefix(line, "```")}
				if m := fromMarker.FindStringSubmatch(prev); m != nil {
					cur.from = m[1]
				}
				code = nil
			case cur != nil && line == "```":
				cur.code = strings.Join(code, "\n") + "\n"
				all = append(all, *cur)
				cur = nil
			case cur != nil:
				code = append(code, line)
			}
			if strings.TrimSpace(line) != "" {
				prev = line
			}
		}
		require.Nil(t, cur, "%s: a code block is not closed", file)
	}
	return all
}

func goSnippets(t *testing.T) []snippet {
	t.Helper()
	var gos []snippet
	for _, s := range docSnippets(t) {
		if s.lang == "go" && s.from == "" {
			gos = append(gos, s)
		}
	}
	require.NotEmpty(t, gos)
	return gos
}

// Blocks that quote a file of the repository quote it exactly.
func TestDocsExcerptsAreInTheirFiles(t *testing.T) {
	t.Parallel()
	n := 0
	for _, s := range docSnippets(t) {
		if s.from == "" {
			continue
		}
		n++
		b, err := os.ReadFile("../../" + s.from)
		require.NoError(t, err, "%s names %s", s, s.from)
		assert.Contains(t, string(b), s.code, "%s is not an excerpt of %s", s, s.from)
	}
	assert.NotZero(t, n)
}

// packages maps the names a snippet may use to the import paths they stand
// for; a snippet imports those whose name it uses.
var packages = map[string]string{
	"context": "context", "errors": "errors", "fmt": "fmt", "log": "log", "os": "os",
	"slices": "slices", "strings": "strings", "time": "time", "testing": "testing",
	"sql": "database/sql", "http": "net/http", "url": "net/url", "slog": "log/slog",
	"template":      "html/template",
	"embedsso":      "github.com/embedsso/embedsso",
	"cookiesession": "github.com/embedsso/embedsso/cookiesession",
	"embedssotest":  "github.com/embedsso/embedsso/embedssotest",
	"memstore":      "github.com/embedsso/embedsso/memstore",
	"orgapi":        "github.com/embedsso/embedsso/orgapi",
	"signer":        "github.com/embedsso/embedsso/signer",
	"sqlstore":      "github.com/embedsso/embedsso/sqlstore",
	"require":       "github.com/stretchr/testify/require",
}

// statementVars are what a statements block may use without declaring it.
const statementVars = `	var (
		ctx      = context.Background()
		w        http.ResponseWriter
		r        = &http.Request{}
		mux      = http.NewServeMux()
		store    *sqlstore.Store
		sso      *embedsso.Handler
		sessions *cookiesession.Issuer
	)
	_, _, _, _, _, _, _ = ctx, w, r, mux, store, sso, sessions
`

// snippetSource is the Go file a snippet is compiled as. Its //line comments
// make the compiler's errors name the document's lines.
func snippetSource(s snippet) string {
	if strings.HasPrefix(s.code, "package ") {
		return fmt.Sprintf("//line %s:%d\n%s", s.file, s.line, s.code)
	}
	statements := !regexp.MustCompile(`^(func|type|var|const) `).MatchString(s.code)
	used := map[string]bool{}
	for name := range packages {
		if regexp.MustCompile(`\b` + name + `\.`).MatchString(s.code) {
			used[name] = true
		}
	}
	if statements {
		for _, name := range []string{"context", "http", "sqlstore", "embedsso", "cookiesession"} {
			used[name] = true
		}
	}
	var b strings.Builder
	b.WriteString("package snippet\n\nimport (\n")
	for name := range used {
		fmt.Fprintf(&b, "\t%q\n", packages[name])
	}
	b.WriteString(")\n\n")
	if statements {
		b.WriteString("func snippet() {\n" + statementVars + "\t{\n")
	}
	fmt.Fprintf(&b, "//line %s:%d\n%s", s.file, s.line, s.code)
	if statements {
		b.WriteString("\t}\n}\n")
	}
	return b.String()
}

// overlay writes the snippets' sources to a temporary directory and returns
// a go build -overlay file that puts them in this module, at ./zz_docsnippets/NAME.
func overlay(t *testing.T, sources map[string]string) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	dir := t.TempDir()
	replace := map[string]string{}
	for name, src := range sources {
		file := filepath.Join(dir, name+".go")
		require.NoError(t, os.WriteFile(file, []byte(src), 0o600))
		replace[filepath.Join(wd, "zz_docsnippets", name, "snippet.go")] = file
	}
	b, err := json.Marshal(map[string]any{"Replace": replace})
	require.NoError(t, err)
	file := filepath.Join(dir, "overlay.json")
	require.NoError(t, os.WriteFile(file, b, 0o600))
	return file
}

// Every Go block of the README and docs/ compiles against this tree.
func TestDocsGoSnippetsCompile(t *testing.T) {
	t.Parallel()
	sources := map[string]string{}
	var pkgs []string
	for i, s := range goSnippets(t) {
		name := fmt.Sprintf("s%02d", i)
		sources[name] = snippetSource(s)
		pkgs = append(pkgs, "./zz_docsnippets/"+name)
	}
	cmd := exec.Command("go", append([]string{"build", "-overlay", overlay(t, sources)}, pkgs...)...)
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "the docs' Go snippets do not compile:\n%s", out)
}

// The README's programs run as written: a token signed with the org's
// secret, loaded from the customer's site, signs Jane in and /dashboard
// greets her; without a session the guard answers instead of the page. The
// SQLite program keeps her session across a restart. A program that cannot
// start (a driver not imported, say) fails here.
func TestREADMEProgramsRun(t *testing.T) {
	t.Parallel()
	var programs []snippet
	for _, s := range goSnippets(t) {
		if s.file == "README.md" && strings.HasPrefix(s.code, "package main\n") {
			programs = append(programs, s)
		}
	}
	require.Len(t, programs, 2, "the README's main.go and its SQLite version")
	for _, p := range programs {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			addr := freeAddr(t)
			code := strings.Replace(p.code, `"localhost:8080"`, fmt.Sprintf("%q", addr), 1)
			require.NotEqual(t, p.code, code, "the program listens on localhost:8080")
			bin := filepath.Join(t.TempDir(), "app")
			build := exec.Command("go", "build", "-overlay", overlay(t, map[string]string{"run": snippetSource(snippet{file: p.file, line: p.line, code: code})}), "-o", bin, "./zz_docsnippets/run")
			out, err := build.CombinedOutput()
			require.NoError(t, err, "build %s:\n%s", p, out)

			secret := signer.GenerateSecret()
			dir := t.TempDir()
			base := "http://" + addr
			stop := startProgram(t, bin, dir, secret, base)

			status, body := getDoc(t, base+"/dashboard", nil, "application/json")
			assert.Equal(t, http.StatusUnauthorized, status, "an API call without a session")
			assert.NotContains(t, body, "Hello")
			_, body = getDoc(t, base+"/dashboard", nil, "")
			assert.NotContains(t, body, "Hello", "a page without a session")

			cookies := signInAsJane(t, base, secret)
			status, body = getDoc(t, base+"/dashboard", cookies, "")
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, "Hello, Jane\n", body)

			if strings.Contains(p.code, "app.db") {
				stop()
				startProgram(t, bin, dir, secret, base)
				_, body = getDoc(t, base+"/dashboard", cookies, "")
				assert.Equal(t, "Hello, Jane\n", body, "the session survived the restart in app.db")
				_, err := os.Stat(filepath.Join(dir, "app.db"))
				assert.NoError(t, err)
			}
		})
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// startProgram runs bin in dir with ORG_SECRET set and waits until it answers
// on base; it fails the test if the program exits first. stop kills it.
func startProgram(t *testing.T, bin, dir, secret, base string) (stop func()) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ORG_SECRET="+secret)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			<-exited
		})
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the program exited (%v) before it served:\n%s", err, stderr.String())
		default:
		}
		resp, err := http.Get(base + "/")
		if err == nil {
			_ = resp.Body.Close()
			return stop
		}
		require.True(t, time.Now().Before(deadline), "the program did not listen on %s in 30 s:\n%s", base, stderr.String())
		time.Sleep(50 * time.Millisecond)
	}
}

// signInAsJane goes through the browser's flow from the customer's page: the login,
// then the cookie check its redirect leads to. It returns the cookies set.
func signInAsJane(t *testing.T, base, secret string) map[string]string {
	t.Helper()
	token, err := signer.Signer{Secret: secret}.Sign(signer.Claims{Email: "jane@customer.example", OrgID: "org_abc123", FirstName: "Jane"})
	require.NoError(t, err)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cookies := map[string]string{}
	next := base + "/api/sso/jwt?jwt=" + url.QueryEscape(token)
	for hop := 0; hop < 3; hop++ {
		req, err := http.NewRequest(http.MethodGet, next, nil)
		require.NoError(t, err)
		req.Header.Set("Referer", "https://portal.customer.example/")
		for name, value := range cookies {
			req.AddCookie(&http.Cookie{Name: name, Value: value})
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.MaxAge < 0 {
				delete(cookies, c.Name)
			} else {
				cookies[c.Name] = c.Value
			}
		}
		require.Equal(t, http.StatusFound, resp.StatusCode, "hop %d", hop)
		loc, err := resp.Location()
		require.NoError(t, err)
		if loc.Path == "/dashboard" {
			return cookies
		}
		next = loc.String()
	}
	t.Fatal("the sign-in did not reach /dashboard")
	return nil
}

func getDoc(t *testing.T, u string, cookies map[string]string, accept string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	for name, value := range cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// The builds the docs show land in paths git ignores, and go.work.sum, which
// plain go commands rewrite, is not tracked (.ci/hygiene runs the commands).
func TestDocsBuildsLandInIgnoredPaths(t *testing.T) {
	t.Parallel()
	builds := regexp.MustCompile(`go build -o (\S+)`)
	n := 0
	for _, s := range docSnippets(t) {
		if s.lang != "sh" {
			continue
		}
		for _, m := range builds.FindAllStringSubmatch(s.code, -1) {
			n++
			out, err := exec.Command("git", "-C", "../..", "check-ignore", "--no-index", m[1]).CombinedOutput()
			assert.NoError(t, err, "%s builds into %s, which git does not ignore: %s", s, m[1], out)
		}
	}
	assert.NotZero(t, n, "the README shows a build")
	err := exec.Command("git", "-C", "../..", "ls-files", "--error-unmatch", "go.work.sum").Run()
	assert.Error(t, err, "go.work.sum is tracked")
}

// examples/server/README.md's table names every flag of the example, and no other.
func TestTheExamplesREADMEListsEveryFlag(t *testing.T) {
	t.Parallel()
	var usage strings.Builder
	_, err := parseFlags([]string{"-h"}, &usage)
	require.ErrorIs(t, err, flag.ErrHelp)
	var want []string
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(usage.String(), -1) {
		want = append(want, m[1])
	}
	b, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var got []string
	for _, line := range strings.Split(string(b), "\n") {
		cols := strings.Split(line, " | ")
		if !strings.HasPrefix(line, "| `-") || len(cols) < 2 {
			continue
		}
		for _, m := range regexp.MustCompile("`-([a-z-]+)").FindAllStringSubmatch(cols[0], -1) {
			got = append(got, m[1])
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	require.NotEmpty(t, want)
	assert.Equal(t, want, got)
}

// The documents' relative links name files and directories of the repository.
func TestDocsLinksResolve(t *testing.T) {
	t.Parallel()
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	n := 0
	for _, file := range docFiles(t) {
		b, err := os.ReadFile("../../" + file)
		require.NoError(t, err)
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") {
				continue
			}
			n++
			_, err := os.Stat(filepath.Join("../..", filepath.Dir(file), target))
			assert.NoError(t, err, "%s links to %s", file, m[1])
		}
	}
	assert.NotZero(t, n)
}
