package orgapitest

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/orgapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// leakedSecret is a secret an organization's admin sets with PATCH after a
// leak.
const leakedSecret = "a-new-secret-after-the-leak-0123456789abcdef"

// hookedUsers runs its hook, once, inside the next UpsertUser: a login has
// read and judged the organization, and its writes are under way.
type hookedUsers struct {
	embedsso.UserStore
	mu   sync.Mutex
	hook func()
}

func (u *hookedUsers) UpsertUser(ctx context.Context, p embedsso.Profile) (embedsso.User, error) {
	u.mu.Lock()
	hook := u.hook
	u.hook = nil
	u.mu.Unlock()
	if hook != nil {
		hook()
	}
	return u.UserStore.UpsertUser(ctx, p)
}

// testEpochFlows are TestFlows' rules of issue 16, finding 2: replacing the
// secrets or turning embedding off ends every session of the organization,
// with no window for a login under way, on any store.
func testEpochFlows(t *testing.T, newStores func(t *testing.T) Stores) {
	t.Run("replacing the secret ends every session, a rotation none", func(t *testing.T) {
		a := NewApp(t, newStores(t))
		secret := a.CreateAcme(t).JWTSecret
		_, jane := a.Login(t, secret, "jane@acme.example")
		require.True(t, a.SignedIn(t, jane))
		rotated := Data(t, a.Call("POST", "/api/public/organizations/org_acme/jwt-secret/rotate", a.Admin, ""), http.StatusOK)
		assert.True(t, a.SignedIn(t, jane), "a rotation keeps the sessions: the old secret is in its grace period")
		_, sam := a.Login(t, rotated.JWTSecret, "sam@acme.example")
		require.True(t, a.SignedIn(t, sam))

		Data(t, a.Call("PATCH", "/api/public/organizations/org_acme", a.Scoped, `{"jwtSecret":"`+leakedSecret+`"}`), http.StatusOK)
		assert.False(t, a.SignedIn(t, jane), "signed in with the leaked secret")
		assert.False(t, a.SignedIn(t, sam), "signed in with the rotated one")
		status, _ := a.Login(t, secret, "mallory@acme.example")
		assert.Equal(t, http.StatusUnauthorized, status, "the leaked secret signs no one in")
		status, fresh := a.Login(t, leakedSecret, "jane@acme.example")
		require.Equal(t, http.StatusFound, status, a.LastCode())
		assert.True(t, a.SignedIn(t, fresh), "a sign-in after the change lives")
		Data(t, a.Call("PATCH", "/api/public/organizations/org_acme", a.Scoped, `{"name":"Acme 2"}`), http.StatusOK)
		assert.True(t, a.SignedIn(t, fresh), "another change ends no session")
	})

	t.Run("a rotation that withdraws a secret still in force ends every session", func(t *testing.T) {
		a := NewApp(t, newStores(t))
		secret := a.CreateAcme(t).JWTSecret
		_, jane := a.Login(t, secret, "jane@acme.example")
		rotate := func() Org {
			return Data(t, a.Call("POST", "/api/public/organizations/org_acme/jwt-secret/rotate", a.Admin, ""), http.StatusOK)
		}
		for range orgapi.MaxSecrets - 1 {
			rotate()
		}
		assert.True(t, a.SignedIn(t, jane), "%d secrets, every one kept", orgapi.MaxSecrets)
		o := rotate() // one too many: the oldest, still in its grace period, goes
		require.Len(t, o.JWTSecrets, orgapi.MaxSecrets)
		assert.False(t, a.SignedIn(t, jane), "signed in while the withdrawn secret was in force")
		status, _ := a.Login(t, secret, "jane@acme.example")
		assert.Equal(t, http.StatusUnauthorized, status)
	})

	for _, c := range []struct{ name, change string }{
		{"embedding is turned off and on again", `{"fullEmbedEnabled":false}`},
		{"the secret is replaced", `{"jwtSecret":"` + leakedSecret + `"}`},
	} {
		t.Run("a login under way when "+c.name+" does not outlive the change", func(t *testing.T) {
			s := newStores(t)
			users := &hookedUsers{UserStore: s.Users}
			s.Users = users
			a := NewApp(t, s)
			secret := a.CreateAcme(t).JWTSecret
			users.mu.Lock()
			users.hook = func() { // the login read the organization before this
				Data(t, a.Call("PATCH", "/api/public/organizations/org_acme", a.Admin, c.change), http.StatusOK)
				Data(t, a.Call("PATCH", "/api/public/organizations/org_acme", a.Admin, `{"fullEmbedEnabled":true}`), http.StatusOK)
			}
			users.mu.Unlock()
			_, cookie := a.Login(t, secret, "mallory@acme.example")
			require.NotNil(t, cookie, "the login had passed its checks: %s", a.LastCode())
			assert.False(t, a.SignedIn(t, cookie), "the session of a login that began before the change")
		})
	}

	t.Run("logins racing rounds of disabling and enabling leave no session that began before a round", func(t *testing.T) {
		var round atomic.Int64
		st := newStores(t)
		st.Orgs = &roundOrgs{OrgAdmin: st.Orgs, round: &round}
		a := NewApp(t, st)
		raceRounds(t, a, a, &round, 0)
	})
}

// TestTwoInstances runs the rules of ending an organization's sessions
// across two app instances over one database: newStores returns two sets
// of stores (two handles) on a new, empty database. A change made through
// one instance's organization API ends the sessions the other issued,
// within settle (the stores' cache bound, if they cache; 0 if not).
func TestTwoInstances(t *testing.T, newStores func(t *testing.T) (a, b Stores), settle time.Duration) {
	t.Run("replacing the secret on one instance ends the sessions of the other", func(t *testing.T) {
		sa, sb := newStores(t)
		a, b := NewApp(t, sa), NewApp(t, sb)
		secret := a.CreateAcme(t).JWTSecret
		_, there := b.Login(t, secret, "jane@acme.example")
		_, here := a.Login(t, secret, "sam@acme.example")
		require.True(t, b.SignedIn(t, there))
		require.True(t, a.SignedIn(t, here))
		Data(t, a.Call("PATCH", "/api/public/organizations/org_acme", a.Admin, `{"jwtSecret":"`+leakedSecret+`"}`), http.StatusOK)
		assert.False(t, a.SignedIn(t, here), "at once on the instance that made the change")
		time.Sleep(settle)
		assert.False(t, b.SignedIn(t, there), "on the other within %s", settle)
		assert.False(t, a.SignedIn(t, there))
	})

	t.Run("logins on one instance racing rounds of disabling and enabling on the other leave no session that began before a round", func(t *testing.T) {
		var round atomic.Int64
		sa, sb := newStores(t)
		sb.Orgs = &roundOrgs{OrgAdmin: sb.Orgs, round: &round}
		raceRounds(t, NewApp(t, sa), NewApp(t, sb), &round, settle)
	})
}

// raceRounds runs rounds in which 16 clients log in to front without pause
// while admin's organization API turns org_acme's embedding off and on
// again; then the clients stop. After each round (and settle), every
// session of a login that read the organization before the round's change
// (its org read, recorded by front's [roundOrgs] over round, returned before
// the round count moved) must be refused by front's guard.
func raceRounds(t *testing.T, admin, front *App, round *atomic.Int64, settle time.Duration) {
	secret := admin.CreateAcme(t).JWTSecret
	const clients, rounds = 16, 8
	type issued struct {
		seen   int64 // the round count when the login read the organization
		cookie *http.Cookie
	}
	before, alive, all := 0, 0, 0
	for k := range rounds {
		var (
			stop   atomic.Bool
			mu     sync.Mutex
			got    []issued
			failed atomic.Int64
			wg     sync.WaitGroup
		)
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; !stop.Load(); n++ {
					seen := new(int64)
					status, c, err := front.login(context.WithValue(context.Background(), roundKey{}, seen), secret,
						fmt.Sprintf("user%d.%d.%d@acme.example", k, i, n))
					switch {
					case err != nil:
						failed.Add(1)
					case c != nil:
						mu.Lock()
						got = append(got, issued{*seen, c})
						mu.Unlock()
					case status == http.StatusForbidden: // embedding disabled at the time
					default:
						failed.Add(1)
					}
				}
			}()
		}
		time.Sleep(5 * time.Millisecond)
		round.Add(1) // before the change: an org read that saw the old count came before it
		Data(t, admin.Call("PATCH", "/api/public/organizations/org_acme", admin.Admin, `{"fullEmbedEnabled":false}`), http.StatusOK)
		time.Sleep(time.Millisecond)
		Data(t, admin.Call("PATCH", "/api/public/organizations/org_acme", admin.Admin, `{"fullEmbedEnabled":true}`), http.StatusOK)
		time.Sleep(2 * time.Millisecond)
		stop.Store(true)
		wg.Wait()
		assert.Zero(t, failed.Load(), "logins refused for another reason: last %s", front.LastCode())
		time.Sleep(settle)
		for _, is := range got {
			if is.seen < round.Load() {
				before++
				if front.SignedIn(t, is.cookie) {
					alive++
				}
			}
		}
		all += len(got)
	}
	require.NotZero(t, before, "no login read the organization before a round")
	assert.Zero(t, alive, "of %d sessions of logins that read the organization before a round's change, %d answer 200 after it", before, alive)
	t.Logf("%d sessions issued, %d by logins that read the organization before a round's change", all, before)
}

// roundKey carries, in a login's context, where [roundOrgs] records the
// round count its organization read saw.
type roundKey struct{}

// roundOrgs records, for a login whose context asks, the round count when
// its FindOrg returned.
type roundOrgs struct {
	orgapi.OrgAdmin
	round *atomic.Int64
}

func (o *roundOrgs) FindOrg(ctx context.Context, id string) (embedsso.Org, error) {
	org, err := o.OrgAdmin.FindOrg(ctx, id)
	// After the read: a count that had not moved when the read returned
	// proves the read came before the change.
	if seen, ok := ctx.Value(roundKey{}).(*int64); ok {
		*seen = o.round.Load()
	}
	return org, err
}
