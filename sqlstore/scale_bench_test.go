package sqlstore_test

import (
	"context"
	"fmt"
	"math"
	mathrand "math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// BenchmarkScale times a login and a session lookup, one at a time, in
// databases that already hold 1, 1000 and -scale organizations, users and
// sessions (one user per organization, one session per user), to show how
// their latency grows with the data. The ops:
//
//   - login-new: Store.SignIn (the handler's one-commit sign-in: token id,
//     user upsert, session insert) of a new user of a random organization;
//   - login-existing: the same for a random existing user;
//   - find-session: FindSession of a random stored session;
//   - find-org: FindOrg of a random organization, which the handler reads
//     before it signs in.
//
// Each iteration makes the op once at every size, the sizes in turn, so that
// the machine's other work weighs on every size alike: the ratios are what
// to read on a shared machine. ns/op is one such round; each size gets its
// own p50 and p99 (p50-us@N, p99-us@N), and the largest size's against the
// size 1's (p50-ratio@N, p99-ratio@N). On PostgreSQL each size then also
// gets the write-ahead log that 200 more calls write right after a
// CHECKPOINT (wal-B/op@N, untimed): at a million rows it shows the full
// pages a login's scattered index entries log.
//
// The fill is one INSERT … SELECT per table, then VACUUM ANALYZE, a
// CHECKPOINT and pg_prewarm of every table and index (ANALYZE on SQLite);
// each database is filled once per process (-count measures it again), and
// ANALYZEd again before each measurement. A login adds its rows, so that by
// the end the database of size 1 holds thousands, all in memory: small, as
// it stands for.
//
// The default -scale of 1000 keeps `go test -bench .` quick. A million
// (a few minutes of filling per database; PostgreSQL's grows to about 1 GB
// on disk, past its default 128 MB shared_buffers):
//
//	go test -run '^$' -bench Scale -benchtime 1000x -count 6 -timeout 3h ./sqlstore/ -scale 1000000 | tee scale.txt
//	benchstat scale.txt
//
// (-bench 'Scale/store=postgres-durable$/' measures one storage.)
func BenchmarkScale(b *testing.B) {
	sizes := scaleSizes(*scaleFlag)
	for _, storage := range scaleStorages {
		b.Run("store="+storage, func(b *testing.B) {
			for _, op := range scaleOps {
				b.Run("op="+op.name, func(b *testing.B) {
					dbs := make([]*scaleDB, len(sizes))
					for i, n := range sizes {
						dbs[i] = cachedScaleDB(b, storage, n)
					}
					benchScaleOp(b, dbs, op)
				})
			}
		})
	}
}

// benchScaleOp makes op b.N times at each size in dbs and reports
// scaleMetrics.
func benchScaleOp(b *testing.B, dbs []*scaleDB, op scaleOp) {
	r := mathrand.New(mathrand.NewPCG(uint64(time.Now().UnixNano()), uint64(b.N)))
	calls := make([][]func(context.Context) error, len(dbs))
	sizes := make([]int, len(dbs))
	for i, s := range dbs {
		if err := s.refresh(context.Background()); err != nil {
			b.Fatal(err)
		}
		calls[i], sizes[i] = op.prepare(s, b.N, r), s.n
	}
	b.ResetTimer()
	lat, err := timeRounds(context.Background(), calls)
	b.StopTimer()
	if err != nil {
		b.Fatal(fmt.Errorf("%s: %w", op.name, err))
	}
	for unit, v := range scaleMetrics(sizes, lat) {
		b.ReportMetric(v, unit)
	}
	for _, s := range dbs {
		if s.sql.walPosition == "" {
			continue
		}
		wal, err := walPerCall(context.Background(), s, op, r, walCalls)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(wal, "wal-B/op@"+strconv.Itoa(s.n))
	}
}

// walCalls is how many calls walPerCall makes.
const walCalls = 200

// walPerCall returns the bytes of write-ahead log that k calls of op at s
// write on average, right after a checkpoint: the first change of a page
// after a checkpoint writes the whole page (8 kB) to the log, so the bytes
// tell how many pages a call touches that the calls before it had not. The
// server's own work (autovacuum, say) counts too; the benchmark's servers
// have little else to do.
func walPerCall(ctx context.Context, s *scaleDB, op scaleOp, r *mathrand.Rand, k int) (float64, error) {
	calls := op.prepare(s, k, r)
	if _, err := s.write.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return 0, err
	}
	var before, after int64
	if err := s.write.QueryRowContext(ctx, s.sql.walPosition).Scan(&before); err != nil {
		return 0, err
	}
	if _, err := timeRounds(ctx, [][]func(context.Context) error{calls}); err != nil {
		return 0, err
	}
	if err := s.write.QueryRowContext(ctx, s.sql.walPosition).Scan(&after); err != nil {
		return 0, err
	}
	return float64(after-before) / float64(k), nil
}

// timeRounds makes the calls of every size (calls[i], all of one length)
// in rounds: round j makes call j of each size, starting from another size
// each round, so that no size is always first after the previous round's
// last. It returns each call's time, by size.
func timeRounds(ctx context.Context, calls [][]func(context.Context) error) ([][]time.Duration, error) {
	lat := make([][]time.Duration, len(calls))
	for i := range calls {
		lat[i] = make([]time.Duration, len(calls[i]))
	}
	for j := range len(calls[0]) {
		for k := range calls {
			i := (j + k) % len(calls)
			start := time.Now()
			if err := calls[i][j](ctx); err != nil {
				return nil, fmt.Errorf("size #%d, call %d: %w", i, j, err)
			}
			lat[i][j] = time.Since(start)
		}
	}
	return lat, nil
}

// scaleMetrics are BenchmarkScale's metrics for the times lat[i] of
// sizes[i] (sizes ascending): each size's p50 and p99 in microseconds, and
// the largest size's p50 and p99 over the smallest's.
func scaleMetrics(sizes []int, lat [][]time.Duration) map[string]float64 {
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	m := map[string]float64{}
	p50s, p99s := make([]time.Duration, len(sizes)), make([]time.Duration, len(sizes))
	for i, n := range sizes {
		p50s[i], p99s[i] = latencies(lat[i])
		m["p50-us@"+strconv.Itoa(n)], m["p99-us@"+strconv.Itoa(n)] = us(p50s[i]), us(p99s[i])
	}
	if last := len(sizes) - 1; last > 0 && p50s[0] > 0 && p99s[0] > 0 {
		m["p50-ratio@"+strconv.Itoa(sizes[last])] = float64(p50s[last]) / float64(p50s[0])
		m["p99-ratio@"+strconv.Itoa(sizes[last])] = float64(p99s[last]) / float64(p99s[0])
	}
	return m
}

// quantile is the nearest-rank q-quantile of sorted: the smallest value
// that at least a fraction q of the values do not exceed.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// latencies sorts lat and returns its p50 and p99.
func latencies(lat []time.Duration) (p50, p99 time.Duration) {
	slices.Sort(lat)
	return quantile(lat, 0.50), quantile(lat, 0.99)
}
