package orgapi

import (
	"slices"
	"time"

	"github.com/embedsso/embedsso"
)

// DefaultRotationGrace is how long a rotated-out secret keeps verifying when
// no other grace period is configured: a day, time enough for every server
// of the customer to pick up the new secret.
const DefaultRotationGrace = 24 * time.Hour

// MaxSecrets bounds how many secrets an organization holds at once: the
// current one and those still in their grace period. A token without a kid
// is tried against each, so the bound is also the most HMACs a bad token
// costs.
const MaxSecrets = 10

// expired reports whether s's grace period is over at now, as the handler
// judges it.
func expired(s embedsso.Secret, now time.Time) bool {
	return !s.ExpiresAt.IsZero() && !now.Before(s.ExpiresAt)
}

// RotateSecrets returns the secrets of an organization after a rotation to
// next: next comes first and has no expiry; every other secret that had none
// expires at now+grace, those already in a grace period keep theirs. Secrets
// expired at now are dropped, and if more than [MaxSecrets] would remain,
// those that expire first are dropped. A grace of 0 drops the old secrets at
// once (for a leaked secret). secrets is not modified.
func RotateSecrets(secrets []embedsso.Secret, next embedsso.Secret, now time.Time, grace time.Duration) []embedsso.Secret {
	next.ExpiresAt = time.Time{}
	out := []embedsso.Secret{next}
	for _, s := range secrets {
		if s.ExpiresAt.IsZero() {
			s.ExpiresAt = now.Add(grace)
		}
		out = append(out, s)
	}
	out = DropExpiredSecrets(out, now)
	for len(out) > MaxSecrets {
		// out[0] is next; drop the one of the others that expires first,
		// the oldest (last) of those that expire at the same time.
		first := 1
		for i := 2; i < len(out); i++ {
			if !out[i].ExpiresAt.After(out[first].ExpiresAt) {
				first = i
			}
		}
		out = slices.Delete(out, first, first+1)
	}
	return out
}

// DropExpiredSecrets returns secrets without those whose grace period is over
// at now. secrets is not modified.
func DropExpiredSecrets(secrets []embedsso.Secret, now time.Time) []embedsso.Secret {
	out := make([]embedsso.Secret, 0, len(secrets))
	for _, s := range secrets {
		if !expired(s, now) {
			out = append(out, s)
		}
	}
	return out
}

// CurrentSecret returns the secret an organization's customer should sign
// with: the first without an expiry. ok is false when every secret is in a
// grace period or there is none.
func CurrentSecret(secrets []embedsso.Secret) (s embedsso.Secret, ok bool) {
	for _, s := range secrets {
		if s.ExpiresAt.IsZero() {
			return s, true
		}
	}
	return embedsso.Secret{}, false
}
