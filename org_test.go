package embedsso_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOrgValidate(t *testing.T) {
	t.Parallel()
	good := func() embedsso.Org {
		return embedsso.Org{ID: "org_abc123", EmbeddingEnabled: true,
			Secrets:        []embedsso.Secret{{KeyID: "2026", Value: secretABC}, {Value: secretOld}},
			AllowedOrigins: []string{customerSite, "https://*.partner.example"},
			AllowedRoles:   []string{"ADMIN", "MEMBER"}, AllowedGroups: []string{"analysts"}, DashboardURL: "/dashboard"}
	}
	for _, tc := range []struct {
		name   string
		mutate func(*embedsso.Org)
		want   string // a piece of the error; "" means valid
	}{
		{"a complete org is valid", func(*embedsso.Org) {}, ""},
		{"an org with nothing optional is valid", func(o *embedsso.Org) {
			*o = embedsso.Org{ID: "org_bare", Secrets: []embedsso.Secret{{Value: secretABC}}}
		}, ""},
		{"a disabled org without secrets is valid", func(o *embedsso.Org) { o.EmbeddingEnabled, o.Secrets = false, nil }, ""},
		{"a secret of exactly 32 bytes is valid", func(o *embedsso.Org) { o.Secrets = []embedsso.Secret{{Value: strings.Repeat("s", 32)}} }, ""},

		{"an empty id is refused", func(o *embedsso.Org) { o.ID = "" }, "id is empty"},
		{"an id with a control character is refused", func(o *embedsso.Org) { o.ID = "org\x00" }, "id contains a control character"},
		{"an id over 256 bytes is refused", func(o *embedsso.Org) { o.ID = strings.Repeat("o", 257) }, "id longer than 256 bytes"},
		{"a 5-byte secret is refused", func(o *embedsso.Org) { o.Secrets[1].Value = "short" }, `secret 1 (kid "") is 5 bytes; HS256 needs at least 32`},
		{"a 31-byte secret is refused", func(o *embedsso.Org) { o.Secrets[0].Value = strings.Repeat("s", 31) }, "is 31 bytes"},
		{"a short secret is refused even when embedding is off", func(o *embedsso.Org) { o.EmbeddingEnabled = false; o.Secrets[0].Value = "short" }, "is 5 bytes"},
		{"an enabled org without secrets is refused", func(o *embedsso.Org) { o.Secrets = nil }, "no secret"},
		{"a key id with a newline is refused", func(o *embedsso.Org) { o.Secrets[0].KeyID = "k\n" }, "key id contains a control character"},
		{"an origin that does not parse is refused", func(o *embedsso.Org) { o.AllowedOrigins = []string{"customer.example; script-src *"} }, "allowed origins"},
		{"an origin with a path is refused", func(o *embedsso.Org) { o.AllowedOrigins = []string{"https://customer.example/app"} }, "allowed origins"},
		{"an empty role is refused", func(o *embedsso.Org) { o.AllowedRoles = []string{"ADMIN", ""} }, "allowed role 1 is empty"},
		{"a role with a right-to-left override is refused", func(o *embedsso.Org) { o.AllowedRoles = []string{"ADMIN\u202e"} }, "allowed role 0 contains a control character"},
		{"a role over 64 bytes is refused", func(o *embedsso.Org) { o.AllowedRoles = []string{strings.Repeat("R", 65)} }, "allowed role 0 longer than 64 bytes"},
		{"an empty group is refused", func(o *embedsso.Org) { o.AllowedGroups = []string{"analysts", " "} }, "allowed group 1 is empty"},
		{"a group with a control character is refused", func(o *embedsso.Org) { o.AllowedGroups = []string{"a\x1bb"} }, "allowed group 0 contains a control character"},
		{"a group over 128 bytes is refused", func(o *embedsso.Org) { o.AllowedGroups = []string{strings.Repeat("g", 129)} }, "allowed group 0 longer than 128 bytes"},
		{"a dashboard URL on another site is refused", func(o *embedsso.Org) { o.DashboardURL = "https://evil.example/phish" }, "dashboard URL"},
		{"a javascript dashboard URL is refused", func(o *embedsso.Org) { o.DashboardURL = "javascript:alert(1)" }, "dashboard URL"},
		{"a protocol-relative dashboard URL is refused", func(o *embedsso.Org) { o.DashboardURL = "//evil.example" }, "dashboard URL"},
		{"a dashboard URL with dot segments is refused", func(o *embedsso.Org) { o.DashboardURL = "/.//evil.example" }, "dashboard URL"},
		{"a relative dashboard URL is refused", func(o *embedsso.Org) { o.DashboardURL = "dashboard" }, "dashboard URL"},
		{"a login URL on an allowed origin is valid", func(o *embedsso.Org) { o.LoginURL = customerSite + "/sso/embed-login?app=x" }, ""},
		{"a login URL on a wildcard origin is valid", func(o *embedsso.Org) { o.LoginURL = "https://eu.partner.example/sso" }, ""},
		{"a login URL off the allowed origins is refused", func(o *embedsso.Org) { o.LoginURL = "https://evil.example/phish" }, "not on the organization's allowed origins"},
		{"a login URL without allowed origins is refused", func(o *embedsso.Org) { o.AllowedOrigins = nil; o.LoginURL = customerSite + "/sso" }, "not on the organization's allowed origins"},
		{"a javascript login URL is refused", func(o *embedsso.Org) { o.LoginURL = "javascript:alert(1)" }, "login URL"},
		{"a plain-http login URL is refused", func(o *embedsso.Org) { o.LoginURL = "http://customer.example/sso" }, "must be https"},
		{"a protocol-relative login URL is refused", func(o *embedsso.Org) { o.LoginURL = "//customer.example/sso" }, "login URL"},
		{"a login URL with user info is refused", func(o *embedsso.Org) { o.LoginURL = "https://user:pw@customer.example/sso" }, "login URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := good()
			tc.mutate(&o)
			err := o.Validate()
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, errors.Is(err, embedsso.ErrOrgInvalid), "%v does not wrap ErrOrgInvalid", err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "embedsso: invalid organization")
			for _, s := range o.Secrets {
				if len(s.Value) > 4 {
					assert.NotContains(t, err.Error(), s.Value, "the error shows a secret")
				}
			}
		})
	}
}

// A secret in its grace period verifies until the instant it expires and not
// from then on, by the handler's clock, even while the store still holds it.
func TestHandlerIgnoresExpiredSecrets(t *testing.T) {
	t.Parallel()
	orgs := memstore.New()
	err := orgs.PutOrg(context.Background(), embedsso.Org{ID: "org_abc123", EmbeddingEnabled: true,
		Secrets: []embedsso.Secret{{KeyID: "new", Value: secretNew}, {KeyID: "old", Value: secretOld, ExpiresAt: time.Unix(fixedUnixTime, 0).Add(time.Hour)}}})
	require.NoError(t, err)
	f := newFixture(t, func(c *embedsso.Config) { c.Orgs = orgs })
	for _, tc := range []struct {
		name   string
		at     time.Duration
		secret string
		kid    string
		status int
	}{
		{"the old secret verifies during the grace period", time.Hour - time.Second, secretOld, "", http.StatusFound},
		{"the old secret verifies by its kid during the grace period", time.Hour - time.Second, secretOld, "old", http.StatusFound},
		{"the old secret is refused once the grace period is over", time.Hour, secretOld, "", http.StatusUnauthorized},
		{"the old secret is refused by its kid once the grace period is over", time.Hour, secretOld, "old", http.StatusUnauthorized},
		{"the new secret verifies after the grace period", time.Hour, secretNew, "", http.StatusFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.now = time.Unix(fixedUnixTime, 0).Add(tc.at)
			hdr := map[string]any{"alg": "HS256", "typ": "JWT"}
			if tc.kid != "" {
				hdr["kid"] = tc.kid
			}
			w := f.get(loginURL(rawToken(hdr, f.claims(), tc.secret)), nil)
			assert.Equal(t, tc.status, w.Code)
			if tc.status != http.StatusFound {
				assert.ErrorIs(t, f.lastEvent(t).Err, embedsso.ErrSignatureInvalid)
			}
		})
	}
}
