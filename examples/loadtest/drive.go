package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// result is what one measurement (a server on a storage, in a round)
// measured.
type result struct {
	storage       string
	baseline      bool   // the -baseline server
	round         int    // from 0
	db            string // the -db it ran on: a file, a DSN or memory
	logins, authd phase
	revocation    *revocation // with -two-instances, on sqlite and postgres
}

// phase is one phase's count, latencies and errors.
type phase struct {
	window    time.Duration // the measured part of the phase
	completed int           // calls that succeeded and ended within window
	latencies []time.Duration
	errors    int
	firstErr  error
}

func (p *phase) perSecond() float64 {
	if p.window <= 0 {
		return 0
	}
	return float64(p.completed) / p.window.Seconds()
}

// percentile returns the q-th percentile (0 < q < 1) of the latencies.
func (p *phase) percentile(q float64) time.Duration {
	if len(p.latencies) == 0 {
		return 0
	}
	return p.latencies[int(q*float64(len(p.latencies)-1))]
}

func (p *phase) add(other *phase) {
	p.completed += other.completed
	p.latencies = append(p.latencies, other.latencies...)
	p.errors += other.errors
	if p.firstErr == nil {
		p.firstErr = other.firstErr
	}
}

// client is one simulated browser: its own keep-alive connection, token
// minter and session cookie.
type client struct {
	id     int
	base   string
	org    loadOrg
	http   *http.Client
	mint   *minter
	cookie string // the Cookie header of the last successful login
	email  string // that login's user
	buf    bytes.Buffer
}

// usersPerClient is how many users each client signs in in turn: most
// logins update a user that exists, as in a real app.
const usersPerClient = 64

// measure runs the login and the authenticated phases against base, then,
// when two is not nil, two with the clients and their sessions.
func measure(ctx context.Context, storage, base string, org loadOrg, o options, two func([]*client) *revocation) result {
	clients := make([]*client, o.clients)
	for i := range clients {
		clients[i] = &client{id: i, base: base, org: org, mint: newMinter(org), http: &http.Client{
			// One connection per client, kept alive, as a browser keeps its own.
			Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true, IdleConnTimeout: time.Minute},
			// Every request has a bound; the redirects are followed by hand.
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
	}
	defer func() {
		for _, c := range clients {
			c.http.CloseIdleConnections()
		}
	}()
	r := result{storage: storage}
	r.logins = runPhase(ctx, clients, o, (*client).login)
	for _, c := range clients {
		if c.cookie == "" {
			r.authd.errors++
			r.authd.firstErr = errors.New("a client has no session: none of its logins succeeded")
			return r
		}
	}
	r.authd = runPhase(ctx, clients, o, (*client).me)
	if two != nil {
		r.revocation = two(clients)
	}
	return r
}

// runPhase runs op on every client, over and over, for o.duration, then
// lets each client finish the call it is in. Throughput counts the calls
// that end within the measured window (after the warm-up, before the end);
// latencies are those of the calls that start within it, however late they
// end, so a slow tail is not cut off.
func runPhase(ctx context.Context, clients []*client, o options, op func(*client, context.Context, int) error) phase {
	start := time.Now()
	from, until := start.Add(o.warmup), start.Add(o.duration)
	per := make([]phase, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			p := &per[i]
			for n := 0; ; n++ {
				t := time.Now()
				if !t.Before(until) || ctx.Err() != nil {
					return
				}
				err := op(c, ctx, n)
				end := time.Now()
				if err != nil {
					p.errors++
					if p.firstErr == nil {
						p.firstErr = err
					}
					continue
				}
				if !end.Before(from) && !end.After(until) {
					p.completed++
				}
				if !t.Before(from) {
					p.latencies = append(p.latencies, end.Sub(t))
				}
			}
		})
	}
	wg.Wait()
	total := phase{window: until.Sub(from)}
	for i := range per {
		total.add(&per[i])
	}
	slices.Sort(total.latencies)
	return total
}

// login is the browser's whole flow for a new visitor: the login request,
// with the token and the embedding page's Origin and no cookies, then the
// sso_check redirect with the cookies the login set, until the app sends it
// on to the dashboard. The cookies are Secure, and the clients speak plain
// http on loopback, so they keep and send them by hand as a browser does
// for localhost.
func (c *client) login(ctx context.Context, n int) error {
	email := fmt.Sprintf("user%d-%d@loadtest.example", c.id, n%usersPerClient)
	target := c.base + "/api/sso/jwt?jwt=" + url.QueryEscape(c.mint.token(email, time.Now()))
	header := http.Header{"Origin": {c.org.origin}}
	jar := map[string]string{}
	for hop := 0; hop < 3; hop++ {
		res, err := c.get(ctx, target, header)
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusFound {
			return fmt.Errorf("login step %d: status %d: %.200s", hop+1, res.StatusCode, c.buf.String())
		}
		for _, ck := range res.Cookies() {
			if ck.MaxAge < 0 || ck.Value == "" {
				delete(jar, ck.Name)
			} else {
				jar[ck.Name] = ck.Value
			}
		}
		cookies := cookieHeader(jar)
		loc, err := res.Request.URL.Parse(res.Header.Get("Location")) // relative to the request, as a browser resolves it
		if err != nil {
			return fmt.Errorf("login step %d: %w", hop+1, err)
		}
		if loc.Path == "/dashboard" {
			if cookies == "" {
				return errors.New("login: no session cookie")
			}
			c.cookie, c.email = cookies, email
			return nil
		}
		if loc.Path != "/api/sso/jwt" || loc.Host != res.Request.URL.Host {
			return fmt.Errorf("login step %d: unexpected redirect to %.100q", hop+1, loc.Redacted())
		}
		target = loc.String()
		header = http.Header{"Cookie": {cookies}}
	}
	return errors.New("login: too many redirects")
}

// cookieHeader is the Cookie header a browser sends for jar.
func cookieHeader(jar map[string]string) string {
	names := slices.Sorted(maps.Keys(jar))
	var b strings.Builder
	for i, name := range names {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(name + "=" + jar[name])
	}
	return b.String()
}

// me is one authenticated request.
func (c *client) me(ctx context.Context, _ int) error {
	res, err := c.get(ctx, c.base+"/api/me", http.Header{"Cookie": {c.cookie}})
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK || !bytes.Contains(c.buf.Bytes(), []byte(`"email":"`+c.email+`"`)) {
		return fmt.Errorf("GET /api/me: status %d: %.200s", res.StatusCode, c.buf.String())
	}
	return nil
}

// get sends one GET and reads the whole body into c.buf.
func (c *client) get(ctx context.Context, target string, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header = header
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	c.buf.Reset()
	if _, err := io.Copy(&c.buf, io.LimitReader(res.Body, 1<<20)); err != nil {
		return nil, err
	}
	return res, nil
}
