package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/embedsso/embedsso/orgapi"
)

// adminKeyEnv holds an admin key to keep across restarts (one an earlier
// banner printed, or one from embedsso apikey create's format).
const adminKeyEnv = "EMBEDSSO_ADMIN_KEY"

// bannerKeyName labels the key the banner prints, so that the next start
// finds and replaces it.
const bannerKeyName = "example banner"

// deleteBannerKeys deletes the key an earlier start printed, so that at
// most one banner key is valid; keys made with embedsso apikey create stay.
// sqlstore has no way to list keys: this runs on the table of its published
// schema, as replaceOrgs does for organizations.
func deleteBannerKeys(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `DELETE FROM embedsso_api_keys WHERE name = $1`, bannerKeyName); err != nil {
		return fmt.Errorf("replace the banner's admin key: %w", err)
	}
	return nil
}

// installAdminKey stores the instance admin key the banner prints: fromEnv
// when set, else a new one.
func installAdminKey(ctx context.Context, s stores, fromEnv string) (string, error) {
	now, scope := time.Now(), orgapi.KeyScope{Admin: true}
	key := fromEnv
	record, err := orgapi.KeyRecord(fromEnv, bannerKeyName, scope, now)
	switch {
	case fromEnv == "":
		key, record, err = orgapi.NewKey(bannerKeyName, scope, now)
	case err != nil:
		return "", fmt.Errorf("$%s: %w", adminKeyEnv, err)
	}
	if err != nil {
		return "", err
	}
	err = s.keys.CreateAPIKey(ctx, record)
	if errors.Is(err, orgapi.ErrAPIKeyExists) {
		// The environment's key was stored under another name (by embedsso
		// apikey create): it becomes the banner's.
		if err = s.keys.RevokeAPIKey(ctx, record.ID); err == nil {
			err = s.keys.CreateAPIKey(ctx, record)
		}
	}
	if err != nil {
		return "", fmt.Errorf("store the banner's admin key: %w", err)
	}
	return key, nil
}
