package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
)

func runInspect(e env, args []string) error {
	fs := newFlags("embedsso inspect TOKEN [flags]",
		"Shows the token's header and claims (decoded, not yet trusted) and, given the secret ($"+secretEnv+",\n-secret-file or -secret) or a database (-db), the verdict the SSO handler would give: the real handler serves\nthe token, over in-memory stores that are thrown away, and its stable code is printed with the embedding\nguide's troubleshooting line. With -db the organization is read from the database, opened read-only;\notherwise it is one with this secret, -org's id (default: the token's orgId), -origin and -roles.\nExits 0 when the handler would sign the user in, 1 when it would refuse (or on a failure), 2 on a\nbad command line or with nothing to check the token against (no secret, no -db).", e.stderr)
	secretIn := addSecretFlags(fs)
	orgID := fs.String("org", "", "the organization the token is meant for (default: the token's orgId claim)")
	embedder := fs.String("origin", "", "the embedding page's origin, e.g. https://portal.example.com; sent as the Referer")
	roles := fs.String("roles", "", "comma-separated roles the organization allows (default: any)")
	dsn := fs.String("db", "", "read the organization from this database instead, opened read-only (postgres://… or a SQLite file)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one token")
	}
	token := strings.TrimSpace(pos[0])
	show(e, token)

	var orgs embedsso.OrgStore
	claimed := claimedOrg(token)
	if *orgID == "" {
		*orgID = claimed
	}
	switch {
	case *dsn != "":
		db, err := openDB(context.Background(), e, *dsn, readOnly)
		if err != nil {
			return err
		}
		defer db.Close()
		orgs = readOnlyOrgs{db.store}
	default:
		secret, err := secretIn.read(e)
		if err != nil {
			return err
		}
		if secret == "" {
			// Not a verdict: a script whose $EMBED_JWT_SECRET is unset
			// must not read this as "signs in".
			return usagef("nothing to check the token against: set $%s, or give -secret-file or -db", *secretIn.env)
		}
		org := embedsso.Org{ID: *orgID, EmbeddingEnabled: true, Secrets: []embedsso.Secret{{Value: secret}}, AllowedRoles: list(*roles)}
		if *embedder != "" {
			org.AllowedOrigins = []string{*embedder}
		}
		held := memstore.New()
		// A token that names no organization is refused before any store
		// is read: there is then no organization to build.
		if *orgID != "" {
			if err := held.PutOrg(context.Background(), org); err != nil {
				// The flags make an invalid organization: a short secret,
				// a bad -origin or -roles. Say which.
				return usageError{err}
			}
		}
		orgs = held
	}
	ev, status, err := verdict(orgs, token, *embedder)
	if err != nil {
		return err
	}
	return printVerdict(e, ev, status)
}

// verdict serves token to a real embedsso.Handler over orgs and in-memory
// stores for everything it would write, and returns what its Observer saw.
// This is the handler's own code path, not a copy of its checks.
func verdict(orgs embedsso.OrgStore, token, embedder string) (embedsso.Event, int, error) {
	scratch := &memstore.Store{} // what the login writes, thrown away
	sessions, err := cookiesession.New(cookiesession.Config{Store: scratch})
	if err != nil {
		return embedsso.Event{}, 0, err
	}
	var events []embedsso.Event
	h, err := embedsso.New(embedsso.Config{
		Orgs: orgs, Users: scratch, Sessions: sessions, Replay: scratch,
		Observer: func(_ context.Context, ev embedsso.Event) { events = append(events, ev) },
	})
	if err != nil {
		return embedsso.Event{}, 0, err
	}
	r := httptest.NewRequest(http.MethodGet, "/api/sso/jwt?jwt="+url.QueryEscape(token), nil)
	if embedder != "" {
		r.Header.Set("Referer", strings.TrimSuffix(embedder, "/")+"/")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if len(events) == 0 {
		return embedsso.Event{}, 0, fmt.Errorf("the handler answered %d without reporting an outcome", w.Code)
	}
	return events[len(events)-1], w.Code, nil
}

func printVerdict(e env, ev embedsso.Event, status int) error {
	if ev.Err == nil {
		_, err := fmt.Fprintf(e.stdout, "verdict: signs in (%d) %s of %s\n", status, ev.Email, ev.OrgID)
		return err
	}
	fmt.Fprintf(e.stdout, "verdict: refused, %d %s\n  %s\n", ev.Err.Status, ev.Err.Code, ev.Err.Reason)
	if fix, ok := troubleshooting[ev.Err.Code]; ok {
		fmt.Fprintf(e.stdout, "  fix: %s\n", fix)
	}
	// As grep without a match: a script can test the verdict.
	return exitStatus(1)
}

// show prints the header and claims as they are in the token, before any
// check: the point is to see what a broken token says.
func show(e env, token string) {
	parts := strings.Split(token, ".")
	for i, name := range []string{"header", "claims"} {
		if i >= len(parts) {
			fmt.Fprintf(e.stdout, "%s: missing\n", name)
			continue
		}
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		var out bytes.Buffer
		if err != nil || json.Indent(&out, b, "", "  ") != nil {
			fmt.Fprintf(e.stdout, "%s: not base64url JSON\n", name)
			continue
		}
		fmt.Fprintf(e.stdout, "%s: %s\n", name, out.String())
		if name == "claims" {
			showTimes(e, b)
		}
	}
}

func showTimes(e env, claims []byte) {
	var c map[string]any
	if json.Unmarshal(claims, &c) != nil {
		return
	}
	for _, k := range []string{"iat", "nbf", "exp"} {
		if v, ok := c[k].(float64); ok {
			fmt.Fprintf(e.stdout, "%s: %s\n", k, time.Unix(int64(v), 0).UTC().Format(time.RFC3339))
		}
	}
}

// claimedOrg is the token's orgId, read without trusting it, as the handler
// reads it to choose the key.
func claimedOrg(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) < 2 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		OrgID string `json:"orgId"`
	}
	_ = json.Unmarshal(b, &c)
	return c.OrgID
}

// readOnlyOrgs exposes only FindOrg of a store, so that inspect cannot write
// to the database whatever the handler does.
type readOnlyOrgs struct{ s embedsso.OrgStore }

func (r readOnlyOrgs) FindOrg(ctx context.Context, id string) (embedsso.Org, error) {
	return r.s.FindOrg(ctx, id)
}
