// Command server is embedsso's example: an app with the SSO endpoint, a
// dashboard and GET /api/me, plus a second "customer site" on another port
// whose page mints a token server-side and shows the app in an iframe.
//
//	go run ./examples/server [-addr localhost:8080] [-customer-addr 127.0.0.1:8081] [-orgs FILE] [-db DSN]
//	                         [-session-max DURATION] [-session-idle DURATION] [-no-login-url]
//	                         [-unpartitioned] [-tls] [-tls-cert FILE -tls-key FILE]
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/embedsso/embedsso/cookiesession"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// usageError is a bad flag or argument: exit status 2.
type usageError struct{ error }

// options are the command line, and the servers' timeouts (not flags).
type options struct {
	addr, customerAddr, orgsFile, db string
	sessionMax                       time.Duration // cookiesession.Config.TTL; 0 is the library's default
	sessionIdle                      time.Duration // cookiesession.Config.IdleTimeout; 0 is the library's default, negative none
	noLoginURL                       bool          // the demo org gets no LoginURL
	unpartitioned                    bool          // cookies without Partitioned, as Safari keeps them
	tls                              bool          // serve both sites over HTTPS (tls.go)
	tlsCert, tlsKey                  string        // PEM files; empty: a certificate made for this run
	timeouts                         timeouts
	adminKey                         string // $EMBEDSSO_ADMIN_KEY
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := options{timeouts: defaultTimeouts}
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "localhost:8080", "the app's listen address")
	fs.StringVar(&o.customerAddr, "customer-addr", "127.0.0.1:8081", "the demo customer site's listen address (another site than the app's)")
	fs.StringVar(&o.orgsFile, "orgs", "", "JSON file of organizations; default: one demo org with a new secret")
	fs.StringVar(&o.db, "db", "", "storage: postgres://… for PostgreSQL, memory for this process's memory, else a SQLite file (default "+defaultDB+"), optionally with ?driver options such as _pragma=synchronous(FULL) (default: NORMAL)")
	fs.DurationVar(&o.sessionMax, "session-max", 0, "a session's absolute lifetime, e.g. 10s to watch one end (default: the library's, 8h)")
	fs.DurationVar(&o.sessionIdle, "session-idle", 0, "how long an unused session lasts; negative: no idle limit (default: the library's, 30m)")
	fs.BoolVar(&o.noLoginURL, "no-login-url", false, "the demo org has no LoginURL: an ended session shows a page that tells the customer's page instead")
	fs.BoolVar(&o.unpartitioned, "unpartitioned", false, "the app's cookies without the Partitioned attribute (cookiesession.Config and embedsso.Config NotPartitioned): a browser blocking third-party cookies then shows the cookie-blocked page, whose Storage Access way out is the one Safari's tracking prevention leaves")
	fs.BoolVar(&o.tls, "tls", false, "serve both sites over HTTPS, with a certificate made for this run (ECDSA, in memory, for localhost and 127.0.0.1) unless -tls-cert and -tls-key are given; needed for WebKit (Safari's engine), which drops Secure cookies over plain http://localhost")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate (chain) file for -tls; implies -tls; needs -tls-key")
	fs.StringVar(&o.tlsKey, "tls-key", "", "PEM private key file of -tls-cert")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, usageError{err}
	}
	if fs.NArg() > 0 {
		return o, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if o.sessionMax < 0 {
		return o, usageError{errors.New("-session-max must not be negative")}
	}
	if err := checkTLSFlags(&o); err != nil {
		return o, usageError{err}
	}
	if o.noLoginURL && o.orgsFile != "" {
		return o, usageError{errors.New("-no-login-url applies to the demo org only: with -orgs, leave out loginUrl")}
	}
	return o, nil
}

// run starts both servers and blocks until ctx is done. ready, when not nil,
// receives the bound URLs once both listen (for tests).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- urls) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	o.adminKey = os.Getenv(adminKeyEnv)
	return runOptions(ctx, o, stdout, stderr, ready)
}

// runOptions is run after the command line is parsed.
func runOptions(ctx context.Context, o options, stdout, stderr io.Writer, ready chan<- urls) error {
	tlsConf, tlsDesc, err := tlsConfig(o, time.Now())
	if err != nil {
		return err
	}
	appLn, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	defer appLn.Close()
	custLn, err := net.Listen("tcp", o.customerAddr)
	if err != nil {
		return err
	}
	defer custLn.Close()
	u := urls{app: baseURL(o.addr, appLn, o.tls), customer: baseURL(o.customerAddr, custLn, o.tls)}
	if tlsConf != nil {
		appLn, custLn = tls.NewListener(appLn, tlsConf), tls.NewListener(custLn, tlsConf)
	}

	orgs, err := loadOrgs(o.orgsFile, u.customer, !o.noLoginURL)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	stores, err := openStores(ctx, o.db, orgs)
	if err != nil {
		return err
	}
	defer stores.close()
	app, err := newApp(stores, logger, cookiesession.Config{Store: stores.sessions, TTL: o.sessionMax, IdleTimeout: o.sessionIdle, NotPartitioned: o.unpartitioned})
	if err != nil {
		return err
	}
	adminKey, err := installAdminKey(ctx, stores, o.adminKey)
	if err != nil {
		return err
	}
	customer := newCustomerSite(orgs[0], u.app)
	go purgeEvery(ctx, 10*time.Minute, stores.purger, logger)

	fmt.Fprintf(stdout, "embedsso example\n\n  open the customer page:  %s/\n  the app:                 %s/dashboard\n  demo org id:             %s\n  demo org secret:         %s\n  demo org login URL:      %s\n  sessions:                %s\n  storage:                 %s\n  organizations:           %s\n  removed from storage:    %s\n  admin API key:           %s\n\n",
		u.customer, u.app, orgs[0].ID, orgs[0].Secrets[0].Value, orDefault(orgs[0].LoginURL, "none (an ended session tells the customer's page)"),
		describeSessions(o), stores.describe, describeOrgs(orgs, o.orgsFile), describeRemoved(stores.removed), adminKey)
	if tlsDesc != "" {
		fmt.Fprintf(stdout, "  HTTPS certificate:       %s\n\n", tlsDesc)
	}
	if ready != nil {
		ready <- u
	}
	return serve(ctx, logger, o.timeouts, map[net.Listener]http.Handler{appLn: app, custLn: customer})
}

type urls struct{ app, customer string }

// baseURL keeps the host the user asked for (localhost and 127.0.0.1 are
// different sites to a browser) with the port actually bound, over https
// with -tls.
func baseURL(requested string, ln net.Listener, secure bool) string {
	host, _, err := net.SplitHostPort(requested)
	if err != nil || host == "" {
		host = "localhost"
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	scheme := "http://"
	if secure {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(host, port)
}

// serve runs one http.Server per listener and shuts them down with ctx.
func serve(ctx context.Context, logger *slog.Logger, t timeouts, handlers map[net.Listener]http.Handler) error {
	errc := make(chan error, len(handlers))
	var servers []*http.Server
	for ln, h := range handlers {
		s := newServer(h, t, logger)
		servers = append(servers, s)
		go func() { errc <- s.Serve(ln) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(shutdownCtx)
	}
	return nil
}

// purgeEvery deletes expired sessions and token ids until ctx is done.
func purgeEvery(ctx context.Context, every time.Duration, p purger, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if n, err := p.PurgeExpired(ctx, now); err != nil {
				logger.Error("purge expired sessions and token ids", "err", err)
			} else if n > 0 {
				logger.Info("purged expired sessions and token ids", "count", n)
			}
		}
	}
}

// describeSessions is the banner's line about the -session-* flags.
func describeSessions(o options) string {
	max, idle := cookiesession.DefaultTTL.String()+" (the default)", cookiesession.DefaultIdleTimeout.String()+" (the default)"
	if o.sessionMax > 0 {
		max = o.sessionMax.String()
	}
	switch {
	case o.sessionIdle > 0:
		idle = o.sessionIdle.String()
	case o.sessionIdle < 0:
		idle = "no limit"
	}
	return "end " + max + " after sign-in, or when unused for " + idle + " (-session-max, -session-idle)"
}
