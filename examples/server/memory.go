package main

import (
	"context"
	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/memstore"
)

// memoryDB is the -db value that keeps everything in this process's memory.
const memoryDB = "memory"

// memoryStores are the library's memory store, one value that is every
// store: nothing survives a restart and nothing is shared with another
// instance, so it suits a demo or a load test, not a deployment.
func memoryStores(orgs []embedsso.Org) (stores, error) {
	s := memstore.New()
	for _, o := range orgs {
		if err := s.PutOrg(context.Background(), o); err != nil {
			return stores{}, err
		}
	}
	return stores{
		orgs: s, users: s, sessions: s, replay: s, purger: s,
		admin: s, keys: s, revoker: s,
		describe: "memory (lost when the server stops)", close: func() error { return nil },
	}, nil
}
