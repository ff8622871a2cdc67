package embedsso_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The kinds are constants: this line stops compiling if one becomes a
// variable that an importer could reassign or whose fields it could change.
const _, _, _ = embedsso.ErrTokenExpired, embedsso.ErrOrgNotFound, embedsso.ErrInternal

func TestARefusalIsAFreshValueThatChangesNothingElse(t *testing.T) {
	t.Parallel()
	var seen []*embedsso.Error
	var first []embedsso.Error // each refusal as the hook first saw it
	f := newFixture(t, func(c *embedsso.Config) {
		c.ErrorPage = func(w http.ResponseWriter, r *http.Request, e *embedsso.Error) {
			seen, first = append(seen, e), append(first, *e)
			e.Status, e.Code, e.Reason = http.StatusOK, "tampered", "tampered" // what a careless hook might do
			w.WriteHeader(http.StatusTeapot)
		}
	})
	expired := rawToken(hs256, with(f.claims(), "exp", f.now.Add(-time.Hour).Unix(), "iat", f.now.Add(-2*time.Hour).Unix()), secretABC)
	f.get(loginURL(expired), nil)
	f.get(loginURL(expired), nil)
	require.Len(t, seen, 2)
	assert.NotSame(t, seen[0], seen[1])
	assert.Equal(t, http.StatusUnauthorized, first[1].Status, "the first hook's change did not reach the second refusal")
	assert.Equal(t, "token_expired", first[1].Code)
	assert.True(t, errors.Is(&first[1], embedsso.ErrTokenExpired))
	assert.Equal(t, http.StatusUnauthorized, embedsso.ErrTokenExpired.Status())
}

func TestKindsMapToTheirStatuses(t *testing.T) {
	t.Parallel()
	for k, status := range map[embedsso.Kind]int{
		embedsso.ErrTokenMissing: 400, embedsso.ErrClaimsInvalid: 400, embedsso.ErrTicketInvalid: 400,
		embedsso.ErrSignatureInvalid: 401, embedsso.ErrTokenReplayed: 401, embedsso.ErrSessionNotFound: 401,
		embedsso.ErrEmbeddingDisabled: 403, embedsso.ErrOriginNotAllowed: 403, embedsso.ErrCrossSite: 403,
		embedsso.ErrOrgNotFound: 404, embedsso.ErrMethodNotAllowed: 405,
		embedsso.ErrInternal: 500, embedsso.ErrOrgMisconfigured: 500, embedsso.Kind("no_such_kind"): 500,
	} {
		assert.Equal(t, status, k.Status(), string(k))
		assert.NotEmpty(t, k.Reason(), string(k))
		assert.Equal(t, "embedsso: "+string(k), k.Error())
	}
}

// brokenReads is a SessionStore whose reads fail.
type brokenReads struct{ memstore.Store }

func (*brokenReads) FindSession(context.Context, string, time.Time) (embedsso.Session, error) {
	return embedsso.Session{}, errors.New("connection reset by peer")
}

func TestTheGuardLogsStoreFailures(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	c, err := cookiesession.New(cookiesession.Config{Store: &brokenReads{}})
	require.NoError(t, err)
	h, err := embedsso.New(embedsso.Config{Orgs: newFixtureOrgs(t), Users: &memstore.Store{}, Sessions: c,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	require.NoError(t, err)
	for name, accept := range map[string]string{"a page": "text/html", "an API call": "application/json"} {
		logs.Reset()
		r := httptest.NewRequest("GET", "/api/me", nil)
		r.Header.Set("Accept", accept)
		r.Header.Set("Cookie", "embedsso_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		w := httptest.NewRecorder()
		h.RequireUser(http.NotFoundHandler()).ServeHTTP(w, r)
		assert.Equal(t, http.StatusInternalServerError, w.Code, name)
		assert.Contains(t, logs.String(), `"level":"ERROR"`, name)
		assert.Contains(t, logs.String(), "connection reset by peer", name)
		assert.NotContains(t, logs.String(), "AAAAAAAAAAAAAAAAAAAA", name+": the session id stays out of the log")
	}
}
