package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/sqlstore"
)

// removedOrg is an organization that an earlier run stored and this run
// does not use, deleted at start with its users and their sessions.
type removedOrg struct {
	id    string
	users int
}

// replaceOrgs makes the stored organizations exactly orgs (the -orgs file's,
// or the demo org): it writes each of them and deletes every other one, so
// that a token signed with the secret of an organization left out of this
// run cannot sign in, nobody stays signed in to one, and no API key keeps
// a deleted organization in its scope (see dropFromKeys). The spent token ids
// stay until they expire: were the organization brought back, its tokens
// still could not be replayed.
//
// sqlstore has no way to list or delete organizations, so this runs its
// statements on the tables of sqlstore's published schema (schema/schema.sql).
func replaceOrgs(ctx context.Context, db *sql.DB, store *sqlstore.Store, orgs []embedsso.Org) ([]removedOrg, error) {
	for _, o := range orgs {
		if err := store.PutOrg(ctx, o); err != nil {
			return nil, err
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	rows, err := tx.QueryContext(ctx, `SELECT id FROM embedsso_orgs ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list stored organizations: %w", err)
	}
	var stale []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		if !slices.ContainsFunc(orgs, func(o embedsso.Org) bool { return o.ID == id }) {
			stale = append(stale, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var removed []removedOrg
	for _, id := range stale {
		// Sessions first: on SQLite the cascade from users runs only with
		// foreign_keys on, and another tool may have opened this file.
		if _, err := tx.ExecContext(ctx, `DELETE FROM embedsso_sessions WHERE user_id IN
			(SELECT id FROM embedsso_users WHERE org_id = $1)`, id); err != nil {
			return nil, fmt.Errorf("remove organization %q: %w", id, err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM embedsso_users WHERE org_id = $1`, id)
		if err != nil {
			return nil, fmt.Errorf("remove organization %q: %w", id, err)
		}
		users, _ := res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `DELETE FROM embedsso_orgs WHERE id = $1`, id); err != nil {
			return nil, fmt.Errorf("remove organization %q: %w", id, err)
		}
		removed = append(removed, removedOrg{id: id, users: int(users)})
	}
	if err := dropFromKeys(ctx, tx, stale); err != nil {
		return nil, err
	}
	return removed, tx.Commit()
}

// dropFromKeys takes the removed organizations out of every scoped API
// key's scope, and deletes a key left with none: a key kept for a deleted
// id would reach whatever organization is later created with that id.
// Admin keys are left alone. Like replaceOrgs, it runs on the table of
// sqlstore's published schema (embedsso_api_keys: org_ids is a JSON array).
func dropFromKeys(ctx context.Context, tx *sql.Tx, removed []string) error {
	if len(removed) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, admin, org_ids FROM embedsso_api_keys`)
	if err != nil {
		return fmt.Errorf("list API keys: %w", err)
	}
	type scope struct {
		id   string
		orgs []string
	}
	var changed []scope
	for rows.Next() {
		var id, orgIDs string
		var admin bool
		if err := rows.Scan(&id, &admin, &orgIDs); err != nil {
			rows.Close()
			return err
		}
		var orgs []string
		if err := json.Unmarshal([]byte(orgIDs), &orgs); err != nil {
			rows.Close()
			return fmt.Errorf("API key %s: org_ids: %w", id, err)
		}
		kept := slices.DeleteFunc(slices.Clone(orgs), func(o string) bool { return slices.Contains(removed, o) })
		if !admin && len(kept) < len(orgs) {
			changed = append(changed, scope{id, kept})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range changed {
		var err error
		if len(k.orgs) == 0 {
			_, err = tx.ExecContext(ctx, `DELETE FROM embedsso_api_keys WHERE id = $1`, k.id)
		} else {
			b, _ := json.Marshal(k.orgs)
			_, err = tx.ExecContext(ctx, `UPDATE embedsso_api_keys SET org_ids = $1 WHERE id = $2`, string(b), k.id)
		}
		if err != nil {
			return fmt.Errorf("API key %s: %w", k.id, err)
		}
	}
	return nil
}

// describeRemoved is the banner's line about organizations of earlier runs.
func describeRemoved(removed []removedOrg) string {
	if len(removed) == 0 {
		return "none"
	}
	parts := make([]string, len(removed))
	for i, r := range removed {
		noun := "users"
		if r.users == 1 {
			noun = "user"
		}
		parts[i] = fmt.Sprintf("%s (%d %s and their sessions)", r.id, r.users, noun)
	}
	return strings.Join(parts, ", ")
}

// describeOrgs is the banner's line about this run's organizations.
func describeOrgs(orgs []embedsso.Org, file string) string {
	ids := make([]string, len(orgs))
	for i, o := range orgs {
		ids[i] = o.ID
	}
	from := "the demo organization, with a new secret"
	if file != "" {
		from = "from " + file
	}
	return strings.Join(ids, ", ") + " (" + from + "); the storage keeps these only"
}
