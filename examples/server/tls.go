package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// HTTPS for local development (-tls). Browsers keep a Secure cookie set
// over plain http://localhost or http://127.0.0.1 unevenly: Chromium and
// Firefox treat both as secure contexts, WebKitGTK's cookie library drops
// every Secure cookie there. The session cookie of a cross-site frame must
// be Secure (SameSite=None, Partitioned), so with -tls both sites are served
// over HTTPS and every engine keeps it.
//
// Without -tls-cert and -tls-key the example makes its own certificate
// (ECDSA P-256, in memory, for localhost, 127.0.0.1 and ::1, valid from an
// hour ago for selfSignedLife). No browser trusts it: accept it once per
// site in the browser, or start the browser with the flag or preference that
// accepts any certificate (Chromium --ignore-certificate-errors, Firefox and
// WebKit WebDriver's acceptInsecureCerts). With them, the example serves the
// given PEM files (e.g. made by mkcert, which a browser can be told to trust).

// selfSignedLife is how long the certificate the example makes stays valid.
const selfSignedLife = 90 * 24 * time.Hour

// selfSignedHosts are the names the made certificate is valid for: the
// example's default addresses and the IPv6 loopback.
var selfSignedHosts = []string{"localhost", "127.0.0.1", "::1"}

// tlsConfig is the servers' TLS configuration for o, or nil without -tls.
// The second result describes the certificate for the banner.
func tlsConfig(o options, now time.Time) (*tls.Config, string, error) {
	if !o.tls {
		return nil, "", nil
	}
	var cert tls.Certificate
	var source string
	if o.tlsCert != "" {
		var err error
		cert, err = tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return nil, "", fmt.Errorf("-tls-cert and -tls-key: %w", err)
		}
		source = o.tlsCert
	} else {
		var err error
		cert, err = selfSignedCert(now)
		if err != nil {
			return nil, "", err
		}
		source = "made for this run, trusted by no browser"
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, "", fmt.Errorf("parse the TLS certificate: %w", err)
	}
	sum := sha256.Sum256(leaf.Raw)
	desc := fmt.Sprintf("%s (SHA-256 %s…, until %s)", source, hex.EncodeToString(sum[:8]), leaf.NotAfter.UTC().Format(time.DateOnly))
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, desc, nil
}

// selfSignedCert makes a new self-signed ECDSA P-256 certificate for
// selfSignedHosts, valid from an hour before now (a clock a little behind)
// for selfSignedLife. The key lives only in memory.
func selfSignedCert(now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("make a TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("make a certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"embedsso example"}, CommonName: "localhost"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(selfSignedLife),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // so that a client may add it as its own root
	}
	for _, h := range selfSignedHosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("make a TLS certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// checkTLSFlags holds -tls-cert and -tls-key to each other: both or neither.
// Either one turns -tls on.
func checkTLSFlags(o *options) error {
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return errors.New("-tls-cert and -tls-key go together: give both, or neither for a certificate made for this run")
	}
	if o.tlsCert != "" {
		o.tls = true
	}
	return nil
}
