package main

import (
	"context"
	"time"

	"github.com/embedsso/embedsso"
)

// memoryDB is the -db value that keeps everything in this process's memory.
const memoryDB = "memory"

// memoryStores are the library's in-memory stores: nothing survives a
// restart and nothing is shared with another instance, so they suit a demo
// or a load test, not a deployment.
func memoryStores(orgs []embedsso.Org) (stores, error) {
	held, err := embedsso.NewMemoryOrgStore(orgs...)
	if err != nil {
		return stores{}, err
	}
	users := &embedsso.MemoryUserStore{}
	sessions, replay := &embedsso.MemorySessionStore{Users: users}, &embedsso.MemoryReplayStore{}
	return stores{
		orgs: held, users: users,
		sessions: sessions, replay: replay, purger: purgers{sessions, replay, held},
		admin: held, keys: &embedsso.MemoryAPIKeyStore{}, revoker: sessions,
		describe: "memory (lost when the server stops)", close: func() error { return nil },
	}, nil
}

// purgers purges each of several stores in turn.
type purgers []embedsso.Purger

func (ps purgers) PurgeExpired(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for _, p := range ps {
		n, err := p.PurgeExpired(ctx, now)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
