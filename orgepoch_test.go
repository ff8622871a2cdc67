package embedsso_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// joinedSessions is a session store that returns each session with its
// organization, as a SQL store reads both in one statement.
type joinedSessions struct {
	*memstore.Store
	orgs embedsso.OrgStore
}

func (s joinedSessions) FindSession(ctx context.Context, idHash string, now time.Time) (embedsso.Session, error) {
	sess, err := s.Store.FindSession(ctx, idHash, now)
	if err != nil {
		return sess, err
	}
	if o, err := s.orgs.FindOrg(ctx, sess.User.OrgID); err == nil {
		sess.Org = &o
	}
	return sess, nil
}

// bumpEpoch moves orgID's Epoch on, as the organization API does when its
// secrets are replaced or its embedding turned off.
func bumpEpoch(t *testing.T, orgs fixtureOrgs, orgID string) {
	t.Helper()
	o, err := orgs.Store.FindOrg(context.Background(), orgID)
	require.NoError(t, err)
	o.Epoch++
	require.NoError(t, orgs.PutOrg(context.Background(), o))
}

// Issue 16, finding 2: an organization that ends every session at once
// (its Epoch moves) ends them at their next request, whichever way the
// guard reads the organization, and a resume of one of them is refused.
func TestASessionEndsWhenItsOrganizationEndsEverySession(t *testing.T) {
	t.Parallel()
	for name, joined := range map[string]bool{"the guard reads the organization": false, "the store returns it with the session": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			orgs := newFixtureOrgs(t)
			f := newFixture(t, func(c *embedsso.Config) {
				c.Orgs = orgs
				if joined {
					store := c.Users.(*memstore.Store) // the fixture's, which keeps the sessions too
					cookies, err := cookiesession.New(cookiesession.Config{Store: joinedSessions{store, orgs}, Now: c.Now})
					require.NoError(t, err)
					c.Sessions = cookies
				}
			})
			session, hint := f.signInto(t, "org_login", secretOpen)
			page := f.page(false)
			require.Equal(t, http.StatusOK, f.visit(page, "/reports", []string{session, hint}, nil).Code)

			bumpEpoch(t, orgs, "org_login")
			w := f.visit(page, "/reports", []string{session, hint}, nil)
			assert.Equal(t, http.StatusFound, w.Code, "ended: through the LoginURL")
			assert.Contains(t, w.Header().Get("Location"), "https://customer.example/sso/embed-login")
			assert.Equal(t, embedsso.EventLoginRedirect, f.lastEvent(t).Kind)
			api := f.visit(f.page(true), "/api/me", []string{session, hint}, nil)
			assert.Equal(t, http.StatusUnauthorized, api.Code)

			again, hint := f.signInto(t, "org_login", secretOpen)
			assert.Equal(t, "hello jane@example.com", f.visit(page, "/reports", []string{again, hint}, nil).Body.String(),
				"a sign-in after the change lives")
		})
	}

	t.Run("a resume of a session its organization ended is refused", func(t *testing.T) {
		t.Parallel()
		orgs := newFixtureOrgs(t)
		f := newFixture(t, func(c *embedsso.Config) { c.Orgs = orgs })
		_, checkURL, page := f.blockedLogin(t, "")
		ticket := formTicket(t, page.Body.String())
		bumpEpoch(t, orgs, "org_abc123")
		w := f.post(checkURL, resumeForm(ticket), nil)
		assert.Equal(t, http.StatusBadRequest, w.Code)
		assert.Contains(t, w.Body.String(), "code: ticket_invalid")
		assert.Empty(t, sessionCookie(w))
		assert.Equal(t, 1, f.store.SessionCount(), "only the first sign-in's session")
	})
}
