package main

import "github.com/embedsso/embedsso"

// stores are the example's storage.
type stores struct {
	orgs     embedsso.OrgStore
	users    embedsso.UserStore
	sessions embedsso.SessionStore
	replay   embedsso.ReplayStore
}

// openStores keeps everything in memory: one instance, nothing survives a restart.
func openStores(orgs []embedsso.Org) stores {
	return stores{
		orgs:     embedsso.NewMemoryOrgStore(orgs...),
		users:    &embedsso.MemoryUserStore{},
		sessions: &embedsso.MemorySessionStore{},
		replay:   &embedsso.MemoryReplayStore{},
	}
}
