// Package hostscript serves embedsso.js, the ES module the customer's page
// uses to frame the app: it creates the iframe from a URL the customer's
// backend returns, listens only to the app's exact origin, asks that
// backend for a fresh URL when the frame says its session ended, raises
// typed events (signed-in, session-expired, error) and tears down cleanly.
// docs/embedding.md shows it in use.
//
// Mount it on the app, at [Path]:
//
//	mux.Handle("GET "+hostscript.Path, hostscript.Handler())
//
// The bytes served at a version's Path never change: a new script is a new
// version at a new path, so the Subresource Integrity hash a customer pins
// ([Integrity]) stays valid.
package hostscript

import (
	"bytes"
	"crypto/sha512"
	_ "embed"
	"encoding/base64"
	"net/http"
	"time"
)

// Path is where the app serves version 1 of the script.
const Path = "/embedsso/v1.js"

//go:embed embedsso-v1.js
var script []byte

var integrity = func() string {
	sum := sha512.Sum384(script)
	return "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
}()

// Integrity returns the script's Subresource Integrity hash, for the
// integrity attribute of the customer's script tag: "sha384-…".
func Integrity() string { return integrity }

// Handler serves the script to GET and HEAD (405 otherwise), to any site:
// as a module script from another origin it is fetched in CORS mode, so it
// answers with Access-Control-Allow-Origin: *. It holds no secret and sets
// no cookie.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=86400")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", `"`+integrity+`"`)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(script))
	})
}
