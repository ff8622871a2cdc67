package embedsso_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oneStore is users, sessions and token ids in one value that can sign in
// at once, counting how each write arrived.
type oneStore struct {
	memstore.Store
	signIns, upserts atomic.Int64
	fail             error
}

func (s *oneStore) UpsertUser(ctx context.Context, p embedsso.Profile) (embedsso.User, error) {
	s.upserts.Add(1)
	return s.Store.UpsertUser(ctx, p)
}

func (s *oneStore) SignIn(ctx context.Context, w cookiesession.SignInWrite) (embedsso.User, error) {
	s.signIns.Add(1)
	if s.fail != nil {
		return embedsso.User{}, s.fail
	}
	if w.TokenID != "" {
		if err := s.UseTokenID(ctx, w.Profile.OrgID, w.TokenID, w.TokenExpiresAt, w.Now); err != nil {
			return embedsso.User{}, err
		}
	}
	u, err := s.Store.UpsertUser(ctx, w.Profile)
	if err != nil {
		return embedsso.User{}, err
	}
	w.Session.User = u
	return u, s.CreateSession(ctx, w.Session)
}

func TestOneStoreSignsInInOneWrite(t *testing.T) {
	t.Parallel()
	store := &oneStore{}
	f := newFixture(t, func(c *embedsso.Config) {
		cookies, err := cookiesession.New(cookiesession.Config{Store: store, SignIns: store})
		require.NoError(t, err)
		c.Users, c.Replay, c.Sessions = store, store, cookies
	})
	jti := with(f.claims(), "jti", "one-write-1")
	w := f.get(loginURL(rawToken(hs256, jti, secretABC)), nil)
	require.Equal(t, http.StatusFound, w.Code, w.Body.String())
	assertSessionCookie(t, sessionCookie(w))
	assert.Equal(t, int64(1), store.signIns.Load())
	assert.Zero(t, store.upserts.Load(), "the user was written through SignIn only")
	assert.Equal(t, 1, store.Store.SessionCount())

	replay := f.get(loginURL(rawToken(hs256, jti, secretABC)), nil)
	assert.Equal(t, http.StatusUnauthorized, replay.Code)
	assert.True(t, errors.Is(f.lastEvent(t).Err, embedsso.ErrTokenReplayed))
	assert.Empty(t, sessionCookie(replay))

	store.fail = errors.New("disk full")
	failed := f.get(loginURL(rawToken(hs256, f.claims(), secretABC)), nil)
	assert.Equal(t, http.StatusInternalServerError, failed.Code)
	assert.Empty(t, sessionCookie(failed), "no cookie for a session that was not stored")
	assert.NotContains(t, failed.Body.String(), "disk full")
}

// The one-step sign-in is chosen by cookiesession.Config.SignIns alone,
// never inferred from which stores are the same value.
func TestWithoutSignInsEachStoreIsWrittenStepByStep(t *testing.T) {
	t.Parallel()
	for name, sameReplay := range map[string]bool{
		"stores that are not one value":                      false,
		"one value as Users, Replay and the sessions' store": true,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store := &oneStore{}
			f := newFixture(t, func(c *embedsso.Config) {
				cookies, err := cookiesession.New(cookiesession.Config{Store: store})
				require.NoError(t, err)
				c.Users, c.Sessions = store, cookies // Replay stays the fixture's own store
				if sameReplay {
					c.Replay = store
				}
			})
			w := f.get(loginURL(rawToken(hs256, with(f.claims(), "jti", "split-1"), secretABC)), nil)
			require.Equal(t, http.StatusFound, w.Code, w.Body.String())
			assert.Zero(t, store.signIns.Load(), "SignIns is not set: SignIn is not called")
			assert.Equal(t, int64(1), store.upserts.Load())
			if sameReplay {
				assert.Equal(t, 1, store.Store.TokenIDCount())
			} else {
				assert.Equal(t, 1, f.store.TokenIDCount())
			}
		})
	}
}

// New says which part a one-step sign-in lacks, and accepts it whole.
func TestNewNamesWhatAOneStepSignInLacks(t *testing.T) {
	t.Parallel()
	store := &oneStore{}
	cookies, err := cookiesession.New(cookiesession.Config{Store: store, SignIns: store})
	require.NoError(t, err)
	whole := embedsso.Config{Orgs: newFixtureOrgs(t), Users: store, Replay: store, Sessions: cookies}
	_, err = embedsso.New(whole)
	require.NoError(t, err)

	noReplay := whole
	noReplay.Replay = nil
	_, err = embedsso.New(noReplay)
	assert.ErrorContains(t, err, "needs Config.Replay")
}

// An issuer that is not a OneStepIssuer (here the one-step cookie issuer
// behind a wrapper that shows only SessionIssuer) signs in a write at a
// time, through Replay, Users and IssueSession: its SignIns store is not
// reached, and the sign-in still works.
func TestAnIssuerThatIsNotOneStepSignsInStepByStep(t *testing.T) {
	t.Parallel()
	store := &oneStore{}
	f := newFixture(t, func(c *embedsso.Config) {
		cookies, err := cookiesession.New(cookiesession.Config{Store: store, SignIns: store})
		require.NoError(t, err)
		c.Users, c.Replay, c.Sessions = store, store, struct{ embedsso.SessionIssuer }{cookies}
	})
	w := f.get(loginURL(rawToken(hs256, with(f.claims(), "jti", "wrapped-1"), secretABC)), nil)
	require.Equal(t, http.StatusFound, w.Code, w.Body.String())
	assert.Zero(t, store.signIns.Load())
	assert.Equal(t, int64(1), store.upserts.Load())
	assert.Equal(t, 1, store.Store.TokenIDCount())
	assert.Equal(t, 1, store.Store.SessionCount())
}
