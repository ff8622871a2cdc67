package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/signer"
)

// orgJSON is one entry of the -orgs file. The field names are a contract:
// outside tests drive the example with them.
type orgJSON struct {
	ID               string   `json:"id"`
	EmbeddingEnabled bool     `json:"embeddingEnabled"`
	JWTSecrets       []string `json:"jwtSecrets"`
	AllowedOrigins   []string `json:"allowedOrigins"`
	AllowedRoles     []string `json:"allowedRoles"`
	DashboardURL     string   `json:"dashboardUrl"`
	LoginURL         string   `json:"loginUrl"`
}

// loadOrgs reads the -orgs file, or makes the demo org when path is empty:
// embedding on, a fresh secret, the customer site as its only allowed origin
// and, with loginURL, the customer site's embed-login endpoint as its
// LoginURL.
func loadOrgs(path, customerOrigin string, loginURL bool) ([]embedsso.Org, error) {
	if path == "" {
		org := embedsso.Org{
			ID: "org_demo", EmbeddingEnabled: true,
			Secrets:        []embedsso.Secret{{Value: signer.GenerateSecret()}},
			AllowedOrigins: []string{customerOrigin},
			AllowedRoles:   []string{"ADMIN", "MEMBER", "VIEWER"},
			DashboardURL:   "/dashboard",
		}
		if loginURL {
			org.LoginURL = customerOrigin + embedLoginPath
		}
		return []embedsso.Org{org}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError{err}
	}
	orgs, err := parseOrgs(b)
	if err != nil {
		return nil, usageError{fmt.Errorf("%s: %w", path, err)}
	}
	return orgs, nil
}

func parseOrgs(b []byte) ([]embedsso.Org, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var in []orgJSON
	if err := dec.Decode(&in); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the JSON array")
	}
	if len(in) == 0 {
		return nil, errors.New("no organizations")
	}
	out := make([]embedsso.Org, 0, len(in))
	for i, o := range in {
		if o.ID == "" || len(o.JWTSecrets) == 0 {
			return nil, fmt.Errorf("organization %d needs an id and at least one jwtSecret", i)
		}
		org := embedsso.Org{ID: o.ID, EmbeddingEnabled: o.EmbeddingEnabled, AllowedOrigins: o.AllowedOrigins,
			AllowedRoles: o.AllowedRoles, DashboardURL: o.DashboardURL, LoginURL: o.LoginURL}
		if org.DashboardURL == "" {
			org.DashboardURL = "/dashboard"
		}
		for _, s := range o.JWTSecrets {
			org.Secrets = append(org.Secrets, embedsso.Secret{Value: s})
		}
		// Refuse a short secret or a foreign dashboard URL now, in one line,
		// rather than as a 500 at the first login.
		if err := org.Validate(); err != nil {
			return nil, fmt.Errorf("organization %d: %w", i, err)
		}
		out = append(out, org)
	}
	return out, nil
}
