package orgapi

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
)

// KeyPrefix starts every API key, so that a leaked key is recognisable (by
// secret scanners, in a diff, in a log) for what it is.
const KeyPrefix = "esk_"

// A key is KeyPrefix, a 16-hex-digit id, "_", and 32 random bytes in
// unpadded base64url: "esk_0123456789abcdef_" + 43 characters. The id lets
// the store find the key without the secret part ever being a lookup value;
// the secret part is 256 bits, as hard to guess as the HMAC keys it guards.
const (
	keyIDHexLen  = 16
	keySecretLen = 43 // base64.RawURLEncoding.EncodedLen(32)
	keyLen       = len(KeyPrefix) + keyIDHexLen + 1 + keySecretLen
)

// KeyScope says what a new key may do: manage every organization and
// create new ones (Admin), or manage the listed organizations only. A key
// reaches any organization whose id is listed, also one created after the
// key: list only organizations that exist, and take a deleted
// organization's id out of its keys (embedsso apikey create refuses an
// unknown id; the example server's start does the second).
type KeyScope struct {
	Admin  bool
	OrgIDs []string
}

// NewKey returns a new API key, to show once, and the record to store with
// [APIKeyStore.CreateAPIKey], which holds only the key's hash.
func NewKey(name string, scope KeyScope, now time.Time) (key string, record APIKey, err error) {
	if !scope.Admin && len(scope.OrgIDs) == 0 {
		return "", APIKey{}, errors.New("orgapi: a key is either an admin key or scoped to at least one organization")
	}
	if scope.Admin && len(scope.OrgIDs) > 0 {
		return "", APIKey{}, errors.New("orgapi: an admin key manages every organization; give no organization ids")
	}
	var id [keyIDHexLen / 2]byte
	var secret [32]byte
	_, _ = rand.Read(id[:]) // never fails since Go 1.24
	_, _ = rand.Read(secret[:])
	key = KeyPrefix + hex.EncodeToString(id[:]) + "_" + base64.RawURLEncoding.EncodeToString(secret[:])
	record, err = KeyRecord(key, name, scope, now)
	return key, record, err
}

// KeyRecord returns the record to store for an existing key, such as one an
// operator keeps in an environment variable. It fails if key is not shaped
// as [NewKey] makes them.
func KeyRecord(key, name string, scope KeyScope, now time.Time) (APIKey, error) {
	id, ok := keyID(key)
	if !ok {
		return APIKey{}, errors.New("orgapi: not an API key (esk_ followed by 16 hex digits, _ and 43 base64url characters)")
	}
	return APIKey{ID: id, Hash: hashKey(key), Name: name, Admin: scope.Admin,
		OrgIDs: slices.Clone(scope.OrgIDs), CreatedAt: now.UTC()}, nil
}

// keyID returns the id part of a well-formed key.
func keyID(key string) (string, bool) {
	if len(key) != keyLen || !strings.HasPrefix(key, KeyPrefix) || key[len(KeyPrefix)+keyIDHexLen] != '_' {
		return "", false
	}
	id := key[len(KeyPrefix) : len(KeyPrefix)+keyIDHexLen]
	if strings.Trim(id, "0123456789abcdef") != "" {
		return "", false
	}
	secret := key[len(KeyPrefix)+keyIDHexLen+1:]
	if b, err := base64.RawURLEncoding.Strict().DecodeString(secret); err != nil || len(b) != 32 {
		return "", false
	}
	return id, true
}

func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// authenticate returns the key r's Authorization header carries. A missing,
// malformed, unknown, revoked or wrong key is errUnauthorized; a store
// failure is internal.
func (h *Handler) authenticate(r *http.Request) (APIKey, *apiError) {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return APIKey{}, errUnauthorized
	}
	id, ok := keyID(strings.TrimSpace(key))
	if !ok {
		return APIKey{}, errUnauthorized
	}
	k, err := h.keys.FindAPIKey(r.Context(), id)
	switch {
	case errors.Is(err, ErrAPIKeyNotFound):
		return APIKey{}, errUnauthorized
	case err != nil:
		return APIKey{}, internal(err)
	}
	// Constant time, so that how long a refusal takes says nothing about
	// how much of the hash matched.
	if subtle.ConstantTimeCompare([]byte(hashKey(strings.TrimSpace(key))), []byte(k.Hash)) != 1 {
		return APIKey{}, errUnauthorized
	}
	return k, nil
}

// mayManage reports whether k may see and change the organization id.
func mayManage(k APIKey, id string) bool {
	return k.Admin || slices.Contains(k.OrgIDs, id)
}
