package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// sample is one measured call: its latency, less the time the meter spent on its own
// look-ups, and the units it consumed.
type sample struct {
	latency    time.Duration
	read       float64 // as DynamoDB Local reported
	localWrite float64 // as DynamoDB Local reported
	write      float64 // DynamoDB's price, computed by the meter
	checkRead  float64 // computed from item sizes, check runs only
	countDiff  bool
}

// call runs op once under its own reqlog entry and meter, so the capacity it reports is
// that of this call alone.
func call(ctx context.Context, check bool, op func(context.Context) error) (sample, error) {
	ctx, entry := reqlog.Start(ctx)
	m := &meter{check: check}
	ctx = withMeter(ctx, m)
	start := time.Now()
	err := op(ctx)
	elapsed := time.Since(start)
	if err != nil {
		return sample{}, err
	}
	read, localWrite := entry.Capacity()
	write, checkRead, overhead, countDiff := m.totals()
	return sample{
		latency: elapsed - overhead, read: read, localWrite: localWrite, write: write,
		checkRead: checkRead, countDiff: countDiff,
	}, nil
}

// result sums up the samples of one operation at one board size.
type result struct {
	n          int // board size
	name       string
	note       string
	runs       int
	p50, p99   time.Duration
	read       float64 // medians
	write      float64
	localWrite float64
	maxWrite   float64
}

func summarize(n int, name, note string, samples []sample) result {
	lat := make([]time.Duration, len(samples))
	var read, write, localWrite []float64
	for i, s := range samples {
		lat[i] = s.latency
		read = append(read, s.read)
		write = append(write, s.write)
		localWrite = append(localWrite, s.localWrite)
	}
	slices.Sort(lat)
	return result{
		n: n, name: name, note: note, runs: len(samples),
		p50: percentile(lat, 0.50), p99: percentile(lat, 0.99),
		read: median(read), write: median(write), localWrite: median(localWrite),
		maxWrite: slices.Max(write),
	}
}

// percentile is the nearest-rank percentile of sorted values: one that was observed.
func percentile[T any](sorted []T, p float64) T {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return percentile(s, 0.5)
}

// operation is one measured call of the benchmark, with how often to run it.
type operation struct {
	name string
	note string // shown after the name in the table
	runs int
	do   func(context.Context) error
}

// measureAll runs each operation warm-up times unmeasured, then its runs measured, in
// turn (one call of each operation per round), so that the machine's noise spreads
// over all of them alike.
func measureAll(ctx context.Context, ops []operation) ([][]sample, error) {
	samples := make([][]sample, len(ops))
	rounds := 0
	for _, op := range ops {
		rounds = max(rounds, warmups(op.runs)+op.runs)
	}
	for round := range rounds {
		for i, op := range ops {
			w := warmups(op.runs)
			if round >= w+op.runs {
				continue
			}
			s, err := call(ctx, false, op.do)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op.name, err)
			}
			if round >= w {
				samples[i] = append(samples[i], s)
			}
		}
	}
	return samples, nil
}

// warmups is how many unmeasured calls precede the measured ones: a tenth, at least 1,
// so that each size's first calls (caches, connections) are not measured.
func warmups(runs int) int { return max(1, runs/10) }
