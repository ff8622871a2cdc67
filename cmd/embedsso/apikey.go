package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/orgapi"
)

func runAPIKey(e env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprintln(e.stderr, "usage: embedsso apikey create|revoke -db DSN [flags]\n\nMakes and revokes keys of the organization API (Authorization: Bearer <key>).\nembedsso apikey SUBCOMMAND -h for its flags.")
			return flag.ErrHelp
		}
		return usagef("give a subcommand: create or revoke")
	}
	switch sub, args := args[0], args[1:]; sub {
	case "create":
		return apikeyCreate(e, args)
	case "revoke":
		return apikeyRevoke(e, args)
	default:
		return usagef("unknown subcommand %q: create or revoke", sub)
	}
}

func apikeyCreate(e env, args []string) error {
	fs := newFlags("embedsso apikey create -db DSN (-admin | -org ID[,ID…]) [-name NAME]",
		"Makes a key and prints it, once: only its SHA-256 is stored. An -admin key manages every\norganization and creates new ones; an -org key manages the organizations listed, which must exist.", e.stderr)
	dsn := fs.String("db", "", "the database: postgres://… or a SQLite file (created, 0600, if missing; embedsso's tables are created if missing, and the command says so)")
	admin := fs.Bool("admin", false, "an instance admin key")
	orgs := fs.String("org", "", "comma-separated organization ids the key may manage")
	name := fs.String("name", "", "a label for people, e.g. back-office")
	if err := noArgs(parse(fs, args)); err != nil {
		return err
	}
	if *admin == (*orgs != "") {
		return usagef("give either -admin or -org")
	}
	key, rec, err := orgapi.NewKey(*name, orgapi.KeyScope{Admin: *admin, OrgIDs: nonEmpty(list(*orgs))}, time.Now())
	if err != nil {
		return usageError{err}
	}
	db, err := openDB(context.Background(), e, *dsn, migrate)
	if err != nil {
		return err
	}
	defer db.Close()
	// A key scoped to an id no organization has would reach whatever
	// organization is created with that id later, by anyone.
	for _, id := range rec.OrgIDs {
		_, err := db.store.FindOrg(context.Background(), id)
		if errors.Is(err, embedsso.ErrOrgNotFound) {
			return fmt.Errorf("no organization with id %q: create it first (a key for an id no organization has would reach the organization created with it later)", id)
		}
		if err != nil {
			return err
		}
	}
	if err := db.store.CreateAPIKey(context.Background(), rec); err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s\nid: %s (embedsso apikey revoke -db … %s)\nThe key is shown once; only its hash is stored.\n", key, rec.ID, rec.ID)
	return err
}

func apikeyRevoke(e env, args []string) error {
	fs := newFlags("embedsso apikey revoke -db DSN (ID | -key-file FILE | -key-env VAR)",
		"Deletes the key with this id (the 16 hex digits after esk_, which apikey create prints; not a secret).\nIt stops working at once on every instance. A whole key is read from -key-file or -key-env:\non the command line it would show in ps and the shell's history.", e.stderr)
	dsn := fs.String("db", "", "the database: postgres://… or a SQLite file")
	keyFile := fs.String("key-file", "", "a file holding the key (or its id) to revoke")
	keyEnv := fs.String("key-env", "", "an environment variable holding the key (or its id) to revoke")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	given := len(pos)
	if *keyFile != "" {
		given++
	}
	if *keyEnv != "" {
		given++
	}
	if given != 1 || len(pos) > 1 {
		return usagef("give one key: its id, -key-file or -key-env")
	}
	var key string
	switch {
	case len(pos) == 1:
		key = pos[0]
	case *keyFile != "":
		if key, err = readSecretFile(*keyFile); err != nil {
			return err
		}
	default:
		if key = strings.TrimSpace(e.getenv(*keyEnv)); key == "" {
			return usagef("$%s is empty", *keyEnv)
		}
	}
	id := strings.TrimPrefix(key, orgapi.KeyPrefix)
	if i := strings.IndexByte(id, '_'); i >= 0 { // a whole key was given
		id = id[:i]
	}
	db, err := openDB(context.Background(), e, *dsn, readWrite)
	if err != nil {
		return err
	}
	defer db.Close()
	err = db.store.RevokeAPIKey(context.Background(), id)
	if errors.Is(err, orgapi.ErrAPIKeyNotFound) {
		return fmt.Errorf("no key with id %q", id)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "revoked %s\n", id)
	return err
}

func nonEmpty(l []string) []string {
	out := l[:0]
	for _, s := range l {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
