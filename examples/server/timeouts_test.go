package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startWith runs the example with o (ports and storage filled in) and stops
// it when the test ends.
func startWith(t *testing.T, o options) urls {
	t.Helper()
	o.addr, o.customerAddr, o.db = "localhost:0", "127.0.0.1:0", filepath.Join(t.TempDir(), "app.db")
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan urls, 1), make(chan error, 1)
	go func() { done <- runOptions(ctx, o, io.Discard, io.Discard, ready) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	select {
	case u := <-ready:
		return u
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	return urls{}
}

// closedByServer reports whether the server closes conn: it reads until the
// server ends the connection (reading past a 408 it may write first), and
// gives up after 10 s, far beyond the tiny timeouts configured below.
func closedByServer(t *testing.T, conn net.Conn) bool {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err := io.Copy(io.Discard, conn)
	return !errors.Is(err, os.ErrDeadlineExceeded)
}

// Both servers drop a client that holds a connection: one that never
// finishes its headers, one that sends headers and never its body, and an
// idle keep-alive connection. The timeouts are tiny here so the test does
// not wait; the defaults are checked below.
func TestServersCloseSlowAndIdleConnections(t *testing.T) {
	t.Parallel()
	o := options{timeouts: timeouts{readHeader: 200 * time.Millisecond, read: 400 * time.Millisecond,
		write: 5 * time.Second, idle: 200 * time.Millisecond}}
	u := startWith(t, o)
	for _, site := range []struct{ name, base, path string }{
		{"the app", u.app, "/api/me"},
		{"the customer site", u.customer, "/"},
	} {
		host := mustHost(t, site.base)
		dial := func(t *testing.T) net.Conn {
			conn, err := net.Dial("tcp", host)
			require.NoError(t, err)
			t.Cleanup(func() { conn.Close() })
			return conn
		}
		t.Run(site.name+" closes a connection whose headers never end", func(t *testing.T) {
			conn := dial(t)
			_, err := io.WriteString(conn, "GET "+site.path+" HTTP/1.1\r\nHost: "+host+"\r\n")
			require.NoError(t, err)
			assert.True(t, closedByServer(t, conn))
		})
		t.Run(site.name+" closes a connection whose body never comes", func(t *testing.T) {
			conn := dial(t)
			_, err := io.WriteString(conn, "POST "+site.path+" HTTP/1.1\r\nHost: "+host+"\r\nContent-Length: 100\r\n\r\nx")
			require.NoError(t, err)
			assert.True(t, closedByServer(t, conn))
		})
		t.Run(site.name+" closes an idle keep-alive connection", func(t *testing.T) {
			conn := dial(t)
			_, err := io.WriteString(conn, "GET "+site.path+" HTTP/1.1\r\nHost: "+host+"\r\n\r\n")
			require.NoError(t, err)
			br := bufio.NewReader(conn)
			res, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			require.False(t, res.Close, "the server kept the connection open for the next request")
			assert.True(t, closedByServer(t, readerConn{conn, br}))
		})
	}
}

// The defaults that run uses, set on both servers.
func TestServerTimeoutDefaults(t *testing.T) {
	t.Parallel()
	o, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, defaultTimeouts, o.timeouts)
	s := newServer(http.NotFoundHandler(), o.timeouts, slog.New(slog.DiscardHandler))
	assert.Equal(t, 5*time.Second, s.ReadHeaderTimeout)
	assert.Equal(t, 10*time.Second, s.ReadTimeout)
	assert.Equal(t, 30*time.Second, s.WriteTimeout)
	assert.Equal(t, 60*time.Second, s.IdleTimeout)
}

func mustHost(t *testing.T, base string) string {
	t.Helper()
	p, err := url.Parse(base)
	require.NoError(t, err)
	return p.Host
}

// readerConn reads what a bufio.Reader already buffered before the conn.
type readerConn struct {
	net.Conn
	r *bufio.Reader
}

func (c readerConn) Read(b []byte) (int, error) { return c.r.Read(b) }
