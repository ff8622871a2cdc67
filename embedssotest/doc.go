// Package embedssotest is a conformance kit for embedsso's storage
// interfaces, in the spirit of testing/fstest.TestFS: run it against your own
// implementation of [embedsso.OrgStore], [embedsso.UserStore],
// [cookiesession.Store], [embedsso.ReplayStore] or [cookiesession.SignInStore]
// and it checks, one subtest per rule, the contract the handler relies on:
// not-found errors are the documented sentinels, upserts are idempotent and
// match emails byte for byte (the handler has normalized them), racing
// logins make one user, sessions expire and revoke, a token id is used once,
// even by 50 requests at the same instant through two handles on one
// database, and a sign-in writes all or nothing.
//
// Call each function from a test of your store's package, with a factory
// that returns a store over an empty database (a new one per call):
//
//	func TestMyStores(t *testing.T) {
//		t.Run("UserStore", func(t *testing.T) {
//			embedssotest.TestUserStore(t, func(t *testing.T) embedsso.UserStore {
//				return mystore.New(open(t, newTestDatabase(t)))
//			})
//		})
//		t.Run("ReplayStore", func(t *testing.T) {
//			embedssotest.TestReplayStore(t, func(t *testing.T) (a, b embedsso.ReplayStore) {
//				dsn := newTestDatabase(t) // one database, two handles: two app instances
//				return mystore.New(open(t, dsn)), mystore.New(open(t, dsn))
//			})
//		})
//	}
//
// The memory store runs it in memstore/conformance_test.go; sqlstore runs
// it on PostgreSQL and SQLite.
//
// Every factory is called once per subtest. Subtests run one after another;
// some start 50 goroutines at once, so a store must be safe for concurrent
// use. The kit passes its own times (in 2031, so a store that reads the wall
// clock instead is caught) and reads no clock itself. Purging rules are
// skipped, with a message, for a store without a PurgeExpired method.
package embedssotest

import (
	"context"
	"time"
)

// purger is a store that deletes expired entries in bulk, as the memory
// store and sqlstore do: PurgeExpired deletes what expired at or before now
// and reports how many it deleted.
type purger interface {
	PurgeExpired(ctx context.Context, now time.Time) (int, error)
}

// epoch is the kit's clock: fixed, so expiry rules are checked exactly,
// and in the future of any real clock, so a store that ignores the now it is
// given (and uses its own) is caught.
var epoch = time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)

// racers is how many goroutines the concurrency rules start at once.
const racers = 50
