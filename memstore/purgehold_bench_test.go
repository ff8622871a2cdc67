//go:build linux

package memstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/internal/expiry"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// BenchmarkPurgeLockHold measures what a purge of a million expired
// sessions can make a login or a lookup wait for: the time PurgeExpired
// holds one shard's lock. A call waits for the purge only while the purge
// holds the lock of the call's own shard, for one chunk. Each hold is timed
// from just after the lock is taken to just after it is released (the
// chunkLocked and afterChunk hooks), in wall-clock time and in the CPU time
// of the purging thread (CLOCK_THREAD_CPUTIME_ID, hence Linux only). The
// wall-clock figure includes whatever the machine's other jobs did to the
// thread meanwhile. The CPU figure leaves those out, but not everything: on
// a virtual machine whose host does not report steal time (/proc/stat's
// steal column stays 0), a stall of the virtual CPU, or of a memory access
// the host must serve, is charged to the thread as its own CPU time.
//
// Hence the control: after each chunk, with no lock held, the same thread
// makes as many reads from random places in a 256 MiB block as the chunk
// made map lookups and deletes, timed the same way ("control-" metrics).
// Stalls the control shows too are the machine's, not the store's.
//
// It reports the median, the 99.9th percentile and the longest hold of each,
// and how many holds lasted past 5 ms of wall-clock time, over every chunk of
// every iteration:
//
//	go test -run '^$' -bench PurgeLockHold -benchtime 2x -count 6
func BenchmarkPurgeLockHold(b *testing.B) {
	const expired = 1_000_000
	keys := make([]string, expired)
	for i := range keys {
		sum := sha256.Sum256(strconv.AppendInt(nil, int64(i), 10))
		keys[i] = hex.EncodeToString(sum[:])
	}
	user := embedsso.User{ID: "usr_0123456789abcdef01234567", OrgID: "org_abc123", Email: "jane@example.com", FirstName: "Jane", LastName: "Doe", Role: "MEMBER"}
	ctx := context.Background()
	var holds, cpus, controlHolds, controlCPUs []time.Duration
	// The thread's CPU clock is the purge's only while the purge keeps to
	// one thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for range b.N {
		b.StopTimer()
		s := &sessionStore{}
		for _, k := range keys {
			if err := s.CreateSession(ctx, embedsso.Session{IDHash: k, User: user, CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}); err != nil {
				b.Fatal(err)
			}
		}
		var locked time.Time
		var lockedCPU time.Duration
		s.sessions.ChunkLocked = func(int) { locked, lockedCPU = time.Now(), threadCPUTime(b) }
		s.sessions.AfterChunk = func(int) {
			holds, cpus = append(holds, time.Since(locked)), append(cpus, threadCPUTime(b)-lockedCPU)
			// The control, right after each chunk and timed the same way.
			start, startCPU := time.Now(), threadCPUTime(b)
			controlWork()
			controlHolds = append(controlHolds, time.Since(start))
			controlCPUs = append(controlCPUs, threadCPUTime(b)-startCPU)
		}
		b.StartTimer()
		n, err := s.PurgeExpired(ctx, t0.Add(time.Hour))
		if err != nil || n != expired {
			b.Fatalf("purged %d of %d: %v", n, expired, err)
		}
	}
	b.StopTimer()
	reportHolds(b, "", holds, cpus)
	reportHolds(b, "control-", controlHolds, controlCPUs)
	b.ReportMetric(float64(len(holds))/float64(b.N), "chunks/op")
}

// controlWork is the control's fixed work: as many reads as a chunk makes
// map lookups and deletes, each from a random place in a block as large as
// the store's maps, with no lock.
func controlWork() {
	if controlBlock == nil {
		controlBlock = make([]uint64, 256<<20/8)
		for i := range controlBlock {
			controlBlock[i] = uint64(i)
		}
	}
	for range 2 * expiry.PurgeChunk {
		controlState = controlState*6364136223846793005 + 1442695040888963407
		controlSum += controlBlock[(controlState>>24)%uint64(len(controlBlock))]
	}
}

var (
	controlBlock             []uint64
	controlState, controlSum uint64
)

// reportHolds reports the median, the 99.9th percentile and the longest of
// wall-clock and CPU times, and how many wall-clock times passed 5 ms.
func reportHolds(b *testing.B, prefix string, holds, cpus []time.Duration) {
	slices.Sort(holds)
	slices.Sort(cpus)
	over := len(holds) - slices.IndexFunc(holds, func(d time.Duration) bool { return d > 5*time.Millisecond })
	if over == len(holds)+1 {
		over = 0
	}
	b.ReportMetric(float64(holds[len(holds)/2].Microseconds()), prefix+"hold-p50-µs")
	b.ReportMetric(float64(holds[len(holds)*999/1000].Microseconds()), prefix+"hold-p99.9-µs")
	b.ReportMetric(float64(holds[len(holds)-1].Microseconds()), prefix+"hold-max-µs")
	b.ReportMetric(float64(over), prefix+"holds>5ms")
	b.ReportMetric(float64(cpus[len(cpus)/2].Microseconds()), prefix+"cpu-p50-µs")
	b.ReportMetric(float64(cpus[len(cpus)*999/1000].Microseconds()), prefix+"cpu-p99.9-µs")
	b.ReportMetric(float64(cpus[len(cpus)-1].Microseconds()), prefix+"cpu-max-µs")
}

// threadCPUTime is the CPU time the calling thread has used.
func threadCPUTime(b *testing.B) time.Duration {
	const clockThreadCPUTimeID = 3 // <time.h> CLOCK_THREAD_CPUTIME_ID
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		b.Fatal("clock_gettime(CLOCK_THREAD_CPUTIME_ID):", errno)
	}
	return time.Duration(ts.Nano())
}
