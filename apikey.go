package embedsso

import (
	"context"
	"time"
)

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
