package main

import (
	"log/slog"
	"net/http"
	"time"
)

// timeouts bound how long one client may hold a connection of either
// server: without them, a client that opens connections and sends nothing,
// sends its request a byte at a time, or keeps idle keep-alive connections
// holds a goroutine and a file descriptor each for as long as it likes.
type timeouts struct {
	readHeader time.Duration // the request line and headers
	read       time.Duration // the whole request, body included
	write      time.Duration // from the end of the headers to the end of the response
	idle       time.Duration // a keep-alive connection between two requests
}

// defaultTimeouts are the example's: its requests are small and its
// answers quick, so each bound is far above what a real client needs.
var defaultTimeouts = timeouts{
	readHeader: 5 * time.Second,
	read:       10 * time.Second,
	write:      30 * time.Second,
	idle:       60 * time.Second,
}

// newServer is the http.Server of the app and of the customer site.
func newServer(h http.Handler, t timeouts, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      t.write,
		IdleTimeout:       t.idle,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
