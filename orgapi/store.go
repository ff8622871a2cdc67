package orgapi

import (
	"context"
	"time"

	"github.com/embedsso/embedsso"
)

// OrgRecord is an organization as the organization API manages it: the
// [embedsso.Org] the login path reads, plus what only the API shows.
type OrgRecord struct {
	embedsso.Org
	// Name is the organization's display name.
	Name string
	// CreatedAt and UpdatedAt are set by the caller of [OrgAdmin.CreateOrg]
	// and of [OrgAdmin.UpdateOrg]; stores keep them as given. They are zero
	// for an organization stored another way (memstore's and sqlstore's
	// PutOrg).
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OrgAdmin is the write side of organizations, beside the
// [embedsso.OrgStore] the login path reads: the organization API and the
// embedsso command create, change and rotate organizations through it. A change is visible to
// FindOrg through the same handle as soon as the call returns, and through
// every other handle of the same database within the bound its store
// documents (sqlstore's read cache: 100 ms; at once without a cache).
type OrgAdmin interface {
	embedsso.OrgStore
	// CreateOrg stores r as a new organization. If r.ID is taken it MUST
	// return an error matching [ErrOrgExists] and change nothing, also
	// when several calls race for one id. An org that does not pass
	// [embedsso.Org.Validate] MUST be refused with its error (matching
	// [embedsso.ErrOrgInvalid]) and nothing stored. Other errors mean failure.
	CreateOrg(ctx context.Context, r OrgRecord) error
	// FindOrgRecord returns the organization with the given id, or an
	// error matching [embedsso.ErrOrgNotFound].
	FindOrgRecord(ctx context.Context, id string) (OrgRecord, error)
	// UpdateOrg reads the organization, calls change on a copy and stores
	// the result, atomically: when another update of the organization
	// commits in between, it reads again and calls change again, so no
	// concurrent update is lost. change may thus run more than once and
	// must not call the store. An error from change is returned as it is
	// and nothing is stored; changing the ID is an error, and so is a
	// result that does not pass [embedsso.Org.Validate] (matching [embedsso.ErrOrgInvalid]).
	// An Epoch lower than the stored one is not stored: the stored one stays
	// (see [embedsso.Org.Epoch]).
	// An unknown id is [embedsso.ErrOrgNotFound]. It returns the record as stored.
	UpdateOrg(ctx context.Context, id string, change func(*OrgRecord) error) (OrgRecord, error)
}

// SessionRevoker ends sessions in bulk, for the organization API: every
// session of an organization when its embedding is turned off, and every
// session of one user for a "sign out everywhere". A session it deleted is
// not found by cookiesession.Store.FindSession afterwards through the
// same handle, and through every other handle of the same database within
// the bound its store documents (sqlstore's read cache: 100 ms).
type SessionRevoker interface {
	// RevokeOrgSessions deletes every session of the organization's users
	// and reports how many it deleted.
	RevokeOrgSessions(ctx context.Context, orgID string) (int, error)
	// RevokeEmailSessions deletes every session of the user (orgID, email),
	// email being normalized as the handler normalizes a token's email, and reports how many
	// it deleted. A user without sessions, or no such user, is 0 and no
	// error.
	RevokeEmailSessions(ctx context.Context, orgID, email string) (int, error)
}

// APIKey is a stored key of the organization API. The key itself is shown
// once, when it is made; a store keeps only its hash.
type APIKey struct {
	// ID is the key's public identifier: it is part of the key, so the key
	// is looked up by it, and it names the key to revoke.
	ID string
	// Hash is the hex SHA-256 of the whole key.
	Hash string
	// Name is a label for people ("ci", "back office").
	Name string
	// Admin keys manage every organization and may create them.
	Admin bool
	// OrgIDs are the organizations a key that is not Admin may manage.
	OrgIDs    []string
	CreatedAt time.Time
}

// APIKeyStore keeps API keys. Revoking deletes: a revoked key is not found
// on any handle of the same database as soon as RevokeAPIKey returns, so a
// store must not cache keys.
type APIKeyStore interface {
	// CreateAPIKey stores k. If k.ID is taken it MUST return an error
	// matching [ErrAPIKeyExists] and change nothing.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// FindAPIKey returns the key with the given id, or an error matching
	// [ErrAPIKeyNotFound] for an unknown or revoked one. Other errors mean
	// the store failed.
	FindAPIKey(ctx context.Context, id string) (APIKey, error)
	// RevokeAPIKey deletes the key with the given id, or returns an error
	// matching [ErrAPIKeyNotFound] if there is none.
	RevokeAPIKey(ctx context.Context, id string) error
}
