// Package e2e drives Debian's Chromium, headless, against the example server
// (examples/server) run as an outside process: a customer page on
// http://127.0.0.1:P1 frames the app on http://localhost:P2, two different
// sites, as a real embedding does. Its tests show in a real browser what the
// core's tests can only assume: the Partitioned session cookie works in a
// cross-site frame (with third-party cookies blocked, too), a site that is not
// allowed cannot frame the app, an expired token shows the error page in the
// frame, a browser that refuses the app's cookies gets the cookie-check page
// instead of a login loop, the token leaves no trace in URLs, referrers
// or history, and a session that ends inside the frame (the example's
// -session-max and -session-idle of a few seconds) comes back signed in on
// the same page through the organization's LoginURL, or through the
// customer page's listener without one, and never loops when the customer's
// endpoint fails.
//
// It is its own module so that the core's tests stay fast:
//
//	go test -race ./e2e/...          # from the repository root (go.work)
//	./test.sh                        # every module, as CI does
//
// Chromium is /usr/bin/chromium (apt-get install chromium), or $E2E_CHROMIUM.
// Without it the tests skip, or fail when $CI is set. Screenshots go to
// $E2E_OUT, by default e2e/out/.
package e2e
