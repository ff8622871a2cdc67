package embedssotest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SignInStores is what [TestSignInStore] checks: a [cookiesession.SignInStore]
// that is also the user, session and replay store its sign-ins write to, as
// the handler requires before it calls SignIn.
type SignInStores interface {
	cookiesession.SignInStore
	embedsso.UserStore
	cookiesession.Store
	embedsso.ReplayStore
}

// ListUsers returns the users of one organization as the database holds
// them, in any order. [TestSignInStore] uses it to see that a refused or
// failed sign-in created no user and changed none, which the stores'
// methods cannot show without writing. Read the database directly (for
// SQL, SELECT … FROM your users table WHERE org_id = …).
type ListUsers func(ctx context.Context, orgID string) ([]embedsso.User, error)

// TestSignInStore checks a [cookiesession.SignInStore]. newStore returns a store
// over an empty database and the way to list its users.
//
// The rules: a sign-in spends the token id, upserts the user (as
// [embedsso.UserStore.UpsertUser] does: one user per organization and
// case-insensitive email) and stores a session that is found with that user;
// a spent, live token id is refused with [embedsso.ErrTokenReplayed] and the
// refusal writes nothing (no user, no session, not even a later expiry); and
// a sign-in that fails half-way writes nothing. The kit makes one fail
// half-way through the public interface: a session whose IDHash is already
// stored MUST fail the sign-in (as a primary key on the hash does), after
// the token id and the user would have been written. Racing sign-ins make
// one user, and one token id signs in once.
func TestSignInStore(t *testing.T, newStore func(t *testing.T) (SignInStores, ListUsers)) {
	ctx := context.Background()
	until := epoch.Add(10 * time.Minute)
	write := func(tokenID, email, firstName, session string) cookiesession.SignInWrite {
		return cookiesession.SignInWrite{
			Profile:        embedsso.Profile{OrgID: "org_a", Email: email, FirstName: firstName, LastName: "Doe", Role: "MEMBER"},
			TokenID:        tokenID,
			TokenExpiresAt: until,
			Now:            epoch,
			Session: embedsso.Session{IDHash: hashOf(session), CreatedAt: epoch, ExpiresAt: epoch.Add(time.Hour), IdleExpiresAt: epoch.Add(30 * time.Minute),
				OrgEpoch: 9},
		}
	}
	replayed := func(t *testing.T, err error) {
		t.Helper()
		require.Error(t, err)
		assert.True(t, errors.Is(err, embedsso.ErrTokenReplayed), "got %v", err)
	}
	notFound := func(t *testing.T, s SignInStores, session string) {
		t.Helper()
		_, err := s.FindSession(ctx, hashOf(session), epoch.Add(time.Minute))
		assert.True(t, errors.Is(err, embedsso.ErrSessionNotFound), "session %q: got %v", session, err)
	}
	// users lists org_a's users as "email first-name", sorted.
	users := func(t *testing.T, list ListUsers) []string {
		t.Helper()
		us, err := list(ctx, "org_a")
		require.NoError(t, err)
		out := make([]string, len(us))
		for i, u := range us {
			out[i] = u.Email + " " + u.FirstName
		}
		sort.Strings(out)
		return out
	}

	t.Run("a sign-in spends the token id, upserts the user and stores the session", func(t *testing.T) {
		s, list := newStore(t)
		w := write("jti-1", "jane@example.com", "Jane", "one")
		u, err := s.SignIn(ctx, w)
		require.NoError(t, err)
		assert.NotEmpty(t, u.ID)
		assert.Equal(t, w.Profile, profileOf(u))
		assert.False(t, u.CreatedAt.IsZero())

		replayed(t, s.UseTokenID(ctx, "org_a", "jti-1", until, epoch.Add(time.Second)))
		again, err := s.UpsertUser(ctx, w.Profile)
		require.NoError(t, err)
		assert.Equal(t, u.ID, again.ID, "the upserted user is the stored one")
		sess, err := s.FindSession(ctx, w.Session.IDHash, epoch.Add(time.Minute))
		require.NoError(t, err)
		assert.Equal(t, u.ID, sess.User.ID)
		assert.Equal(t, w.Profile, profileOf(sess.User))
		assert.WithinDuration(t, w.Session.ExpiresAt, sess.ExpiresAt, time.Millisecond)
		assert.WithinDuration(t, w.Session.IdleExpiresAt, sess.IdleExpiresAt, time.Millisecond)
		assert.Equal(t, int64(9), sess.OrgEpoch, "the session keeps its organization's epoch")
		_, err = s.FindSession(ctx, w.Session.IDHash, w.Session.IdleExpiresAt)
		assert.True(t, errors.Is(err, embedsso.ErrSessionNotFound), "the session ends at its idle expiry: got %v", err)
		assert.Equal(t, []string{"jane@example.com Jane"}, users(t, list))
	})
	t.Run("a sign-in updates an existing user, found by its email, and keeps its id", func(t *testing.T) {
		s, list := newStore(t)
		first, err := s.UpsertUser(ctx, embedsso.Profile{OrgID: "org_a", Email: "jane@example.com", FirstName: "Jane", Role: "VIEWER"})
		require.NoError(t, err)
		w := write("jti-1", "jane@example.com", "Janet", "one")
		w.Profile.Role = "ADMIN"
		u, err := s.SignIn(ctx, w)
		require.NoError(t, err)
		assert.Equal(t, first.ID, u.ID)
		assert.Equal(t, "jane@example.com", u.Email)
		assert.Equal(t, "Janet", u.FirstName)
		assert.Equal(t, "ADMIN", u.Role)
		assert.WithinDuration(t, first.CreatedAt, u.CreatedAt, 0, "created_at survives an update")
		assert.Equal(t, []string{"jane@example.com Janet"}, users(t, list))
	})
	t.Run("a sign-in without a token id records none", func(t *testing.T) {
		s, _ := newStore(t)
		_, err := s.SignIn(ctx, write("", "jane@example.com", "Jane", "one"))
		require.NoError(t, err)
		_, err = s.SignIn(ctx, write("", "jane@example.com", "Jane", "two"))
		require.NoError(t, err, "no id was recorded, so there is nothing to replay")
	})
	t.Run("a spent token id is refused and the refusal writes nothing", func(t *testing.T) {
		s, list := newStore(t)
		_, err := s.UpsertUser(ctx, embedsso.Profile{OrgID: "org_a", Email: "jane@example.com", FirstName: "Jane", LastName: "Doe", Role: "MEMBER"})
		require.NoError(t, err)
		require.NoError(t, s.UseTokenID(ctx, "org_a", "spent", until, epoch))
		_, err = s.SignIn(ctx, write("signed-in", "sam@example.com", "Sam", "sam"))
		require.NoError(t, err)

		later := func(w cookiesession.SignInWrite) cookiesession.SignInWrite {
			w.Now, w.TokenExpiresAt = epoch.Add(time.Second), until.Add(time.Hour)
			return w
		}
		_, err = s.SignIn(ctx, later(write("spent", "jane@example.com", "Changed", "replay-jane")))
		replayed(t, err)
		_, err = s.SignIn(ctx, later(write("spent", "ghost@example.com", "Ghost", "replay-ghost")))
		replayed(t, err)
		_, err = s.SignIn(ctx, later(write("signed-in", "ghost@example.com", "Ghost", "replay-ghost-2")))
		replayed(t, err)

		assert.Equal(t, []string{"jane@example.com Jane", "sam@example.com Sam"}, users(t, list), "no user created or changed")
		notFound(t, s, "replay-jane")
		notFound(t, s, "replay-ghost")
		notFound(t, s, "replay-ghost-2")
		// Had a refusal stored its later expiry, the ids would still be blocked.
		require.NoError(t, s.UseTokenID(ctx, "org_a", "spent", until.Add(time.Hour), until))
		require.NoError(t, s.UseTokenID(ctx, "org_a", "signed-in", until.Add(time.Hour), until))
	})
	t.Run("an expired token id no longer blocks a sign-in", func(t *testing.T) {
		s, _ := newStore(t)
		_, err := s.SignIn(ctx, write("old", "jane@example.com", "Jane", "one"))
		require.NoError(t, err)
		w := write("old", "jane@example.com", "Jane", "two")
		w.Now, w.TokenExpiresAt = until, until.Add(10*time.Minute)
		_, err = s.SignIn(ctx, w)
		require.NoError(t, err)
		w = write("old", "jane@example.com", "Jane", "three")
		w.Now, w.TokenExpiresAt = until.Add(time.Minute), until.Add(10*time.Minute)
		_, err = s.SignIn(ctx, w)
		replayed(t, err)
	})
	t.Run("a sign-in failing half-way writes nothing", func(t *testing.T) {
		s, list := newStore(t)
		jane, err := s.SignIn(ctx, write("jti-0", "jane@example.com", "Jane", "taken"))
		require.NoError(t, err)

		// Both sessions reuse the stored hash "taken": the session write
		// fails after the token id and the user would have been written.
		_, err = s.SignIn(ctx, write("jti-1", "jane@example.com", "Changed", "taken"))
		require.Error(t, err, "a session whose IDHash is stored must fail the sign-in")
		assert.False(t, errors.Is(err, embedsso.ErrTokenReplayed), "got %v", err)
		_, err = s.SignIn(ctx, write("jti-2", "newbie@example.com", "Newbie", "taken"))
		require.Error(t, err, "a session whose IDHash is stored must fail the sign-in")

		assert.Equal(t, []string{"jane@example.com Jane"}, users(t, list), "no user created or changed")
		assert.NoError(t, s.UseTokenID(ctx, "org_a", "jti-1", until, epoch), "the failed sign-in's token id is not spent")
		assert.NoError(t, s.UseTokenID(ctx, "org_a", "jti-2", until, epoch), "the failed sign-in's token id is not spent")
		sess, err := s.FindSession(ctx, hashOf("taken"), epoch.Add(time.Minute))
		require.NoError(t, err)
		assert.Equal(t, jane.ID, sess.User.ID, "the stored session is untouched")
	})
	t.Run("50 racing sign-ins of one new user make exactly one user", func(t *testing.T) {
		s, list := newStore(t)
		ids := make([]string, racers)
		errs := make([]error, racers)
		race(func(i int) {
			u, err := s.SignIn(ctx, write(fmt.Sprintf("jti-%d", i), "jane@example.com", "Jane", fmt.Sprintf("s-%d", i)))
			ids[i], errs[i] = u.ID, err
		})
		for i := range racers {
			require.NoError(t, errs[i], "sign-in %d", i)
			assert.Equal(t, ids[0], ids[i], "sign-in %d got another user", i)
			sess, err := s.FindSession(ctx, hashOf(fmt.Sprintf("s-%d", i)), epoch.Add(time.Minute))
			require.NoError(t, err, "sign-in %d", i)
			assert.Equal(t, ids[0], sess.User.ID, "sign-in %d", i)
		}
		assert.Equal(t, []string{"jane@example.com Jane"}, users(t, list))
	})
	t.Run("50 racing sign-ins with one token id: exactly one signs in", func(t *testing.T) {
		s, list := newStore(t)
		errs := make([]error, racers)
		race(func(i int) {
			_, errs[i] = s.SignIn(ctx, write("race", fmt.Sprintf("racer-%02d@example.com", i), "Racer", fmt.Sprintf("s-%d", i)))
		})
		winner := -1
		for i, err := range errs {
			if err == nil {
				assert.Equal(t, -1, winner, "sign-ins %d and %d both won", winner, i)
				winner = i
				continue
			}
			assert.True(t, errors.Is(err, embedsso.ErrTokenReplayed), "sign-in %d: %v", i, err)
			notFound(t, s, fmt.Sprintf("s-%d", i))
		}
		require.NotEqual(t, -1, winner, "no sign-in won")
		assert.Equal(t, []string{fmt.Sprintf("racer-%02d@example.com Racer", winner)}, users(t, list), "only the winner's user is written")
	})
}

// race runs f(0) … f(racers-1) in as many goroutines, released at once.
func race(f func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f(i)
		}()
	}
	close(start)
	wg.Wait()
}
