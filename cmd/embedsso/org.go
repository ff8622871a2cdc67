package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/embedsso/embedsso/memstore"
	"github.com/embedsso/embedsso/orgapi"
)

func runOrg(e env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprintln(e.stderr, "usage: embedsso org create|get|update|rotate -db DSN [flags]\n\nManages organizations in a database through the organization API's own code (validation,\nrotation, the answer's JSON), with no server running. embedsso org SUBCOMMAND -h for its flags.")
			return flag.ErrHelp
		}
		return usagef("give a subcommand: create, get, update or rotate")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "create":
		return orgCreate(e, args)
	case "get":
		return orgGet(e, args)
	case "update":
		return orgUpdate(e, args)
	case "rotate":
		return orgRotate(e, args)
	}
	return usagef("unknown subcommand %q: create, get, update or rotate", sub)
}

// fieldFlags are the flags of create and update, one per API field.
type fieldFlags struct {
	name, origins, roles, groups, dashboard, loginURL *string
	enabled                                           *bool
}

func addFieldFlags(fs *flagSet) fieldFlags {
	return fieldFlags{
		name:      fs.String("name", "", "the display name"),
		enabled:   fs.Bool("enabled", false, "embedding enabled (fullEmbedEnabled)"),
		origins:   fs.String("origins", "", "comma-separated origins allowed to embed: https://portal.example.com, https://*.example.com"),
		roles:     fs.String("roles", "", "comma-separated roles the token's role may take (empty: any)"),
		groups:    fs.String("groups", "", "comma-separated names the token's groups may contain (empty: any)"),
		dashboard: fs.String("dashboard", "", "the path users land on, e.g. /dashboard"),
		loginURL:  fs.String("login-url", "", "the organization's login URL (https, origin among -origins)"),
	}
}

// body is the JSON body holding the fields the command line set.
func (f fieldFlags) body(set map[string]bool, extra map[string]any) map[string]any {
	b := map[string]any{}
	for k, v := range extra {
		b[k] = v
	}
	if set["name"] {
		b["name"] = *f.name
	}
	if set["enabled"] {
		b["fullEmbedEnabled"] = *f.enabled
	}
	if set["origins"] {
		b["embedAllowedOrigins"] = list(*f.origins)
	}
	if set["roles"] {
		b["embedAllowedRoles"] = list(*f.roles)
	}
	if set["groups"] {
		b["embedAllowedGroups"] = list(*f.groups)
	}
	if set["dashboard"] {
		b["embedDashboardUrl"] = *f.dashboard
	}
	if set["login-url"] {
		b["embedLoginUrl"] = *f.loginURL
	}
	return b
}

func orgCreate(e env, args []string) error {
	fs := newFlags("embedsso org create -db DSN -name NAME [flags]",
		"Creates an organization and prints it, with its new secret (jwtSecret). The id is generated\n(org_…) unless -id gives it; embedding is off unless -enabled.", e.stderr)
	dsn := fs.String("db", "", "the database: postgres://… or a SQLite file (created, 0600, if missing; embedsso's tables are created if missing, and the command says so)")
	id := fs.String("id", "", "the organization id (default: generated)")
	f := addFieldFlags(fs)
	if err := noArgs(parse(fs, args)); err != nil {
		return err
	}
	set := setFlags(fs)
	if !set["name"] {
		return usagef("-name is required")
	}
	extra := map[string]any{}
	if *id != "" {
		extra["id"] = *id
	}
	return callAPI(e, *dsn, migrate, 0, http.MethodPost, "/api/public/organizations?include=jwtSecret", f.body(set, extra))
}

func orgGet(e env, args []string) error {
	fs := newFlags("embedsso org get -db DSN -id ID [-secret]", "Prints an organization; its secret only with -secret. The database is opened read-only:\nnothing in it changes, and a PostgreSQL role granted only SELECT is enough.", e.stderr)
	dsn := fs.String("db", "", "the database, opened read-only: postgres://… or a SQLite file")
	id := fs.String("id", "", "the organization id; required")
	withSecret := fs.Bool("secret", false, "include the current secret (jwtSecret)")
	if err := noArgs(parse(fs, args)); err != nil {
		return err
	}
	if *id == "" {
		return usagef("-id is required")
	}
	path := "/api/public/organizations/" + url.PathEscape(*id)
	if *withSecret {
		path += "?include=jwtSecret"
	}
	return callAPI(e, *dsn, readOnly, 0, http.MethodGet, path, nil)
}

func orgUpdate(e env, args []string) error {
	fs := newFlags("embedsso org update -db DSN -id ID [flags]",
		"Changes the fields whose flags are given and prints the organization. -enabled=false ends\nthe organization's sessions.", e.stderr)
	dsn := fs.String("db", "", "the database: postgres://… or a SQLite file")
	id := fs.String("id", "", "the organization id; required")
	f := addFieldFlags(fs)
	if err := noArgs(parse(fs, args)); err != nil {
		return err
	}
	set := setFlags(fs)
	if *id == "" {
		return usagef("-id is required")
	}
	body := f.body(set, nil)
	if len(body) == 0 {
		return usagef("nothing to change: give at least one of -name, -enabled, -origins, -roles, -groups, -dashboard, -login-url")
	}
	return callAPI(e, *dsn, readWrite, 0, http.MethodPatch, "/api/public/organizations/"+url.PathEscape(*id), body)
}

func orgRotate(e env, args []string) error {
	fs := newFlags("embedsso org rotate -db DSN -id ID [-grace 24h]",
		"Gives the organization a new secret and prints it; the previous one keeps verifying for -grace.", e.stderr)
	dsn := fs.String("db", "", "the database: postgres://… or a SQLite file")
	id := fs.String("id", "", "the organization id; required")
	grace := fs.Duration("grace", orgapi.DefaultRotationGrace, "how long the previous secret keeps verifying")
	if err := noArgs(parse(fs, args)); err != nil {
		return err
	}
	if *id == "" {
		return usagef("-id is required")
	}
	if *grace <= 0 {
		return usagef("-grace must be positive")
	}
	return callAPI(e, *dsn, readWrite, *grace, http.MethodPost, "/api/public/organizations/"+url.PathEscape(*id)+"/jwt-secret/rotate", nil)
}

// callAPI serves one request to the organization API over the database,
// authenticated by a key that exists only in memory for this call, and
// prints the answer's data, or fails with its error message. The command
// thereby validates, rotates and answers exactly as the API does.
func callAPI(e env, dsn string, mode openMode, grace time.Duration, method, path string, body map[string]any) error {
	ctx := context.Background()
	db, err := openDB(ctx, e, dsn, mode)
	if err != nil {
		return err
	}
	defer db.Close()
	var orgs orgapi.OrgAdmin = db.store
	if mode == readOnly {
		orgs = readOnlyAdmin{db.store}
	}
	keys := &memstore.Store{}
	key, rec, err := orgapi.NewKey("embedsso command", orgapi.KeyScope{Admin: true}, time.Now())
	if err != nil {
		return err
	}
	if err := keys.CreateAPIKey(ctx, rec); err != nil {
		return err
	}
	api, err := orgapi.New(orgapi.Config{Orgs: orgs, Keys: keys, Sessions: db.store, RotationGrace: grace})
	if err != nil {
		return err
	}
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	var r *http.Request
	if rd != nil {
		r = httptest.NewRequest(method, path, rd)
		r.Header.Set("Content-Type", "application/json")
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	r.Header.Set("Authorization", "Bearer "+key)
	w := httptest.NewRecorder()
	api.ServeHTTP(w, r)
	return printAnswer(e, w)
}

func printAnswer(e env, w *httptest.ResponseRecorder) error {
	var answer struct {
		Data  json.RawMessage
		Error *struct{ Code, Message string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil {
		return fmt.Errorf("unexpected answer %d", w.Code)
	}
	if answer.Error != nil {
		return fmt.Errorf("%s (%s)", answer.Error.Message, answer.Error.Code)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, answer.Data, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err := e.stdout.Write(out.Bytes())
	return err
}

// noArgs turns positional arguments into a usage error.
func noArgs(pos []string, err error) error {
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	return nil
}

// readOnlyAdmin answers as the API would over a database it must not
// write: UpdateOrg (which GET calls to drop a secret past its grace period)
// applies the change to the record it read and stores nothing, so org get
// shows what the API would show and leaves the database as it was.
type readOnlyAdmin struct{ orgapi.OrgAdmin }

var errReadOnly = errors.New("the database is open read-only")

func (readOnlyAdmin) CreateOrg(context.Context, orgapi.OrgRecord) error { return errReadOnly }

func (a readOnlyAdmin) UpdateOrg(ctx context.Context, id string, change func(*orgapi.OrgRecord) error) (orgapi.OrgRecord, error) {
	rec, err := a.FindOrgRecord(ctx, id)
	if err != nil {
		return orgapi.OrgRecord{}, err
	}
	if err := change(&rec); err != nil {
		return orgapi.OrgRecord{}, err
	}
	return rec, nil
}
