package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// peerCert is the certificate the server at base (https://host:port) shows.
func peerCert(t *testing.T, base string) *x509.Certificate {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{InsecureSkipVerify: true}) // inspected below
	require.NoError(t, err)
	defer conn.Close()
	certs := conn.ConnectionState().PeerCertificates
	require.NotEmpty(t, certs)
	return certs[0]
}

// trustingClient trusts only cert, follows no redirect and keeps cookies,
// as a browser that accepted the certificate would.
func trustingClient(t *testing.T, cert *x509.Certificate) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{
		Timeout:       10 * time.Second,
		Jar:           jar,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func TestTLSServesBothSitesWithACertificateItMakes(t *testing.T) {
	u := start(t, "-tls")
	require.True(t, strings.HasPrefix(u.app, "https://localhost:"), u.app)
	require.True(t, strings.HasPrefix(u.customer, "https://127.0.0.1:"), u.customer)

	cert := peerCert(t, u.app)
	assert.Equal(t, cert.Raw, peerCert(t, u.customer).Raw, "one certificate for both sites")
	require.IsType(t, &ecdsa.PublicKey{}, cert.PublicKey)
	assert.Equal(t, elliptic.P256(), cert.PublicKey.(*ecdsa.PublicKey).Curve)
	assert.Equal(t, []string{"localhost"}, cert.DNSNames)
	require.Len(t, cert.IPAddresses, 2)
	assert.True(t, cert.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")))
	assert.True(t, cert.IPAddresses[1].Equal(net.ParseIP("::1")))
	assert.WithinDuration(t, time.Now().Add(-time.Hour), cert.NotBefore, time.Minute)
	assert.WithinDuration(t, time.Now().Add(selfSignedLife), cert.NotAfter, time.Minute)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		_, err := cert.Verify(x509.VerifyOptions{DNSName: host, Roots: pool})
		assert.NoError(t, err, "valid for %s once trusted", host)
	}
	_, err := cert.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: pool})
	assert.Error(t, err, "valid for the loopback names only")
	_, err = cert.Verify(x509.VerifyOptions{DNSName: "localhost"})
	assert.Error(t, err, "trusted by nobody who was not told to")

	// The whole sign-in over HTTPS: the portal frames the app at its https
	// URL, the login sets the Secure session cookie, the check finds it, and
	// the dashboard knows the user.
	c := trustingClient(t, cert)
	res, err := c.Get(u.customer + "/?email=tls@example.com")
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	src := iframeSrcIn(t, body)
	assert.True(t, strings.HasPrefix(src, u.app+"/api/sso/jwt?jwt="), src)
	assert.Contains(t, string(body), `<script type="module" src="`+u.app+`/embedsso/v1.js"`, "the app's script, over https")
	var hops []string
	for next := src; ; {
		req, err := http.NewRequest(http.MethodGet, next, nil)
		require.NoError(t, err)
		req.Header.Set("Referer", u.customer+"/")
		req.Header.Set("Sec-Fetch-Dest", "iframe")
		res, err := c.Do(req)
		require.NoError(t, err)
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		p, _ := url.Parse(next)
		hops = append(hops, res.Status[:3]+" "+p.Path)
		loc := res.Header.Get("Location")
		if loc == "" || len(hops) > 5 {
			break
		}
		l, err := p.Parse(loc)
		require.NoError(t, err)
		next = l.String()
	}
	assert.Equal(t, []string{"302 /api/sso/jwt", "302 /api/sso/jwt", "200 /dashboard"}, hops)
	assert.Contains(t, string(body), "tls@example.com")
	appURL, _ := url.Parse(u.app)
	var secure bool
	for _, ck := range c.Jar.Cookies(appURL) {
		secure = secure || ck.Name == "embedsso_session"
	}
	assert.True(t, secure, "the jar kept the session cookie, which it sends over https only")

	// Plain HTTP to a TLS port is refused with a 400, never served.
	res, err = http.Get("http://" + appURL.Host + "/dashboard")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
}

// writeCert writes a certificate made as the example makes its own, and
// its key, as PEM files, and returns their paths and the certificate.
func writeCert(t *testing.T) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	pair, err := selfSignedCert(time.Now())
	require.NoError(t, err)
	cert, err = x509.ParseCertificate(pair.Certificate[0])
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(pair.PrivateKey)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pair.Certificate[0]}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile, cert
}

func TestTLSServesTheGivenCertificate(t *testing.T) {
	certFile, keyFile, want := writeCert(t)
	u := start(t, "-tls-cert", certFile, "-tls-key", keyFile) // implies -tls
	require.True(t, strings.HasPrefix(u.app, "https://"), u.app)
	assert.Equal(t, want.Raw, peerCert(t, u.app).Raw)
	assert.Equal(t, want.Raw, peerCert(t, u.customer).Raw)

	res, err := trustingClient(t, want).Get(u.customer + "/")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "a client that trusts the given certificate reaches the portal")
}

func TestTLSBannerNamesTheCertificate(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	ready := make(chan urls, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-tls", "-addr", "localhost:0", "-customer-addr", "127.0.0.1:0", "-db", "memory"}, &out, io.Discard, ready)
	}()
	var u urls
	select {
	case u = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the example did not start")
	}
	cancel()
	require.NoError(t, <-done)
	banner := out.String()
	assert.Contains(t, banner, "open the customer page:  "+u.customer+"/")
	assert.Contains(t, banner, "  HTTPS certificate:       made for this run, trusted by no browser (SHA-256 ")
}

func TestTLSFlagRefusals(t *testing.T) {
	certFile, keyFile, _ := writeCert(t)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("not PEM"), 0o600))
	for _, tc := range []struct {
		name  string
		args  []string
		usage bool // a usage error (exit status 2) rather than a start failure
		want  string
	}{
		{"a certificate without its key", []string{"-tls-cert", certFile}, true, "-tls-cert and -tls-key go together"},
		{"a key without its certificate", []string{"-tls", "-tls-key", keyFile}, true, "-tls-cert and -tls-key go together"},
		{"a missing certificate file", []string{"-tls-cert", certFile + ".gone", "-tls-key", keyFile}, false, "-tls-cert and -tls-key: open "},
		{"a certificate file that is not PEM", []string{"-tls-cert", garbage, "-tls-key", keyFile}, false, "-tls-cert and -tls-key: tls: failed to find any PEM data in certificate input"},
		{"the key swapped for the certificate", []string{"-tls-cert", keyFile, "-tls-key", certFile}, false, "-tls-cert and -tls-key: tls: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-addr", "localhost:0", "-customer-addr", "127.0.0.1:0", "-db", "memory"}, tc.args...)
			err := run(context.Background(), args, io.Discard, io.Discard, nil)
			require.Error(t, err)
			assert.Equal(t, tc.usage, errors.As(err, new(usageError)), "%v", err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
