package main

// The hot board: a live match's last minutes, when every client submits to one board at
// once. Many clients submit single scores in a loop for a while, through the
// AWS-behaviour layer (pkg/dynamofault: AWS-like latency, transaction conflicts,
// per-partition-key budgets, lost responses) and without it, beside one client doing the
// same, and the bench prints throughput, latency, errors, units and the partition key
// that came nearest its budget; then it checks the board against what was submitted.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/leaderboardapi/leaderboard/pkg/dynamofault"
	"github.com/leaderboardapi/leaderboard/pkg/localenv"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

type hotConfig struct {
	teams    int
	clients  int
	duration time.Duration
	seed     uint64
	template string
}

type hotRun struct {
	label      string
	layer      bool
	clients    int
	took       time.Duration
	accepted   int
	latencies  []time.Duration
	errs       map[string]int
	visible    []time.Duration // from a submit's answer to a read that shows it
	stats      dynamofault.Stats
	exact      bool
	exactNote  string
	unitsWrite float64
	unitsRead  float64
}

// runHot runs one hot-board scenario on a table of its own.
func runHot(ctx context.Context, cfg hotConfig, plain *dynamodb.Client, withLayer bool, clients int) (hotRun, error) {
	table := fmt.Sprintf("hot-%d-%d", clients, time.Now().UnixNano())
	if err := localenv.EnsureTable(ctx, plain, cfg.template, table); err != nil {
		return hotRun{}, err
	}
	defer plain.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &table})

	// Every team starts at 0: the scores stay crowded in one band.
	scores := make([]store.ImportedScore, cfg.teams)
	for i := range scores {
		scores[i] = store.ImportedScore{TeamName: fmt.Sprintf("Team %05d", i)}
	}
	settings := store.Settings{SortOrder: store.SortDescending, ScoreOperator: store.OperatorIncrement, RankMode: store.RankOrdinal}
	lb, teams, err := store.New(plain, table, time.Now).ImportBoard(ctx, tenant, "hot", settings, scores)
	if err != nil {
		return hotRun{}, err
	}

	// The layer with AWS's defaults, or, for reference, one that only meters units.
	opts := dynamofault.Options{Seed: cfg.seed, WriteUnitsPerSecond: 1e9, ReadUnitsPerSecond: 1e9}
	label := "DynamoDB Local alone"
	if withLayer {
		opts, label = dynamofault.Defaults(cfg.seed), "through the AWS layer"
	}
	layer := dynamofault.Wrap(plain, opts)
	client := layer.Client()

	// One team in ten takes "best" submits, the rest increments: each team's final score
	// then does not depend on the order its submits were applied in.
	best := func(team int) bool { return team%10 == 0 }
	var mu sync.Mutex
	run := hotRun{label: label, layer: withLayer, clients: clients, errs: map[string]int{}}
	want := make([]int64, len(teams))
	start := time.Now()
	deadline := start.Add(cfg.duration)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			s := store.New(client, table, time.Now) // one Lambda instance per client
			rng := rand.New(rand.NewPCG(cfg.seed, uint64(c)))
			for i := 0; time.Now().Before(deadline); i++ {
				t := rng.IntN(len(teams))
				sub := store.Submission{TeamID: teams[t], Score: int64(1 + rng.IntN(10))}
				if best(t) {
					sub.Operator, sub.Score = store.OperatorBest, int64(rng.IntN(1000))
				}
				began := time.Now()
				_, err := s.SubmitScores(ctx, tenant, lb.ID, []store.Submission{sub}, fmt.Sprintf("hot-%d-%d", c, i))
				took := time.Since(began)
				var seen time.Duration
				if err == nil && i%20 == 0 {
					seen = visibleAfter(ctx, s, lb.ID, teams[t])
				}
				mu.Lock()
				if err != nil {
					run.errs[status(err)]++
				} else {
					run.accepted++
					run.latencies = append(run.latencies, took)
					if best(t) {
						want[t] = max(want[t], sub.Score)
					} else {
						want[t] += sub.Score
					}
					if seen > 0 {
						run.visible = append(run.visible, seen)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	run.took = time.Since(start)
	run.stats = layer.Stats()
	for _, u := range run.stats.Partitions {
		run.unitsWrite += u.WriteUnits
		run.unitsRead += u.ReadUnits
	}
	run.exact, run.exactNote = verifyHot(ctx, store.New(plain, table, time.Now), lb.ID, teams, want)
	return run, nil
}

// visibleAfter is how long after its answer a submit shows in the team's rank and in a
// page of the rankings: one read of each, since a submit answers once committed.
func visibleAfter(ctx context.Context, s *store.Store, board, team string) time.Duration {
	start := time.Now()
	if _, _, err := s.TeamRank(ctx, tenant, board, team, 0); err != nil {
		return 0
	}
	if _, _, err := s.Rankings(ctx, tenant, board, 25, ""); err != nil {
		return 0
	}
	return time.Since(start)
}

// status is the HTTP status the API answers for a store error.
func status(err error) string {
	switch {
	case errors.Is(err, store.ErrThrottled) || store.Throttled(err):
		return "429"
	case errors.Is(err, store.ErrBusy), errors.Is(err, store.ErrOutcomeUnknown):
		return "503"
	}
	return "500"
}

// verifyHot compares the quiet board with the model: every team's score, rank order,
// and each team's own rank with the rankings'.
func verifyHot(ctx context.Context, s *store.Store, board string, teams []string, want []int64) (bool, string) {
	index := map[string]int{}
	for i, t := range teams {
		index[t] = i
	}
	var all []store.Ranked
	for after := ""; ; {
		page, next, err := s.Rankings(ctx, tenant, board, 100, after)
		if err != nil {
			return false, err.Error()
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		after = next
	}
	if len(all) != len(teams) {
		return false, fmt.Sprintf("%d ranked, want %d", len(all), len(teams))
	}
	for i, r := range all {
		if r.Rank != int64(i+1) || (i > 0 && r.Score > all[i-1].Score) {
			return false, fmt.Sprintf("entry %d: rank %d score %d after %d", i, r.Rank, r.Score, all[max(i-1, 0)].Score)
		}
		if w := want[index[r.TeamID]]; r.Score != w {
			return false, fmt.Sprintf("team %s scored %d, its submits add up to %d", r.TeamID, r.Score, w)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		r := all[rng.IntN(len(all))]
		own, _, err := s.TeamRank(ctx, tenant, board, r.TeamID, 0)
		if err != nil || own.Rank != r.Rank {
			return false, fmt.Sprintf("rank of %s is %d, the rankings say %d (%v)", r.TeamID, own.Rank, r.Rank, err)
		}
	}
	return true, fmt.Sprintf("all %d teams, each submit applied once", len(all))
}

func quantile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// printHot prints the hot-board table and its targets.
func printHot(w io.Writer, cfg hotConfig, runs []hotRun) {
	fmt.Fprintf(w, "hot board: %s teams, scores crowded from 0 (increments of 1-10, one team in ten \"best\"), each client one submit at a time for %s\n",
		thousands(cfg.teams), cfg.duration)
	fmt.Fprintf(w, "%-24s %7s %9s %7s %8s %8s %9s %9s %8s  %s\n", "", "clients", "submits/s", "ratio", "p50 ms", "p99 ms", "WCU/sub", "RCU/sub", "seen p99", "errors")
	base := map[bool]float64{}
	for _, r := range runs {
		rate := float64(r.accepted) / r.took.Seconds()
		if r.clients == 1 {
			base[r.layer] = rate
		}
		ratio := rate / base[r.layer]
		errs := "none"
		if len(r.errs) > 0 {
			errs = fmt.Sprint(r.errs)
		}
		fmt.Fprintf(w, "%-24s %7d %9.0f %6.1fx %8s %8s %9.1f %9.1f %8s  %s\n", r.label, r.clients, rate, ratio,
			ms(quantile(r.latencies, 0.5)), ms(quantile(r.latencies, 0.99)),
			r.unitsWrite/float64(max(r.accepted, 1)), r.unitsRead/float64(max(r.accepted, 1)), ms(quantile(r.visible, 0.99)), errs)
	}
	fmt.Fprintln(w)
	for _, r := range runs {
		p, u, ok := r.stats.Hottest()
		if ok && r.layer {
			fmt.Fprintf(w, "%s, %d clients: hottest partition key %s: peak %.0f WCU/s and %.0f RCU/s (budget 1,000 and 3,000), %d throttled; faults %v\n",
				r.label, r.clients, p.Key, u.PeakWriteUnits, u.PeakReadUnits, u.Throttled, r.stats.Faults)
			fmt.Fprintf(w, "  DynamoDB calls per accepted submit: %s\n", perSubmit(r.stats.Calls, r.accepted))
		}
	}
	fmt.Fprintln(w, "\nhot-board targets (through the AWS layer):")
	var one, many *hotRun
	for i := range runs {
		if runs[i].layer && runs[i].clients == 1 {
			one = &runs[i]
		}
		if runs[i].layer && runs[i].clients > 1 {
			many = &runs[i]
		}
	}
	if one == nil || many == nil {
		return
	}
	ratio := (float64(many.accepted) / many.took.Seconds()) / (float64(one.accepted) / one.took.Seconds())
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	p99 := quantile(many.latencies, 0.99)
	fmt.Fprintf(w, "  throughput, %d clients / 1: %.1fx (at least 8x): %s\n", many.clients, ratio, verdict(ratio >= 8))
	fmt.Fprintf(w, "  p99 submit latency: %s ms (at most 500): %s\n", ms(p99), verdict(p99 <= 500*time.Millisecond))
	fmt.Fprintf(w, "  errors: %v (none): %s\n", many.errs, verdict(len(many.errs) == 0))
	fmt.Fprintf(w, "  rankings against the model once quiet: %s: %s\n", many.exactNote, verdict(many.exact && one.exact))
	seen := quantile(many.visible, 0.99)
	fmt.Fprintf(w, "  a submit shows in rankings and rank, p99 after its answer: %s ms (within 1 s): %s\n", ms(seen), verdict(seen <= time.Second))
}

// perSubmit formats calls by operation per accepted submit, most first.
func perSubmit(calls map[string]int64, accepted int) string {
	ops := slices.Collect(maps.Keys(calls))
	slices.SortFunc(ops, func(a, b string) int { return cmp.Compare(calls[b], calls[a]) })
	var parts []string
	for _, op := range ops {
		parts = append(parts, fmt.Sprintf("%s %.2f", op, float64(calls[op])/float64(max(accepted, 1))))
	}
	return strings.Join(parts, ", ")
}
