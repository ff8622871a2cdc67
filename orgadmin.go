package embedsso

import (
	"context"
	"time"
)

// OrgRecord is an organization as the organization API (package orgapi)
// manages it: the [Org] the login path reads, plus what only the API shows.
type OrgRecord struct {
	Org
	// Name is the organization's display name.
	Name string
	// CreatedAt and UpdatedAt are set by the caller of [OrgAdmin.CreateOrg]
	// and of [OrgAdmin.UpdateOrg]; stores keep them as given. They are zero
	// for an organization stored another way (memstore.Store.Put,
	// sqlstore's PutOrg).
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OrgAdmin is the write side of organizations, beside the [OrgStore] the
// login path reads: the organization API and the embedsso command create,
// change and rotate organizations through it. A change is visible to
// FindOrg, on every handle of the same database, as soon as the call
// returns.
type OrgAdmin interface {
	OrgStore
	// CreateOrg stores r as a new organization. If r.ID is taken it MUST
	// return an error matching [ErrOrgExists] and change nothing, also
	// when several calls race for one id. An org that does not pass
	// [Org.Validate] MUST be refused with its error (matching
	// [ErrOrgInvalid]) and nothing stored. Other errors mean failure.
	CreateOrg(ctx context.Context, r OrgRecord) error
	// FindOrgRecord returns the organization with the given id, or an
	// error matching [ErrOrgNotFound].
	FindOrgRecord(ctx context.Context, id string) (OrgRecord, error)
	// UpdateOrg reads the organization, calls change on a copy and stores
	// the result, atomically: when another update of the organization
	// commits in between, it reads again and calls change again, so no
	// concurrent update is lost. change may thus run more than once and
	// must not call the store. An error from change is returned as it is
	// and nothing is stored; changing the ID is an error, and so is a
	// result that does not pass [Org.Validate] (matching [ErrOrgInvalid]).
	// An unknown id is [ErrOrgNotFound]. It returns the record as stored.
	UpdateOrg(ctx context.Context, id string, change func(*OrgRecord) error) (OrgRecord, error)
}

// SessionRevoker ends sessions in bulk, for the organization API: every
// session of an organization when its embedding is turned off, and every
// session of one user for a "sign out everywhere". A session it deleted is
// not found by [SessionStore.FindSession] afterwards, on any handle of the
// same database.
type SessionRevoker interface {
	// RevokeOrgSessions deletes every session of the organization's users
	// and reports how many it deleted.
	RevokeOrgSessions(ctx context.Context, orgID string) (int, error)
	// RevokeEmailSessions deletes every session of the user (orgID, email),
	// email being normalized as [NormalizeEmail] does, and reports how many
	// it deleted. A user without sessions, or no such user, is 0 and no
	// error.
	RevokeEmailSessions(ctx context.Context, orgID, email string) (int, error)
}
