package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// buildExample builds the example server (a main package, so it runs as a
// child process rather than being imported) into dir and returns the binary.
func buildExample(ctx context.Context, src, dir string) (string, error) {
	if src == "" {
		var err error
		if src, err = findExample(); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(dir, "server")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the example server in %s: %w\n%s", src, err, out)
	}
	return bin, nil
}

// findExample looks for examples/server in the current directory and the
// ones above it, so the command runs from anywhere in the repository.
func findExample() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "examples", "server")
		if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("examples/server not found above the current directory; pass -server")
		}
		dir = parent
	}
}

// startExample runs the example server on free loopback ports with db as
// its storage and returns the app's base URL, once it listens, and how to
// stop it (SIGINT, as a user would, then wait).
func startExample(ctx context.Context, bin, orgsFile, db string, log io.Writer) (string, func() error, error) {
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-customer-addr", "127.0.0.1:0", "-orgs", orgsFile, "-db", db)
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
				return fmt.Errorf("the example server: %w\n%s", err, stderr)
			}
			return nil
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("the example server did not stop within 10s of SIGINT\n%s", stderr)
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
			fmt.Fprintf(log, "started the example with -db %s at %s\n", db, u)
			return u, stop, nil
		}
	case <-ctx.Done():
	case <-time.After(2 * time.Minute):
	}
	err := stop()
	return "", nil, fmt.Errorf("the example server with -db %s did not start: %v\n%s", db, err, stderr)
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
