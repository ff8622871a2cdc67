package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// freshDatabase creates a new, empty database on the server of dsn (which
// needs the CREATEDB privilege) and returns its DSN, the same but for the
// database's name, and drop, which drops it. A measurement on -pg DSN runs
// in one of these, so that it inherits no rows or schema from an earlier
// one (another round, or the baseline's older schema) and leaves nothing in
// the user's own database.
func freshDatabase(ctx context.Context, dsn string) (string, func() error, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		// Not url.Parse's error: it quotes the DSN, password and all.
		return "", nil, errors.New("-pg: the DSN is not a valid URL")
	}
	var b [6]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	name := "embedsso_loadtest_" + hex.EncodeToString(b[:])
	ident := pgx.Identifier{name}.Sanitize()
	if err := onServer(ctx, dsn, "CREATE DATABASE "+ident); err != nil {
		return "", nil, fmt.Errorf("-pg: create a database for this measurement (each gets a new one): %w", err)
	}
	u.Path = "/" + name
	drop := func() error {
		// FORCE (PostgreSQL 13+): a connection the stopped server left
		// behind must not keep the database.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := onServer(ctx, dsn, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop the database %s: %w", name, err)
		}
		return nil
	}
	return u.String(), drop, nil
}

// onServer runs one statement on a connection of its own to dsn.
func onServer(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// databaseName is the database a postgres:// DSN names.
func databaseName(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}
