// Command bench measures the exact ranks of docs/ranking.md on boards of 1,000, 10,000
// and 100,000 scored teams and prints a table of latencies and capacity units, then the
// targets evaluated from the same run. It measures; it asserts no time.
//
// It runs against an in-memory DynamoDB Local of its own (or DYNAMODB_ENDPOINT), one
// table from template.yaml per board size. Each board is seeded with store.ImportBoard;
// then every operation runs under its own reqlog entry, so the units of each call are
// known. Read units are DynamoDB Local's report; write units are priced by the bench
// itself (meter.go), because DynamoDB Local undercharges transactions.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/leaderboardapi/leaderboard/pkg/dynamolocal"
	"github.com/leaderboardapi/leaderboard/pkg/localenv"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

type config struct {
	sizes []int
	reps
	// countedBudget bounds the time the count-based rank is measured for at one size,
	// as its check call's latency times its runs; it runs at least minCounted times.
	countedBudget time.Duration
	warmupN       int
	warmupRounds  int
	seed          uint64
	template      string
	hot           hotConfig
	hotOnly       bool
	fair          fairConfig
	fairOnly      bool
}

const (
	minCounted = 5
	// minSize is the smallest board with a page read through a cursor.
	minSize = 2 * pageSize
)

func main() {
	sizes := flag.String("sizes", "1000,10000,100000", "board sizes, comma-separated")
	readReps := flag.Int("reps", 200, "measured calls of each read per board size")
	submits := flag.Int("submits", 100, "measured submits per board size")
	countedBudget := flag.Duration("counted-budget", time.Minute, "time for measuring the count-based rank at one size (at least 5 runs)")
	warmupN := flag.Int("warmup-size", 1000, "teams on the board of the unmeasured warm-up")
	warmupRounds := flag.Int("warmup-rounds", 100, "unmeasured calls of every operation before the first size")
	seed := flag.Uint64("seed", 1, "seed of the scores and of the teams picked")
	hotTeams := flag.Int("hot-teams", 10000, "teams on the hot board")
	hotClients := flag.Int("hot-clients", 64, "concurrent clients on the hot board")
	hotDuration := flag.Duration("hot-duration", time.Minute, "how long each hot-board run lasts")
	hotOnly := flag.Bool("hot-only", false, "run only the hot-board scenario")
	fairOnly := flag.Bool("fairness-only", false, "run only the fairness scenario")
	fairDuration := flag.Duration("fairness-duration", 20*time.Second, "how long each fairness phase lasts")
	flag.Parse()
	cfg := config{
		reps:          reps{reads: *readReps, counted: *readReps, submits: *submits},
		countedBudget: *countedBudget,
		warmupN:       max(*warmupN, minSize),
		warmupRounds:  *warmupRounds,
		seed:          *seed,
		template:      "template.yaml",
		hot:           hotConfig{teams: *hotTeams, clients: *hotClients, duration: *hotDuration, seed: *seed, template: "template.yaml"},
		hotOnly:       *hotOnly,
		fair:          fairConfig{duration: *fairDuration, bRate: 20, aClients: 24, aRate: 400, template: "template.yaml", teamCount: 20},
		fairOnly:      *fairOnly,
	}
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < minSize {
			fmt.Fprintf(os.Stderr, "bench: -sizes: %q is not a board size of %d or more\n", f, minSize)
			os.Exit(2)
		}
		cfg.sizes = append(cfg.sizes, n)
	}
	slices.Sort(cfg.sizes)
	cfg.sizes = slices.Compact(cfg.sizes)
	if cfg.reads < 1 || cfg.submits < 1 {
		fmt.Fprintln(os.Stderr, "bench: -reps and -submits must be at least 1")
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(cfg config) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	began := time.Now()

	endpoint, where := os.Getenv("DYNAMODB_ENDPOINT"), ""
	if endpoint == "" {
		if err := dynamolocal.RequireTools(); err != nil {
			return err
		}
		srv, err := dynamolocal.Start(ctx, dynamolocal.Options{})
		if err != nil {
			return err
		}
		defer srv.Stop()
		endpoint, where = srv.Endpoint, "DynamoDB Local "+dynamolocal.Version+" in memory"
	} else {
		where = "DYNAMODB_ENDPOINT"
	}
	plain := dynamolocal.NewClient(endpoint)
	db := instrument(plain)
	fmt.Printf("Rankings: %s %s/%s, %d CPUs; %s (%s)\n\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), where, endpoint)

	if cfg.fairOnly {
		return fairness(ctx, cfg, plain)
	}
	if cfg.hotOnly {
		return hotBoard(ctx, cfg, plain, began)
	}
	if cfg.warmupRounds > 0 {
		start := time.Now()
		if err := warmUp(ctx, cfg, plain, db); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		fmt.Printf("warm-up: a board of %s teams, %d calls of every operation, unmeasured: %.0f s\n",
			thousands(cfg.warmupN), cfg.warmupRounds+warmups(cfg.warmupRounds), time.Since(start).Seconds())
	}
	var all []result
	var checks []readCheck
	for _, n := range cfg.sizes {
		rs, cs, err := runSize(ctx, cfg, plain, db, n)
		if err != nil {
			return fmt.Errorf("N=%d: %w", n, err)
		}
		all, checks = append(all, rs...), append(checks, cs...)
	}
	fmt.Println()
	printTable(os.Stdout, all, cfg)
	fmt.Println()
	printChecks(os.Stdout, checks)
	fmt.Println()
	printTargets(os.Stdout, all, cfg.sizes)
	fmt.Println()
	if err := hotBoard(ctx, cfg, plain, began); err != nil {
		return err
	}
	fmt.Println()
	return fairness(ctx, cfg, plain)
}

// fairness runs the fairness scenario and prints it.
func fairness(ctx context.Context, cfg config, plain *dynamodb.Client) error {
	phases, err := runFairness(ctx, cfg.fair, plain)
	if err != nil {
		return fmt.Errorf("fairness: %w", err)
	}
	printFairness(os.Stdout, cfg.fair, phases)
	return nil
}

// hotBoard runs the hot-board scenario with one client and with many, through the AWS
// layer and without it, and prints the table and its targets.
func hotBoard(ctx context.Context, cfg config, plain *dynamodb.Client, began time.Time) error {
	var runs []hotRun
	for _, layer := range []bool{true, false} {
		for _, clients := range []int{1, cfg.hot.clients} {
			r, err := runHot(ctx, cfg.hot, plain, layer, clients)
			if err != nil {
				return fmt.Errorf("hot board, %d clients: %w", clients, err)
			}
			fmt.Printf("hot board %s, %d clients: %d submits in %.0f s\n", r.label, clients, r.accepted, r.took.Seconds())
			runs = append(runs, r)
		}
	}
	fmt.Println()
	printHot(os.Stdout, cfg.hot, runs)
	fmt.Printf("\nwhole run: %s\n", time.Since(began).Round(time.Second))
	return nil
}

// warmUp runs every operation on a board of its own, unmeasured, so that DynamoDB
// Local's JIT has compiled its paths before the first size is measured; otherwise the
// first size would look slow and the ratios to it flatter.
func warmUp(ctx context.Context, cfg config, plain, db *dynamodb.Client) error {
	r, _, drop, err := newSizeRun(ctx, cfg, plain, db, cfg.warmupN)
	if err != nil {
		return err
	}
	defer drop()
	rounds := reps{reads: cfg.warmupRounds, counted: cfg.warmupRounds, submits: cfg.warmupRounds}
	if _, err := measureAll(ctx, r.reads(rounds)); err != nil {
		return err
	}
	_, err = measureAll(ctx, []operation{r.submit(rounds)})
	return err
}

// newSizeRun creates a table, seeds a board of n teams in it and prepares the reads.
// drop deletes the table.
func newSizeRun(ctx context.Context, cfg config, plain, db *dynamodb.Client, n int) (*sizeRun, seeded, func(), error) {
	table := fmt.Sprintf("bench-%d-%d", n, time.Now().UnixNano())
	if err := localenv.EnsureTable(ctx, plain, cfg.template, table); err != nil {
		return nil, seeded{}, nil, err
	}
	drop := func() { plain.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &table}) }
	s := store.New(db, table, time.Now)
	rng := rand.New(rand.NewPCG(cfg.seed, uint64(n)))
	b, sd, err := seed(ctx, s, n, rng)
	if err == nil {
		err = writeCounted(ctx, plain, table, b)
	}
	if err == nil {
		var r *sizeRun
		if r, err = prepare(ctx, s, n, b, rng); err == nil {
			r.db, r.table = db, table
			return r, sd, drop, nil
		}
	}
	drop()
	return nil, seeded{}, nil, err
}

// runSize seeds a board of n teams in a table of its own, measures every operation on
// it and drops the table.
func runSize(ctx context.Context, cfg config, plain, db *dynamodb.Client, n int) ([]result, []readCheck, error) {
	r, sd, drop, err := newSizeRun(ctx, cfg, plain, db, n)
	if err != nil {
		return nil, nil, err
	}
	defer drop()
	fmt.Printf("N=%-8s seeded in %6.1f s: %s WCU by DynamoDB's price, %s as DynamoDB Local reported\n",
		thousands(n), sd.took.Seconds(), num(sd.write), num(sd.localWrite))

	measuring := time.Now()
	rp := cfg.reps
	reads := r.reads(rp)
	checks, err := checkReads(ctx, n, reads)
	if err != nil {
		return nil, nil, err
	}
	// The count-based rank reads the whole board ahead of the last team: at 100,000
	// teams a call takes seconds, so it runs as often as its budget allows.
	for i, op := range reads {
		if op.name == opCounted {
			once := checks[i].latency
			reads[i].runs = min(rp.counted, max(minCounted, int(cfg.countedBudget/max(once, time.Millisecond))))
		}
	}
	readSamples, err := measureAll(ctx, reads)
	if err != nil {
		return nil, nil, err
	}
	// Submits come last: they move teams, and the reads need the last team to stay last.
	submit := r.submit(rp)
	submitSamples, err := measureAll(ctx, []operation{submit})
	if err != nil {
		return nil, nil, err
	}
	sc, err := checkReads(ctx, n, []operation{submit})
	if err != nil {
		return nil, nil, err
	}
	fmt.Printf("N=%-8s measured in %4.0f s\n", thousands(n), time.Since(measuring).Seconds())

	results := []result{summarize(n, submit.name, submit.note, submitSamples[0])}
	for i, op := range reads {
		results = append(results, summarize(n, op.name, op.note, readSamples[i]))
	}
	return results, append(sc, checks...), nil
}
