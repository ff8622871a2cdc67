package orgapi_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/embedsso/embedsso/memstore"
	"github.com/embedsso/embedsso/orgapi"
	"github.com/embedsso/embedsso/orgapi/orgapitest"
	"github.com/stretchr/testify/assert"
)

// countingOrgs counts the writes that reached the store.
type countingOrgs struct {
	*memstore.Store
	writes atomic.Int64
}

func (s *countingOrgs) CreateOrg(ctx context.Context, r orgapi.OrgRecord) error {
	err := s.Store.CreateOrg(ctx, r)
	if err == nil {
		s.writes.Add(1)
	}
	return err
}

func (s *countingOrgs) UpdateOrg(ctx context.Context, id string, change func(*orgapi.OrgRecord) error) (orgapi.OrgRecord, error) {
	r, err := s.Store.UpdateOrg(ctx, id, change)
	if err == nil {
		s.writes.Add(1)
	}
	return r, err
}

// Any body: a success writes once, anything else writes nothing, and
// nothing is a 500.
func FuzzOrgBody(f *testing.F) {
	f.Add(false, orgapitest.AcmeBody)
	f.Add(true, `{"name":"x","embedAllowedOrigins":["https://*.b.example"],"embedDashboardUrl":"/d"}`)
	f.Add(true, `{"jwtSecret":"0123456789abcdef0123456789abcdef"}`)
	for _, c := range orgapitest.BadInputs {
		if len(c.Body) < 1000 {
			f.Add(c.Patch, "{"+c.Body)
		}
	}
	f.Fuzz(func(t *testing.T, patch bool, body string) {
		s := orgapitest.MemoryStores()
		orgs := &countingOrgs{Store: &memstore.Store{}}
		s.Orgs = orgs
		a := orgapitest.NewApp(t, s)
		method, path, ok := "POST", "/api/public/organizations", http.StatusCreated
		if patch {
			a.CreateAcme(t)
			orgs.writes.Store(0)
			method, path, ok = "PATCH", "/api/public/organizations/org_acme", http.StatusOK
		}
		w := a.Call(method, path, a.Admin, body)
		assert.NotEqual(t, http.StatusInternalServerError, w.Code)
		if w.Code == ok {
			assert.Equal(t, int64(1), orgs.writes.Load())
		} else {
			assert.Equal(t, int64(0), orgs.writes.Load(), "status %d wrote: %s", w.Code, w.Body)
			// 415 only for the empty body, which the harness sends without
			// a content type.
			assert.Contains(t, []int{http.StatusBadRequest, http.StatusUnsupportedMediaType}, w.Code, w.Body.String())
		}
	})
}
