package embedssotest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/orgapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOrgAdmin checks an [orgapi.OrgAdmin]. newStores returns two handles
// on the same empty database (for an in-memory store, the same value twice):
// what one writes, the other reads at once. If the store also has
// PurgeExpired(ctx, now) (int, error), purging expired secrets is checked
// too.
func TestOrgAdmin(t *testing.T, newStores func(t *testing.T) (a, b orgapi.OrgAdmin)) {
	ctx := context.Background()
	acme := func() orgapi.OrgRecord {
		return orgapi.OrgRecord{
			Org: embedsso.Org{
				ID: "org_acme", EmbeddingEnabled: true,
				Secrets: []embedsso.Secret{
					{KeyID: "k2", Value: "admin-secret-two-0123456789-abcdefghijklm"},
					{KeyID: "k1", Value: "admin-secret-one-0123456789-abcdefghijklm", ExpiresAt: epoch.Add(time.Hour)},
				},
				AllowedOrigins: []string{"https://portal.acme.example"},
				AllowedRoles:   []string{"ADMIN", "MEMBER"},
				AllowedGroups:  []string{"finance", "eu-west"},
				DashboardURL:   "/home",
				LoginURL:       "https://portal.acme.example/sso?app=x",
				Epoch:          3,
			},
			Name: "Acme, Inc.", CreatedAt: epoch, UpdatedAt: epoch.Add(time.Second),
		}
	}
	notFound := func(t *testing.T, err error) {
		t.Helper()
		require.Error(t, err)
		assert.True(t, errors.Is(err, embedsso.ErrOrgNotFound), "got %v", err)
	}

	t.Run("a created org is found whole, expiries included, through both handles", func(t *testing.T) {
		a, b := newStores(t)
		want := acme()
		require.NoError(t, a.CreateOrg(ctx, want))
		for _, s := range []orgapi.OrgAdmin{a, b} {
			got, err := s.FindOrgRecord(ctx, want.ID)
			require.NoError(t, err)
			assert.Equal(t, want, got)
			org, err := s.FindOrg(ctx, want.ID)
			require.NoError(t, err)
			assert.Equal(t, want.Org, org)
		}
	})
	t.Run("an update stores a raised Epoch, read through both handles, and never lowers it", func(t *testing.T) {
		// An organization ends every session at once by raising its Epoch
		// (embedsso.Org.Epoch); lowering it would bring them back.
		a, b := newStores(t)
		require.NoError(t, a.CreateOrg(ctx, acme()))
		got, err := a.UpdateOrg(ctx, "org_acme", func(r *orgapi.OrgRecord) error { r.Epoch++; return nil })
		require.NoError(t, err)
		assert.Equal(t, int64(4), got.Epoch)
		for _, s := range []orgapi.OrgAdmin{a, b} {
			org, err := s.FindOrg(ctx, "org_acme")
			require.NoError(t, err)
			assert.Equal(t, int64(4), org.Epoch)
		}
		got, err = b.UpdateOrg(ctx, "org_acme", func(r *orgapi.OrgRecord) error { r.Epoch = 0; return nil })
		require.NoError(t, err)
		assert.Equal(t, int64(4), got.Epoch, "the record as stored")
		for _, s := range []orgapi.OrgAdmin{a, b} {
			org, err := s.FindOrg(ctx, "org_acme")
			require.NoError(t, err)
			assert.Equal(t, int64(4), org.Epoch, "not lowered")
		}
	})
	t.Run("creating a taken id is ErrOrgExists and changes nothing", func(t *testing.T) {
		a, b := newStores(t)
		require.NoError(t, a.CreateOrg(ctx, acme()))
		again := acme()
		again.Name, again.EmbeddingEnabled = "Impostor", false
		err := b.CreateOrg(ctx, again)
		require.Error(t, err)
		assert.True(t, errors.Is(err, orgapi.ErrOrgExists), "got %v", err)
		got, err := a.FindOrgRecord(ctx, "org_acme")
		require.NoError(t, err)
		assert.Equal(t, acme(), got)
	})
	t.Run("50 racing creations of one id: exactly one succeeds", func(t *testing.T) {
		a, b := newStores(t)
		errs := raceOn(racers, a, b, func(s orgapi.OrgAdmin, i int) error {
			r := acme()
			r.Name = fmt.Sprint("racer ", i)
			return s.CreateOrg(ctx, r)
		})
		wins := 0
		for i, err := range errs {
			if err == nil {
				wins++
				continue
			}
			assert.True(t, errors.Is(err, orgapi.ErrOrgExists), "racer %d: %v", i, err)
		}
		assert.Equal(t, 1, wins)
	})
	t.Run("an unknown id is ErrOrgNotFound for FindOrgRecord and UpdateOrg", func(t *testing.T) {
		a, _ := newStores(t)
		require.NoError(t, a.CreateOrg(ctx, acme()))
		_, err := a.FindOrgRecord(ctx, "org_nope")
		notFound(t, err)
		called := false
		_, err = a.UpdateOrg(ctx, "ORG_ACME", func(*orgapi.OrgRecord) error { called = true; return nil })
		notFound(t, err)
		assert.False(t, called, "change must not run for an unknown id")
	})
	t.Run("an update is stored, returned and read through the other handle", func(t *testing.T) {
		a, b := newStores(t)
		require.NoError(t, a.CreateOrg(ctx, acme()))
		got, err := a.UpdateOrg(ctx, "org_acme", func(r *orgapi.OrgRecord) error {
			r.Name, r.EmbeddingEnabled, r.AllowedOrigins, r.LoginURL = "Acme", false, nil, ""
			r.Secrets = r.Secrets[:1]
			r.UpdatedAt = epoch.Add(time.Minute)
			return nil
		})
		require.NoError(t, err)
		want := acme()
		want.Name, want.EmbeddingEnabled, want.AllowedOrigins, want.LoginURL = "Acme", false, nil, ""
		want.Secrets = want.Secrets[:1]
		want.UpdatedAt = epoch.Add(time.Minute)
		assert.Equal(t, want, got)
		stored, err := b.FindOrgRecord(ctx, "org_acme")
		require.NoError(t, err)
		assert.Equal(t, want.Name, stored.Name)
		assert.False(t, stored.EmbeddingEnabled)
		assert.Empty(t, stored.AllowedOrigins)
		assert.Equal(t, want.Secrets, stored.Secrets)
		org, err := b.FindOrg(ctx, "org_acme")
		require.NoError(t, err)
		assert.False(t, org.EmbeddingEnabled, "the login path sees the update at once")
	})
	t.Run("an update whose change fails stores nothing and returns that error", func(t *testing.T) {
		a, _ := newStores(t)
		require.NoError(t, a.CreateOrg(ctx, acme()))
		refused := errors.New("refused by the change")
		_, err := a.UpdateOrg(ctx, "org_acme", func(r *orgapi.OrgRecord) error {
			r.EmbeddingEnabled = false
			return refused
		})
		assert.ErrorIs(t, err, refused)
		got, err := a.FindOrgRecord(ctx, "org_acme")
		require.NoError(t, err)
		assert.Equal(t, acme(), got)
	})
	t.Run("an update that changes the id is refused", func(t *testing.T) {
		a, _ := newStores(t)
		require.NoError(t, a.CreateOrg(ctx, acme()))
		_, err := a.UpdateOrg(ctx, "org_acme", func(r *orgapi.OrgRecord) error { r.ID = "org_other"; return nil })
		require.Error(t, err)
		_, err = a.FindOrg(ctx, "org_other")
		notFound(t, err)
		_, err = a.FindOrg(ctx, "org_acme")
		assert.NoError(t, err)
	})
	t.Run("an org that fails Validate is refused by CreateOrg and UpdateOrg, which store nothing", func(t *testing.T) {
		a, b := newStores(t)
		weak := acme()
		weak.ID = "org_weak"
		weak.Secrets = []embedsso.Secret{{Value: "sixteen-byte-key"}}
		err := a.CreateOrg(ctx, weak)
		assert.True(t, errors.Is(err, embedsso.ErrOrgInvalid), "got %v", err)
		_, err = b.FindOrgRecord(ctx, "org_weak")
		notFound(t, err)
		require.NoError(t, a.CreateOrg(ctx, acme()))
		_, err = a.UpdateOrg(ctx, "org_acme", func(r *orgapi.OrgRecord) error {
			r.DashboardURL = "javascript:alert(1)"
			return nil
		})
		assert.True(t, errors.Is(err, embedsso.ErrOrgInvalid), "got %v", err)
		got, err := b.FindOrgRecord(ctx, "org_acme")
		require.NoError(t, err)
		assert.Equal(t, acme(), got)
	})
	t.Run("50 racing updates through two handles: none is lost", func(t *testing.T) {
		a, b := newStores(t)
		require.NoError(t, a.CreateOrg(ctx, acme()))
		errs := raceOn(racers, a, b, func(s orgapi.OrgAdmin, i int) error {
			_, err := s.UpdateOrg(ctx, "org_acme", func(r *orgapi.OrgRecord) error {
				r.AllowedRoles = append(r.AllowedRoles, fmt.Sprint("R", i))
				return nil
			})
			return err
		})
		for i, err := range errs {
			require.NoError(t, err, "racer %d", i)
		}
		got, err := b.FindOrg(ctx, "org_acme")
		require.NoError(t, err)
		assert.Len(t, got.AllowedRoles, 2+racers)
		for i := range racers {
			assert.Contains(t, got.AllowedRoles, fmt.Sprint("R", i))
		}
	})
	t.Run("racing rotations leave one current secret and lose none", func(t *testing.T) {
		a, b := newStores(t)
		org := acme()
		org.Secrets = org.Secrets[:1]
		require.NoError(t, a.CreateOrg(ctx, org))
		// One racer fewer than MaxSecrets: with the first secret, every
		// secret fits, so any missing one was lost, not dropped.
		n := orgapi.MaxSecrets - 1
		var mu sync.Mutex
		returned := map[string]bool{}
		errs := raceOn(n, a, b, func(s orgapi.OrgAdmin, i int) error {
			next := embedsso.Secret{KeyID: fmt.Sprint("rot", i), Value: fmt.Sprintf("rotated-secret-%02d-0123456789-abcdefghijkl", i)}
			r, err := s.UpdateOrg(ctx, "org_acme", func(r *orgapi.OrgRecord) error {
				r.Secrets = orgapi.RotateSecrets(r.Secrets, next, epoch, time.Hour)
				return nil
			})
			if err == nil {
				cur, _ := orgapi.CurrentSecret(r.Secrets)
				mu.Lock()
				returned[cur.Value] = true
				mu.Unlock()
			}
			return err
		})
		for i, err := range errs {
			require.NoError(t, err, "racer %d", i)
		}
		require.Len(t, returned, n, "each rotation returned its own new secret")
		got, err := b.FindOrg(ctx, "org_acme")
		require.NoError(t, err)
		current := 0
		stored := map[string]bool{}
		for _, s := range got.Secrets {
			stored[s.Value] = true
			if s.ExpiresAt.IsZero() {
				current++
				assert.True(t, returned[s.Value], "the current secret %q was not returned by any rotation", s.KeyID)
			}
		}
		assert.Equal(t, 1, current, "exactly one current secret")
		for v := range returned {
			assert.True(t, stored[v], "a rotation's secret was lost")
		}
		assert.True(t, stored[org.Secrets[0].Value], "the first secret is in its grace period")
	})
	t.Run("expired secrets are purged", func(t *testing.T) {
		a, b := newStores(t)
		p, ok := a.(purger)
		if !ok {
			t.Skip("the org store has no PurgeExpired method")
		}
		require.NoError(t, a.CreateOrg(ctx, acme()))
		n, err := p.PurgeExpired(ctx, epoch.Add(time.Hour-time.Second))
		require.NoError(t, err)
		assert.Equal(t, 0, n, "a secret in its grace period stays")
		n, err = p.PurgeExpired(ctx, epoch.Add(time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		got, err := b.FindOrg(ctx, "org_acme")
		require.NoError(t, err)
		assert.Equal(t, acme().Secrets[:1], got.Secrets)
	})
}

// raceOn runs f on n goroutines released at once, alternating between the two
// handles, and returns their errors.
func raceOn[S any](n int, a, b S, f func(s S, i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = f(s, i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}
