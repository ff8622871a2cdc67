package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// build builds the main package in src (the example server, or the floor)
// into dir as name and returns the binary. The servers run as child
// processes: the example is a main package, so it cannot be imported, and
// the floor runs apart from the clients too, so that both pay for the same
// things. go build runs in src, so it uses the go.work of src's checkout.
func build(ctx context.Context, src, dir, name string) (string, error) {
	bin := filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", src, err, out)
	}
	return bin, nil
}

// revision names the commit of the checkout that holds dir (the current
// directory when dir is ""), "-dirty" appended when its tracked files
// differ from it, or is "" when git cannot tell.
func revision(ctx context.Context, dir string) string {
	if dir == "" {
		dir = "."
	}
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "describe", "--always", "--dirty").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// findDir looks for rel (a directory of this repository) under the current
// directory and the ones above it, so the command runs from anywhere in
// the repository.
func findDir(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(filepath.Join(p, "main.go")); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s not found above the current directory", rel)
		}
		dir = parent
	}
}

// startServer runs bin with args and returns the app's base URL, once the
// server prints it ("the app: URL", as the example's banner and the floor
// say it once they listen), and how to stop it (SIGINT, as a user would,
// then wait).
func startServer(ctx context.Context, bin string, args []string, log io.Writer) (string, func() error, error) {
	cmd := exec.Command(bin, args...)
	stderr := &tail{max: 8 << 10}
	cmd.Stderr = stderr
	stdout, stdoutW := io.Pipe()
	cmd.Stdout = stdoutW
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		stdoutW.Close()
		exited <- err
	}()
	stop := func() error {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				return fmt.Errorf("%s: %w\n%s", filepath.Base(bin), err, stderr)
			}
			return nil
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("%s did not stop within 10s of SIGINT\n%s", filepath.Base(bin), stderr)
		}
	}

	// The banner's "the app:" line comes once the storage is open and both
	// listeners are bound.
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, after, ok := strings.Cut(sc.Text(), "the app:"); ok {
				found <- strings.TrimSuffix(strings.TrimSpace(after), "/dashboard")
			}
		}
		close(found)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case u, ok := <-found:
		if ok {
			fmt.Fprintf(log, "started %s %s at %s\n", filepath.Base(bin), strings.Join(redacted(args), " "), u)
			return u, stop, nil
		}
	case <-ctx.Done():
	case <-time.After(2 * time.Minute):
	}
	err := stop()
	return "", nil, fmt.Errorf("%s did not start: %v\n%s", filepath.Base(bin), err, stderr)
}

// tail keeps the last max bytes written to it, for error messages.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// redacted is args with the password of any URL among them replaced by
// xxxxx, for the log: -db may be a DSN with one.
func redacted(args []string) []string {
	out := slices.Clone(args)
	for i, a := range out {
		if u, err := url.Parse(a); err == nil && u.User != nil {
			out[i] = u.Redacted()
		}
	}
	return out
}
