package embedssotest_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/embedssotest"
	"github.com/embedsso/embedsso/memstore"
	"github.com/embedsso/embedsso/orgapi"
	"github.com/stretchr/testify/assert"
)

// faults pairs each rule of the kit with a store that breaks it, so the kit
// is shown to catch what it claims to check (the in-memory stores, which
// pass, are in memstore/conformance_test.go).
var faults = []struct {
	name string           // a subtest of TestKitCatchesEachFault (in the child)
	rule string           // the rule of the kit that must fail
	run  func(*testing.T) // runs the kit against the faulty store
}{
	{"org-plain-not-found", "an unknown id is ErrOrgNotFound", orgKit(faultyOrgs{plainNotFound: true})},
	{"org-drops-key-ids", "a stored org comes back whole, secrets in order", orgKit(faultyOrgs{dropKeyIDs: true})},
	{"org-always-enabled", "an org with nothing optional comes back with empty lists", orgKit(faultyOrgs{alwaysEnabled: true})},
	{"org-folds-case", "ids are case-sensitive", orgKit(faultyOrgs{foldCase: true})},
	{"org-drops-epoch", "a stored org comes back whole, secrets in order", orgKit(faultyOrgs{dropEpoch: true})},

	{"user-drops-last-name", "a new user is created with an id and the profile", userKit(userFaults{dropLastName: true})},
	{"user-keeps-old-names", "create then update keeps one user and updates names and role", userKit(userFaults{keepOldNames: true})},
	{"user-merges-attributes", "attributes and groups are stored, and replaced whole at every upsert", userKit(userFaults{mergeAttributes: true})},
	{"user-folds-unicode-case", "emails are matched byte for byte, never case-mapped", userKit(userFaults{foldCase: true})},
	{"user-ignores-org", "the same email in two orgs is two users", userKit(userFaults{ignoreOrg: true})},
	{"user-check-then-insert", "50 racing logins of one new user make exactly one user and no error", userKit(userFaults{checkThenInsert: true})},

	{"session-drops-user", "a created session is found by its hash, with its user", sessionKit(faultySessions{dropUser: true})},
	{"session-plain-not-found", "a forged or unknown hash is ErrSessionNotFound", sessionKit(faultySessions{plainNotFound: true})},
	{"session-never-expires", "a session expires at its expiry time", sessionKit(faultySessions{ignoreExpiry: true})},
	{"session-revoke-ignored", "a revoked session is not found, and revoking twice is fine", sessionKit(faultySessions{noRevoke: true})},
	{"session-revoke-user-ignored", "revoking a user's sessions revokes all of theirs and no one else's", sessionKit(faultySessions{noRevokeUser: true})},
	{"session-no-purge", "expired sessions are purged", sessionKit(faultySessions{noPurge: true})},
	{"session-ignores-idle", "a session ends at its idle expiry, and touching moves it", sessionKit(faultySessions{ignoreIdle: true})},
	{"session-touch-ignored", "a session ends at its idle expiry, and touching moves it", sessionKit(faultySessions{noTouch: true})},
	{"session-snapshot-user", "a session carries its user as the user store holds it now", sessionKit(faultySessions{snapshotUser: true})},
	{"session-drops-org-epoch", "a session keeps the organization epoch it was created with", sessionKit(faultySessions{dropOrgEpoch: true})},

	{"replay-plain-error", "a token id is accepted once and refused afterwards", replayKit(replayFaults{plainReplayed: true}, true)},
	{"replay-extends-on-refusal", "a refused attempt changes nothing, not even the expiry", replayKit(replayFaults{extendOnRefusal: true}, true)},
	{"replay-ignores-org", "the same id in another org is another token", replayKit(replayFaults{ignoreOrg: true}, true)},
	{"replay-per-handle", "a token id used through one handle is refused through another", replayKit(replayFaults{}, false)},
	{"replay-check-then-set", "50 requests presenting one id at once: exactly one wins", replayKit(replayFaults{checkThenSet: true}, true)},
	{"replay-never-expires", "an expired entry no longer blocks its id", replayKit(replayFaults{neverExpire: true}, true)},
	{"replay-no-purge", "expired entries are purged", replayKit(replayFaults{noPurge: true}, true)},

	{"signin-skips-token", "a sign-in spends the token id, upserts the user and stores the session", signInKit(signInFaults{skipToken: true})},
	{"signin-drops-session-user", "a sign-in spends the token id, upserts the user and stores the session", signInKit(signInFaults{dropSessionUser: true})},
	{"signin-drops-idle-expiry", "a sign-in spends the token id, upserts the user and stores the session", signInKit(signInFaults{dropIdle: true})},
	{"signin-keeps-old-names", "a sign-in updates an existing user, found by its email, and keeps its id", signInKit(signInFaults{keepOldNames: true})},
	{"signin-records-empty-id", "a sign-in without a token id records none", signInKit(signInFaults{recordEmpty: true})},
	{"signin-writes-on-replay", "a spent token id is refused and the refusal writes nothing", signInKit(signInFaults{writeOnReplay: true})},
	{"signin-extends-on-replay", "a spent token id is refused and the refusal writes nothing", signInKit(signInFaults{extendOnReplay: true})},
	{"signin-never-expires", "an expired token id no longer blocks a sign-in", signInKit(signInFaults{neverExpire: true})},
	{"signin-half-way", "a sign-in failing half-way writes nothing", signInKit(signInFaults{halfWay: true})},
	{"signin-check-then-insert-user", "50 racing sign-ins of one new user make exactly one user", signInKit(signInFaults{checkThenInsertUser: true})},
	{"signin-check-then-set-token", "50 racing sign-ins with one token id: exactly one signs in", signInKit(signInFaults{checkThenSetToken: true})},

	{"admin-drops-expiry", "a created org is found whole, expiries included, through both handles", adminKit(adminFaults{dropExpiry: true}, true)},
	{"admin-per-handle", "a created org is found whole, expiries included, through both handles", adminKit(adminFaults{}, false)},
	{"admin-create-overwrites", "creating a taken id is ErrOrgExists and changes nothing", adminKit(adminFaults{overwrite: true}, true)},
	{"admin-check-then-create", "50 racing creations of one id: exactly one succeeds", adminKit(adminFaults{checkThenCreate: true}, true)},
	{"admin-plain-not-found", "an unknown id is ErrOrgNotFound for FindOrgRecord and UpdateOrg", adminKit(adminFaults{plainNotFound: true}, true)},
	{"admin-update-per-handle", "an update is stored, returned and read through the other handle", adminKit(adminFaults{}, false)},
	{"admin-stores-on-error", "an update whose change fails stores nothing and returns that error", adminKit(adminFaults{storeOnError: true}, true)},
	{"admin-id-change", "an update that changes the id is refused", adminKit(adminFaults{allowIDChange: true}, true)},
	{"admin-no-validate", "an org that fails Validate is refused by CreateOrg and UpdateOrg, which store nothing", adminKit(adminFaults{noValidate: true}, true)},
	{"admin-read-then-write", "50 racing updates through two handles: none is lost", adminKit(adminFaults{readThenWrite: true}, true)},
	{"admin-rotation-lost", "racing rotations leave one current secret and lose none", adminKit(adminFaults{readThenWrite: true}, true)},
	{"admin-no-purge", "expired secrets are purged", adminKit(adminFaults{noPurge: true}, true)},

	{"revoke-org-ignored", "revoking an organization's sessions ends all of its users' and no other org's", revokerKit(faultyRevoker{orgIgnored: true})},
	{"revoke-email-ignores-org", "revoking by email ends that user's sessions in that org only", revokerKit(faultyRevoker{emailIgnoresOrg: true})},
	{"revoke-unknown-is-error", "revoking for an unknown org or email is 0 and no error", revokerKit(faultyRevoker{unknownIsError: true})},

	{"keys-drop-org-ids", "a created key is found whole by its id through both handles", keysKit(faultyKeys{dropOrgIDs: true}, true)},
	{"keys-plain-not-found", "an unknown id is ErrAPIKeyNotFound", keysKit(faultyKeys{plainNotFound: true}, true)},
	{"keys-overwrite", "a taken id is ErrAPIKeyExists and changes nothing", keysKit(faultyKeys{overwrite: true}, true)},
	{"keys-cached", "a revoked key stops being found at once through both handles", keysKit(faultyKeys{}, false)},
}

// adminKit runs the OrgAdmin rules; shared says whether the two handles
// share their organizations, as two handles on one database must.
func adminKit(f adminFaults, shared bool) func(*testing.T) {
	return func(t *testing.T) {
		embedssotest.TestOrgAdmin(t, func(*testing.T) (orgapi.OrgAdmin, orgapi.OrgAdmin) {
			a := newFaultyAdmin(f)
			if shared {
				return a, a
			}
			return a, newFaultyAdmin(f)
		})
	}
}

func revokerKit(f faultyRevoker) func(*testing.T) {
	return func(t *testing.T) {
		embedssotest.TestSessionRevoker(t, func(*testing.T) (cookiesession.Store, embedsso.UserStore) {
			f := f
			f.Store = &memstore.Store{}
			return f, f.Store
		})
	}
}

// keysKit runs the APIKeyStore rules; with fresh false the second handle
// keeps a cache of the keys it found.
func keysKit(f faultyKeys, fresh bool) func(*testing.T) {
	return func(t *testing.T) {
		embedssotest.TestAPIKeyStore(t, func(*testing.T) (orgapi.APIKeyStore, orgapi.APIKeyStore) {
			f := f
			f.Store = &memstore.Store{}
			b := f
			if !fresh {
				b.cache = &sync.Map{}
			}
			return f, b
		})
	}
}

func orgKit(f faultyOrgs) func(*testing.T) {
	return func(t *testing.T) {
		embedssotest.TestOrgStore(t, func(t *testing.T, orgs ...embedsso.Org) embedsso.OrgStore {
			f := f
			f.Store = memstore.New()
			for _, o := range orgs {
				if err := f.Store.PutOrg(context.Background(), o); err != nil {
					t.Fatal(err)
				}
			}
			return f
		})
	}
}

func userKit(f userFaults) func(*testing.T) {
	return func(t *testing.T) {
		embedssotest.TestUserStore(t, func(*testing.T) embedsso.UserStore { return newFaultyUsers(f) })
	}
}

func sessionKit(f faultySessions) func(*testing.T) {
	return func(t *testing.T) {
		embedssotest.TestSessionStore(t, func(*testing.T) (cookiesession.Store, embedsso.UserStore) {
			f := f
			f.Store = &memstore.Store{}
			f.snapshots = &sync.Map{}
			return f, f.Store
		})
	}
}

// replayKit runs the replay rules; shared says whether the two handles share
// their entries, as two handles on one database must.
func replayKit(f replayFaults, shared bool) func(*testing.T) {
	return func(t *testing.T) {
		embedssotest.TestReplayStore(t, func(*testing.T) (embedsso.ReplayStore, embedsso.ReplayStore) {
			a := newFaultyReplay(f)
			if shared {
				return a, a
			}
			return a, newFaultyReplay(f)
		})
	}
}

func signInKit(f signInFaults) func(*testing.T) {
	return func(t *testing.T) {
		embedssotest.TestSignInStore(t, func(*testing.T) (embedssotest.SignInStores, embedssotest.ListUsers) {
			s := newFaultySignIn(f)
			return s, s.list
		})
	}
}

// childEnv tells a child test process to run the faulty stores.
const childEnv = "EMBEDSSOTEST_FAULTY_CHILD"

// The faultless sign-in store passes every rule, so each fault above is
// what makes its rule fail.
func TestFaultlessSignInStorePasses(t *testing.T) {
	signInKit(signInFaults{})(t)
}

// Each rule of the kit fails for the store built to break it. The kit runs
// in a child process, since a failing kit fails the test that runs it: this
// same test, told by childEnv to run the kit against the faulty stores (it
// fails there by design) instead of starting children.
func TestKitCatchesEachFault(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		for _, f := range faults {
			t.Run(f.name, f.run)
		}
		return
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			// Only the rule under test runs: the racing faults would hang
			// the rules that call one at a time.
			rule := strings.ReplaceAll(f.rule, " ", "_") // as t.Run names it
			cmd := exec.Command(os.Args[0], "-test.v", "-test.count=1", "-test.timeout=1m",
				"-test.run=^TestKitCatchesEachFault$/^"+regexp.QuoteMeta(f.name)+"$/^"+regexp.QuoteMeta(rule)+"$")
			cmd.Env = append(os.Environ(), childEnv+"=1")
			out, err := cmd.CombinedOutput()
			assert.Error(t, err, "the kit passed a store built to fail it:\n%s", out)
			assert.Contains(t, string(out), "--- FAIL: TestKitCatchesEachFault/"+f.name+"/"+rule+" ",
				"the rule %q did not fail:\n%s", f.rule, out)
		})
	}
}
