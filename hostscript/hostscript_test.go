package hostscript_test

import (
	"crypto/sha512"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/embedsso/embedsso/hostscript"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// v1Integrity is the SRI hash of the bytes served at /embedsso/v1.js. Once
// released they never change (customers pin this hash): a new script is a
// new version at a new Path, not a new hash here.
const v1Integrity = "sha384-3gc7puXxbMmLmjTmF4BQmrOKHMii5GINQYLYA+Ah4RKcQyLF35sQGe86pEvdRfLY"

func serve(method, target string, headers map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	hostscript.Handler().ServeHTTP(w, r)
	return w
}

func sri(b []byte) string {
	sum := sha512.Sum384(b)
	return "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
}

func TestTheScriptIsServedToAnySiteWithItsIntegrity(t *testing.T) {
	t.Parallel()
	file, err := os.ReadFile("embedsso-v1.js")
	require.NoError(t, err)
	scriptHeaders := http.Header{
		"Content-Type":                 {"text/javascript; charset=utf-8"},
		"Cache-Control":                {"public, max-age=86400"},
		"Access-Control-Allow-Origin":  {"*"},
		"Cross-Origin-Resource-Policy": {"cross-origin"},
		"X-Content-Type-Options":       {"nosniff"},
		"Etag":                         {`"` + v1Integrity + `"`},
		"Accept-Ranges":                {"bytes"},
	}
	withLength := scriptHeaders.Clone()
	withLength.Set("Content-Length", strconv.Itoa(len(file)))
	for _, tc := range []struct {
		name    string
		method  string
		headers map[string]string
		status  int
		header  http.Header
		body    []byte
	}{
		{"GET from another site's page: the module, with CORS", http.MethodGet, map[string]string{"Origin": "https://customer.example", "Sec-Fetch-Mode": "cors"},
			http.StatusOK, withLength, file},
		{"HEAD: the headers alone", http.MethodHead, nil, http.StatusOK, withLength, nil},
		{"a revalidation with the ETag: 304", http.MethodGet, map[string]string{"If-None-Match": `"` + v1Integrity + `"`}, http.StatusNotModified,
			http.Header{"Cache-Control": scriptHeaders["Cache-Control"], "Access-Control-Allow-Origin": {"*"},
				"Cross-Origin-Resource-Policy": {"cross-origin"}, "X-Content-Type-Options": {"nosniff"}, "Etag": scriptHeaders["Etag"]}, nil},
		{"POST: 405", http.MethodPost, nil, http.StatusMethodNotAllowed,
			http.Header{"Allow": {"GET, HEAD"}, "Content-Type": {"text/plain; charset=utf-8"}, "X-Content-Type-Options": {"nosniff"}},
			[]byte("method not allowed\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := serve(tc.method, hostscript.Path, tc.headers)
			assert.Equal(t, tc.status, w.Code)
			assert.Equal(t, tc.header, w.Header())
			assert.Equal(t, string(tc.body), w.Body.String())
		})
	}
}

func TestTheIntegrityHashIsOfTheServedBytesAndTheDocsQuoteIt(t *testing.T) {
	t.Parallel()
	served := serve(http.MethodGet, hostscript.Path, nil).Body.Bytes()
	require.NotEmpty(t, served)
	assert.Equal(t, sri(served), hostscript.Integrity(), "computed from the bytes served")
	assert.Equal(t, v1Integrity, hostscript.Integrity(), "v1's bytes are frozen: change the script as v2")
	assert.Equal(t, "/embedsso/v1.js", hostscript.Path)
	assert.Less(t, len(served), 5<<10, "under 5 KB, as docs/embedding.md says")

	docs, err := os.ReadFile("../docs/embedding.md")
	require.NoError(t, err)
	quoted := regexp.MustCompile(`sha384-[A-Za-z0-9+/=]+`).FindAllString(string(docs), -1)
	require.NotEmpty(t, quoted, "docs/embedding.md quotes the script's integrity")
	for _, q := range quoted {
		assert.Equal(t, hostscript.Integrity(), q, "every hash docs/embedding.md quotes")
	}
}

func TestTheScriptImportsNothing(t *testing.T) {
	t.Parallel()
	file, err := os.ReadFile("embedsso-v1.js")
	require.NoError(t, err)
	assert.NotRegexp(t, `(?m)^\s*import\b|\bimport\s*\(|\brequire\s*\(`, string(file), "dependency-free")
	assert.Regexp(t, `(?m)^export function embed\(options\)`, string(file))
}
