// Package embedssotest is a conformance kit for embedsso's storage
// interfaces, in the spirit of testing/fstest.TestFS: run it against your own
// implementation of [embedsso.OrgStore], [embedsso.UserStore],
// [embedsso.SessionStore] or [embedsso.ReplayStore] and it checks, one
// subtest per rule, the contract the handler relies on.
//
//	func TestMyStores(t *testing.T) {
//		embedssotest.TestUserStore(t, func(t *testing.T) embedsso.UserStore {
//			return mystore.New(newTestDB(t))
//		})
//	}
//
// Every factory is called once per subtest and must return a store over an
// empty database. Subtests run one after another; some start 50 goroutines
// at once, so a store must be safe for concurrent use.
package embedssotest

import "time"

// epoch is the kit's clock: fixed, so expiry rules are checked exactly,
// and in the future of any real clock, so a store that ignores the now it is
// given (and uses its own) is caught.
var epoch = time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)

// racers is how many goroutines the concurrency rules start at once.
const racers = 50
