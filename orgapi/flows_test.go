package orgapi_test

import (
	"testing"

	"github.com/embedsso/embedsso/orgapi/orgapitest"
)

// The API's end-to-end rules hold over the in-memory stores (sqlstore runs
// them on PostgreSQL and SQLite).
func TestFlowsOnMemoryStores(t *testing.T) {
	t.Parallel()
	orgapitest.TestFlows(t, func(*testing.T) orgapitest.Stores { return orgapitest.MemoryStores() })
}
