package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUnpartitionedDropsPartitionedFromBothCookies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flags       []string
		partitioned bool
	}{{nil, true}, {[]string{"-unpartitioned"}, false}} {
		u := start(t, tc.flags...)
		res, _ := get(t, iframeSrc(t, u, ""), u.customer+"/", "")
		require.Equal(t, http.StatusFound, res.StatusCode)
		lines := res.Header.Values("Set-Cookie")
		require.Len(t, lines, 2, "the session and the hint")
		for _, l := range lines {
			assert.Equal(t, tc.partitioned, strings.HasSuffix(l, "; Partitioned"), "%v: %s", tc.flags, l)
			assert.Contains(t, l, "; Secure; SameSite=None")
		}
	}
}
