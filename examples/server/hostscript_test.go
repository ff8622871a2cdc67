package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/embedsso/embedsso/hostscript"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTheAppServesTheCustomerScriptThePortalPins(t *testing.T) {
	t.Parallel()
	u := start(t)
	res, err := noRedirects.Get(u.app + hostscript.Path)
	require.NoError(t, err)
	js, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/javascript; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Equal(t, "*", res.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, string(js), "export function embed(options)")

	res, err = noRedirects.Get(u.customer + "/")
	require.NoError(t, err)
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	integrity := strings.ReplaceAll(hostscript.Integrity(), "+", "&#43;") // as html/template writes it
	assert.Contains(t, string(page), `<script type="module" src="`+u.app+`/embedsso/v1.js" integrity="`+integrity+`" crossorigin="anonymous"></script>`)
	assert.Contains(t, string(page), `import * as embedsso from "`+u.app+`/embedsso/v1.js";`)
}
