package store_test

// Tests through the AWS-behaviour layer (package dynamofault): latency, transaction
// conflicts, transactions that readers see item by item, stale eventually consistent
// reads, lost responses, internal errors and per-partition throttling. make test runs
// them with fixed seeds; make stress runs them over many (STRESS_SEEDS).

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/leaderboardapi/leaderboard/internal/testdb"
	"github.com/leaderboardapi/leaderboard/pkg/dynamofault"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// layerOptions are the layer's AWS-like defaults, ten times faster, and with faults
// frequent enough that a short test meets every kind.
func layerOptions(seed uint64) dynamofault.Options {
	o := dynamofault.Defaults(seed)
	o.LatencyScale = 0.1
	o.InternalError = 0.01
	for op := range o.LostResponse {
		o.LostResponse[op] = 0.02
	}
	o.StaleRead = 0.3
	// Transactions stay in flight long beside reads, so that readers often meet one
	// half visible.
	o.Latency.Transact = dynamofault.Delay{Mean: 60 * time.Millisecond, Jitter: 20 * time.Millisecond}
	return o
}

// layered returns a fresh table and a client to it through the layer.
func layered(t testing.TB, opts dynamofault.Options) (*dynamodb.Client, string, *dynamofault.Layer) {
	t.Helper()
	client, table := testdb.Table(t)
	l := dynamofault.Wrap(client, opts)
	return l.Client(), table, l
}

func TestRankingPropertyThroughTheLayer(t *testing.T) {
	seed := propertySeed(t)
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, settings := range []store.Settings{
		{SortOrder: "desc", ScoreOperator: "increment", RankMode: "competition"},
		{SortOrder: "asc", ScoreOperator: "best", RankMode: "ordinal", MinScore: ptr(int64(-20)), MaxScore: ptr(int64(20))},
	} {
		t.Run(settings.SortOrder+"-"+settings.ScoreOperator, func(t *testing.T) {
			client, table, l := layered(t, layerOptions(seed))
			runProperty(t, client, table, rng, settings, 100)
			t.Log(l.Stats())
		})
	}
}

// concurrentRun is many clients submitting to one board at once, each request with an
// Idempotency-Key and repeated on 503 and 429 as a careful client does, while the
// layer conflicts, throttles, loses responses and shows transactions item by item.
type concurrentRun struct {
	clients, requests int
	seed              uint64
	opts              dynamofault.Options
}

type runResult struct {
	requests int
	stats    dynamofault.Stats
}

func (r concurrentRun) run(t *testing.T) runResult {
	client, table, l := layered(t, r.opts)
	s := store.New(client, table, time.Now)
	s.SetTreeShape(4, 4)
	ctx := context.Background()
	board, teams := scoredBoard(t, s, store.Settings{SortOrder: "desc", ScoreOperator: "increment", RankMode: "ordinal"}, 24)

	var mu sync.Mutex
	want := map[string]int64{} // team -> the sum of its increments
	var wg sync.WaitGroup
	errs := make(chan error, r.clients)
	for c := range r.clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(r.seed, uint64(c)))
			for i := range r.requests {
				var subs []store.Submission
				for range 1 + rng.IntN(3) {
					subs = append(subs, store.Submission{TeamID: teams[rng.IntN(len(teams))], Score: int64(1 + rng.IntN(10))})
				}
				key := fmt.Sprintf("c%d-r%d", c, i)
				if err := submitUntilDone(ctx, s, board, subs, key); err != nil {
					errs <- fmt.Errorf("client %d request %d: %w", c, i, err)
					return
				}
				mu.Lock()
				for _, sub := range subs {
					want[sub.TeamID] += sub.Score
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkBoard(t, s, board, want)
	return runResult{requests: r.clients * r.requests, stats: l.Stats()}
}

// submitUntilDone sends a request until it is answered, repeating it with the same
// Idempotency-Key when the store says it may try again.
func submitUntilDone(ctx context.Context, s *store.Store, board string, subs []store.Submission, key string) error {
	for try := 0; ; try++ {
		_, err := s.SubmitScores(ctx, "tenant-s", board, subs, key)
		if err == nil {
			return nil
		}
		if try == 50 || !(errors.Is(err, store.ErrBusy) || errors.Is(err, store.ErrThrottled) || errors.Is(err, store.ErrOutcomeUnknown) || store.Throttled(err)) {
			return err
		}
		time.Sleep(time.Duration(5+rand.IntN(20)) * time.Millisecond)
	}
}

// checkBoard holds a quiet board to what its clients did: every team's score is the sum
// of its increments, each applied exactly once; the rankings list every scored team
// once, in score order, with ranks 1 to n; every team's own rank agrees; and CheckBoard
// finds the tree, members and entries whole.
func checkBoard(t *testing.T, s *store.Store, board string, want map[string]int64) {
	t.Helper()
	ctx := context.Background()
	if err := s.CheckTreeForTest(ctx, "tenant-s", board); err != nil {
		t.Fatal(err)
	}
	var all []store.Ranked
	for after := ""; ; {
		page, next, err := s.Rankings(ctx, "tenant-s", board, 7, after)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		after = next
	}
	seen := map[string]bool{}
	for i, r := range all {
		if seen[r.TeamID] {
			t.Fatalf("team %s listed twice", r.TeamID)
		}
		seen[r.TeamID] = true
		if r.Rank != int64(i+1) || (i > 0 && r.Score > all[i-1].Score) {
			t.Fatalf("entry %d is %+v after %+v", i, r, all[max(i-1, 0)])
		}
		if r.Score != want[r.TeamID] {
			t.Fatalf("team %s scored %d, its increments add up to %d", r.TeamID, r.Score, want[r.TeamID])
		}
		own, _, err := s.TeamRank(ctx, "tenant-s", board, r.TeamID, 0)
		if err != nil || own.Rank != r.Rank || own.Score != r.Score {
			t.Fatalf("rank of %s = %+v, %v; the rankings say %+v", r.TeamID, own, err, r)
		}
	}
	for team := range want {
		if !seen[team] {
			t.Fatalf("team %s scored %d but is not in the rankings", team, want[team])
		}
	}
}

func TestConcurrentSubmitsThroughTheLayer(t *testing.T) {
	res := concurrentRun{clients: 16, requests: 6, seed: 11, opts: layerOptions(11)}.run(t)
	t.Log(res.stats)
}

// Two different requests race with one Idempotency-Key, each sent several times at once
// through lost responses: exactly one of them is applied, once; the other is refused
// every time and never applied.
func TestConcurrentIdempotencyKeyRacesThroughTheLayer(t *testing.T) {
	opts := layerOptions(5)
	opts.LostResponse["TransactWriteItems"] = 0.2
	client, table, _ := layered(t, opts)
	s := store.New(client, table, time.Now)
	ctx := context.Background()
	board, teams := scoredBoard(t, s, store.Settings{SortOrder: "desc", ScoreOperator: "increment", RankMode: "ordinal"}, 8)
	want := map[string]int64{}
	for k := range 6 {
		a := []store.Submission{{TeamID: teams[k], Score: 1}}
		b := []store.Submission{{TeamID: teams[k+1], Score: 100}, {TeamID: teams[k], Score: 10}}
		key := "key-" + strconv.Itoa(k)
		var wg sync.WaitGroup
		var appliedA, appliedB, refused atomic.Int64
		for i := range 6 {
			subs := a
			if i%2 == 1 {
				subs = b
			}
			wg.Go(func() {
				err := submitUntilDone(ctx, s, board, subs, key)
				switch {
				case err == nil && i%2 == 0:
					appliedA.Add(1)
				case err == nil:
					appliedB.Add(1)
				case errors.Is(err, store.ErrIdempotencyKeyReused):
					refused.Add(1)
				default:
					t.Errorf("key %s: %v", key, err)
				}
			})
		}
		wg.Wait()
		switch {
		case appliedA.Load() == 3 && appliedB.Load() == 0 && refused.Load() == 3:
			want[teams[k]] += 1
		case appliedB.Load() == 3 && appliedA.Load() == 0 && refused.Load() == 3:
			want[teams[k+1]] += 100
			want[teams[k]] += 10
		default:
			t.Fatalf("key %s: A answered %d times, B %d, refused %d; want one request answered 3 times and the other refused 3",
				key, appliedA.Load(), appliedB.Load(), refused.Load())
		}
	}
	for team, w := range maps.Clone(want) {
		if w == 0 {
			delete(want, team)
		}
	}
	checkBoard(t, s, board, want)
}

// TestStress runs the property and concurrency tests through the layer over many seeds:
// STRESS_SEEDS=200 go test ./pkg/store -run TestStress -v (make stress). It prints the
// seeds run, the operations applied, the faults injected by kind, and each failing seed.
func TestStress(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("STRESS_SEEDS"))
	if n == 0 {
		t.Skip("STRESS_SEEDS not set: make stress runs this")
	}
	first, _ := strconv.ParseUint(os.Getenv("STRESS_FIRST_SEED"), 10, 64)
	var mu sync.Mutex
	var ops, seedsRun int
	faults := map[dynamofault.Fault]int64{}
	var failed []uint64
	start := time.Now()
	t.Cleanup(func() {
		kinds := slices.Sorted(maps.Keys(faults))
		fmt.Printf("stress: %d seeds in %s, %d operations applied, faults injected:", seedsRun, time.Since(start).Round(time.Second), ops)
		for _, k := range kinds {
			fmt.Printf(" %s=%d", k, faults[k])
		}
		fmt.Println()
		for _, seed := range failed {
			fmt.Printf("stress: seed %d FAILED; replay: STRESS_SEEDS=1 STRESS_FIRST_SEED=%d go test ./pkg/store -run TestStress -v\n", seed, seed)
		}
		fmt.Printf("stress: %d passed, %d failed\n", seedsRun-len(failed), len(failed))
	})
	settings := []store.Settings{
		{SortOrder: "desc", ScoreOperator: "best", RankMode: "ordinal"},
		{SortOrder: "asc", ScoreOperator: "set", RankMode: "competition"},
		{SortOrder: "desc", ScoreOperator: "increment", RankMode: "competition"},
		{SortOrder: "asc", ScoreOperator: "best", RankMode: "ordinal", MinScore: ptr(int64(-20)), MaxScore: ptr(int64(20))},
	}
	for i := range n {
		seed := first + uint64(i)
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			defer func() {
				mu.Lock()
				defer mu.Unlock()
				seedsRun++
				if t.Failed() {
					failed = append(failed, seed)
				}
			}()
			add := func(applied int, st dynamofault.Stats) {
				mu.Lock()
				defer mu.Unlock()
				ops += applied
				for k, v := range st.Faults {
					faults[k] += v
				}
			}
			client, table, l := layered(t, layerOptions(seed))
			rng := rand.New(rand.NewPCG(seed, 1))
			add(runProperty(t, client, table, rng, settings[seed%4], 60), l.Stats())
			res := concurrentRun{clients: 6, requests: 4, seed: seed, opts: layerOptions(seed)}.run(t)
			add(res.requests, res.stats)
		})
	}
}
