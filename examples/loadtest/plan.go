package main

import "fmt"

// step is one measurement: one server on one storage, in one round.
type step struct {
	round    int // from 0
	storage  string
	baseline bool // the -baseline server rather than this one
}

// plan is the order of the measurements: round after round, each round
// every storage in -storages order, and where a storage has a baseline, the
// baseline and this server right after each other. Which of the two goes
// first alternates from round to round (the baseline in the first), so that
// whatever drifts during a run (the machine's other jobs, caches, the
// temperature) falls on both alike, and a pair shares its moment: the ratio
// of a round's pair is the figure to trust, more than either throughput.
// Rounds go around the storages rather than repeating one storage N times,
// so that a slow spell of the machine lands in one round of several
// storages, not in every round of one.
func plan(o options) []step {
	var steps []step
	for r := range o.rounds {
		for _, s := range o.storages {
			if !o.hasBaseline(s) {
				steps = append(steps, step{round: r, storage: s})
				continue
			}
			first := r%2 == 0
			steps = append(steps, step{round: r, storage: s, baseline: first}, step{round: r, storage: s, baseline: !first})
		}
	}
	return steps
}

// server is the binary the step runs: "floor", "this" or "baseline".
func (s step) server() string {
	switch {
	case isFloor(s.storage):
		return "floor"
	case s.baseline:
		return "baseline"
	default:
		return "this"
	}
}

// name is the step's row in the table: the storage, and for the baseline's
// measurements ", baseline".
func (s step) name() string {
	return rowName(s.storage, s.baseline)
}

func rowName(storage string, baseline bool) string {
	if baseline {
		return storage + ", baseline"
	}
	return storage
}

// roundNote is " (round 2 of 3)" when there are several rounds.
func (s step) roundNote(o options) string {
	if o.rounds <= 1 {
		return ""
	}
	return fmt.Sprintf(" (round %d of %d)", s.round+1, o.rounds)
}
