// Command bench-lambda measures every function of template.yaml as Lambda runs it, and
// prints a table; it asserts nothing. Per function:
//
//   - the size of its stripped arm64 bootstrap, built by `make build-<LogicalId>` into
//     .aws-sam/build/<LogicalId>/ as `make build` and SAM do;
//   - its init duration as Lambda defines it: from the start of the bootstrap process to
//     its first request for an invocation (GET /2018-06-01/runtime/invocation/next),
//     median of 10 cold starts, and its ratio to the same for an empty handler
//     (baseline/). RIE's own REPORT line cannot say it (its Init Duration times only RIE's
//     hand-over), so the bootstrap runs under stamp/, which notes the time as it execs
//     the bootstrap and points it at a proxy of the Runtime API here, which notes the
//     first /next;
//   - its first response: from starting Amazon's Lambda Runtime Interface Emulator with
//     the host-architecture bootstrap to the first response to its sample event, median
//     of 10 other cold starts (without stamp/ and the proxy), and that less the warm p50,
//     since the first response also does the event's DynamoDB work;
//   - its warm invoke latency, p50 and p99 of 1,000 invokes of that event as seen by the
//     client, each event filled afresh beforehand (untimed), so every {{teamId}} and
//     {{leaderboardId}} is a new item: each delete deletes, each update renames, each
//     submit scores on a new board (so its Idempotency-Key, which is per board, never
//     replays), and none piles onto one item;
//   - the peak RSS (VmHWM) of its bootstrap process after those invokes.
//
// Everything runs against an in-memory DynamoDB Local of its own. The cost of DynamoDB
// Local is in every number that calls it, so it also prints ping's warm p50 less the p50
// of the DescribeTable call ping makes (timed from here, in turn with ping's invokes),
// and the warm p50 of the token function refusing a request without credentials, which
// calls no DynamoDB.
//
// -functions runs only the functions named (logical IDs, comma-separated) and the
// baseline, to try a change quickly.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/dynamolocal"
	"github.com/leaderboardapi/leaderboard/pkg/emulator"
	"github.com/leaderboardapi/leaderboard/pkg/localenv"
	"github.com/leaderboardapi/leaderboard/pkg/samtemplate"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

const (
	coldRuns    = 10
	warmInvokes = 1000
	baselineID  = "baseline"
	pingID      = "PingFunction"
	tokenID     = "TokenFunction"
	eventsDir   = "events"
	// noDynamoDBEvent is the token function refusing a request that has no credentials.
	noDynamoDBEvent = "token-no-credentials.json"
	// nextPath is the Runtime API call that ends a runtime's init.
	nextPath = "/2018-06-01/runtime/invocation/next"
)

// subject is one row of the table: a bootstrap and the event it is measured with.
type subject struct {
	id        string // logical ID, or baselineID
	event     string // file under events/; "" for the baseline's {}
	env       map[string]string
	bootstrap string // for this machine
	armSize   int64  // of the stripped arm64 bootstrap

	init     []time.Duration // bootstrap exec to its first /next
	first    []time.Duration // emulator start to first response
	warm     []time.Duration
	statuses []int // the HTTP statuses of the warm invokes, distinct
	peakRSS  int64
}

func main() {
	functions := flag.String("functions", "", "only these functions (logical IDs, comma-separated) and the baseline; all if empty")
	flag.Parse()
	if err := run(*functions); err != nil {
		fmt.Fprintln(os.Stderr, "bench-lambda:", err)
		os.Exit(1)
	}
}

func run(functions string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tmpl, err := samtemplate.Load("template.yaml")
	if err != nil {
		return err
	}
	fns, err := selectFunctions(tmpl.Functions(), functions)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "bench-lambda-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Fprintln(os.Stderr, "Starting DynamoDB Local and building every function for arm64 and", runtime.GOARCH, "...")
	ddb, err := dynamolocal.Start(ctx, dynamolocal.Options{})
	if err != nil {
		return err
	}
	defer ddb.Stop()
	if err := localenv.EnsureTable(ctx, ddb.Client(), "template.yaml", localenv.TableName); err != nil {
		return err
	}
	keyFile := filepath.Join(tmp, "signing.key")
	key, err := auth.KeyFromFile(keyFile)
	if err != nil {
		return err
	}
	filler := emulator.NewFiller(store.New(ddb.Client(), localenv.TableName, time.Now), key)
	local := emulator.Local{Table: localenv.TableName, DynamoDBEndpoint: ddb.Endpoint, SigningKeyFile: keyFile, Parameters: tmpl.ParameterDefaults()}

	subjects, err := prepare(ctx, tmpl.Functions(), fns, local, tmp)
	if err != nil {
		return err
	}
	stamp, err := buildStamp(ctx, filepath.Join(tmp, "stamp"))
	if err != nil {
		return err
	}
	rie, err := emulator.Install(ctx)
	if err != nil {
		return err
	}
	b := &bench{rie: rie, stamp: stamp, stampFile: filepath.Join(tmp, "exec-time"),
		filler: filler, db: ddb.Client(), events: map[string][]byte{}}
	for _, s := range subjects {
		if s.event != "" {
			if b.events[s.event], err = os.ReadFile(filepath.Join(eventsDir, s.event)); err != nil {
				return err
			}
		}
	}

	// Round by round rather than subject by subject, so that drift in the machine's load
	// spreads over every row alike. Round 0 is not counted: it warms the page cache and
	// DynamoDB Local's JIT for every row, not just the later ones.
	for round := range coldRuns + 1 {
		fmt.Fprintf(os.Stderr, "Cold starts, round %d of %d\n", round, coldRuns)
		for _, s := range subjects {
			init, err := b.initDuration(ctx, s)
			if err != nil {
				return fmt.Errorf("%s %s: init: %w", s.id, s.event, err)
			}
			first, err := b.firstResponse(ctx, s)
			if err != nil {
				return fmt.Errorf("%s %s: %w", s.id, s.event, err)
			}
			if round > 0 {
				s.init = append(s.init, init)
				s.first = append(s.first, first)
			}
		}
	}
	for _, s := range subjects {
		fmt.Fprintf(os.Stderr, "Warm invokes: %s %s\n", s.id, s.event)
		if err := b.warm(ctx, s); err != nil {
			return fmt.Errorf("%s %s: %w", s.id, s.event, err)
		}
	}
	printTable(subjects, b.describe, ddb.Endpoint)
	return nil
}

// selectFunctions returns the functions that list names (comma-separated logical IDs),
// in the template's order; all of them if list is empty.
func selectFunctions(fns []samtemplate.Function, list string) ([]samtemplate.Function, error) {
	if strings.TrimSpace(list) == "" {
		return fns, nil
	}
	var ids []string
	for _, fn := range fns {
		ids = append(ids, fn.LogicalID)
	}
	var selected []samtemplate.Function
	for id := range strings.SplitSeq(list, ",") {
		id = strings.TrimSpace(id)
		i := slices.Index(ids, id)
		if i < 0 {
			return nil, fmt.Errorf("-functions: %q is not a function of template.yaml: %s", id, strings.Join(ids, ", "))
		}
		if !slices.ContainsFunc(selected, func(fn samtemplate.Function) bool { return fn.LogicalID == id }) {
			selected = append(selected, fns[i])
		}
	}
	slices.SortFunc(selected, func(a, b samtemplate.Function) int {
		return slices.Index(ids, a.LogicalID) - slices.Index(ids, b.LogicalID)
	})
	return selected, nil
}

// prepare builds the functions fns for arm64 (for their size) and for this machine (to
// run them), and the baseline likewise, and returns the rows in order: baseline, then
// each function with its own event, with the token function's no-credentials event last.
// all is the whole template, for ping's settings, which the baseline runs with.
func prepare(ctx context.Context, all, fns []samtemplate.Function, local emulator.Local, tmp string) ([]*subject, error) {
	i := slices.IndexFunc(all, func(fn samtemplate.Function) bool { return fn.LogicalID == pingID })
	if i < 0 {
		return nil, fmt.Errorf("template.yaml has no %s, whose settings the baseline runs with", pingID)
	}
	ping := all[i]
	var subjects []*subject
	var token *subject
	for _, fn := range fns {
		env, err := emulator.Environment(fn, local)
		if err != nil {
			return nil, err
		}
		arm, err := emulator.Build(ctx, fn.LogicalID, "arm64", filepath.Join(".aws-sam", "build", fn.LogicalID))
		if err != nil {
			return nil, err
		}
		host, err := emulator.Build(ctx, fn.LogicalID, runtime.GOARCH, filepath.Join(tmp, fn.LogicalID))
		if err != nil {
			return nil, err
		}
		size, err := fileSize(arm)
		if err != nil {
			return nil, err
		}
		s := &subject{id: fn.LogicalID, event: emulator.Folder(fn.LogicalID) + ".json", env: env, bootstrap: host, armSize: size}
		subjects = append(subjects, s)
		if fn.LogicalID == tokenID {
			token = s
		}
	}
	if token != nil {
		noCreds := *token
		noCreds.event = noDynamoDBEvent
		subjects = append(subjects, &noCreds)
	}

	arm, err := buildBaseline(ctx, "arm64", filepath.Join(tmp, "baseline-arm64"))
	if err != nil {
		return nil, err
	}
	host, err := buildBaseline(ctx, runtime.GOARCH, filepath.Join(tmp, "baseline"))
	if err != nil {
		return nil, err
	}
	size, err := fileSize(arm)
	if err != nil {
		return nil, err
	}
	// The baseline reads no environment; ping's gives it the same memory size and timeout.
	env, err := emulator.Environment(ping, local)
	if err != nil {
		return nil, err
	}
	env["AWS_LAMBDA_FUNCTION_NAME"] = baselineID
	baseline := &subject{id: baselineID, env: env, bootstrap: host, armSize: size}
	return append([]*subject{baseline}, subjects...), nil
}

// buildBaseline builds baseline/ with the Makefile's own GOBUILD (flags, tags, stripping),
// through a rule given on make's command line, so it is built exactly as the functions are.
func buildBaseline(ctx context.Context, goarch, dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	rule := "build-bench-baseline: ; $(GOBUILD) -o $(ARTIFACTS_DIR)/bootstrap ./cmd/bench-lambda/baseline"
	cmd := exec.CommandContext(ctx, "make", "-s", "--eval", rule, "build-bench-baseline",
		"LAMBDA_GOARCH="+goarch, "ARTIFACTS_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build baseline for %s: %w\n%s", goarch, err, out)
	}
	return filepath.Join(dir, "bootstrap"), nil
}

// buildStamp builds stamp/ for this machine into dir.
func buildStamp(ctx context.Context, dir string) (string, error) {
	bin, err := filepath.Abs(filepath.Join(dir, "stamp"))
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/bench-lambda/stamp")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build stamp: %w\n%s", err, out)
	}
	return bin, nil
}

// bench runs subjects under the emulator with their events.
type bench struct {
	rie       string
	stamp     string // stamp/, built
	stampFile string // where stamp writes the time it execs a bootstrap
	filler    *emulator.Filler
	db        *dynamodb.Client
	events    map[string][]byte // by file name

	describe []time.Duration // DescribeTable from here, alongside ping's warm invokes
}

// event returns the subject's event, filled afresh.
func (b *bench) event(ctx context.Context, s *subject) ([]byte, error) {
	if s.event == "" {
		return []byte("{}"), nil
	}
	return b.filler.Fill(ctx, b.events[s.event])
}

// initDuration starts the emulator with the subject's bootstrap under stamp/ and returns
// the time from the bootstrap's exec, as stamp notes it, to its first /next, as the proxy
// notes it. RIE starts the bootstrap only for the first invoke, so one is made. The two
// times come from two processes' wall clocks (CLOCK_REALTIME), which are the same clock.
func (b *bench) initDuration(ctx context.Context, s *subject) (time.Duration, error) {
	event, err := b.event(ctx, s)
	if err != nil {
		return 0, err
	}
	if err := os.Remove(b.stampFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	env := maps.Clone(s.env)
	env["STAMP_BOOTSTRAP"] = s.bootstrap
	env["STAMP_RUNTIME_API"] = ln.Addr().String()
	env["STAMP_FILE"] = b.stampFile
	f, err := emulator.Start(ctx, emulator.Options{Bootstrap: b.stamp, Env: env, RIE: b.rie})
	if err != nil {
		return 0, err
	}
	defer f.Stop()

	// The bootstrap starts only with the invoke below, so the proxy serves from here on.
	proxy := newRuntimeAPIProxy(f.RuntimeAPI)
	defer proxy.transport.CloseIdleConnections()
	srv := &http.Server{Handler: proxy, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	defer srv.Close()
	if _, err := f.Invoke(ctx, event); err != nil {
		return 0, fmt.Errorf("%w\n%s", err, f.Output())
	}
	written, err := os.ReadFile(b.stampFile)
	if err != nil {
		return 0, fmt.Errorf("stamp/ left no exec time: %w\n%s", err, f.Output())
	}
	execAt, err := strconv.ParseInt(string(written), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stamp/ wrote %q: %w", written, err)
	}
	nextAt := proxy.firstNext.Load()
	if nextAt == 0 {
		return 0, fmt.Errorf("the bootstrap answered without a %s through the proxy", nextPath)
	}
	if err := f.Stop(); err != nil { // before the proxy closes, so no call of the bootstrap fails first
		return 0, err
	}
	return time.Duration(nextAt - execAt), nil
}

// runtimeAPIProxy passes every request on to RIE's Runtime API, and notes when the first
// GET of the next invocation came: the end of the runtime's init.
type runtimeAPIProxy struct {
	proxy     *httputil.ReverseProxy
	transport *http.Transport
	firstNext atomic.Int64 // Unix nanoseconds; 0 until then
}

func newRuntimeAPIProxy(target string) *runtimeAPIProxy {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	u := &url.URL{Scheme: "http", Host: target}
	return &runtimeAPIProxy{
		transport: transport,
		proxy: &httputil.ReverseProxy{
			Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(u) },
			Transport: transport,
			// Stopping the emulator cuts the bootstrap's long poll of /next, which is no news.
			ErrorLog: log.New(io.Discard, "", 0),
		},
	}
}

func (p *runtimeAPIProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == nextPath {
		p.firstNext.CompareAndSwap(0, time.Now().UnixNano())
	}
	p.proxy.ServeHTTP(w, r)
}

// firstResponse times one start of the emulator, with the bootstrap itself, up to the
// function's first response.
func (b *bench) firstResponse(ctx context.Context, s *subject) (time.Duration, error) {
	event, err := b.event(ctx, s)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	f, err := emulator.Start(ctx, emulator.Options{Bootstrap: s.bootstrap, Env: s.env, RIE: b.rie})
	if err != nil {
		return 0, err
	}
	defer f.Stop()
	if _, err := f.Invoke(ctx, event); err != nil {
		return 0, fmt.Errorf("%w\n%s", err, f.Output())
	}
	return time.Since(start), nil
}

// warm times warmInvokes invokes after a first, untimed one, and reads the bootstrap's
// peak RSS at the end.
func (b *bench) warm(ctx context.Context, s *subject) error {
	f, err := emulator.Start(ctx, emulator.Options{Bootstrap: s.bootstrap, Env: s.env, RIE: b.rie})
	if err != nil {
		return err
	}
	defer f.Stop()
	for i := range warmInvokes + 1 {
		event, err := b.event(ctx, s)
		if err != nil {
			return err
		}
		start := time.Now()
		resp, err := f.Invoke(ctx, event)
		d := time.Since(start)
		if err != nil {
			return fmt.Errorf("invoke %d: %w", i, err)
		}
		if i == 0 {
			continue // the cold one
		}
		s.warm = append(s.warm, d)
		if s.id == pingID {
			// Timed in turn with ping's own, so both see DynamoDB Local in the same state.
			if err := b.describeTable(ctx); err != nil {
				return err
			}
		}
		if status := httpStatus(resp); !slices.Contains(s.statuses, status) {
			s.statuses = append(s.statuses, status)
		}
	}
	pid, err := f.RuntimePID()
	if err != nil {
		return err
	}
	s.peakRSS, err = emulator.PeakRSS(pid)
	return err
}

// httpStatus is the status of an HTTP API response, or 0 for any other result.
func httpStatus(resp []byte) int {
	var r events.APIGatewayV2HTTPResponse
	if json.Unmarshal(resp, &r) != nil {
		return 0
	}
	return r.StatusCode
}

// describeTable times, from here, the one call that ping makes.
func (b *bench) describeTable(ctx context.Context) error {
	start := time.Now()
	if _, err := b.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(localenv.TableName)}); err != nil {
		return err
	}
	b.describe = append(b.describe, time.Since(start))
	return nil
}

func printTable(subjects []*subject, describe []time.Duration, endpoint string) {
	fmt.Printf("Lambda functions: %s %s/%s, %d CPUs; aws-lambda-rie %s; DynamoDB Local %s in memory (%s)\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), emulator.RIEVersion, dynamolocal.Version, endpoint)
	fmt.Printf("ARM64 SIZE: stripped bootstrap, MiB. INIT: bootstrap exec to its first GET %s (Lambda's Init Duration), "+
		"median of %d starts; VS BASE: INIT over the baseline's.\n"+
		"FIRST RESP: emulator start to first response, median of %d other starts; LESS WARM: FIRST RESP less WARM p50.\n"+
		"WARM: %d invokes, client side. RSS: peak (VmHWM) of the bootstrap, MiB. Times in ms.\n\n",
		nextPath, coldRuns, coldRuns, warmInvokes)

	var baseline time.Duration
	var ping, noDynamoDB *subject
	for _, s := range subjects {
		switch {
		case s.id == baselineID:
			baseline = median(s.init)
		case s.id == pingID:
			ping = s
		case s.event == noDynamoDBEvent:
			noDynamoDB = s
		}
	}
	fmt.Printf("%-26s %-26s %-6s %10s %7s %7s %10s %9s %9s %9s %6s\n",
		"FUNCTION", "EVENT", "STATUS", "ARM64 SIZE", "INIT", "VS BASE", "FIRST RESP", "LESS WARM", "WARM p50", "WARM p99", "RSS")
	within, rows := 0, 0
	for _, s := range subjects {
		event, status := s.event, statusList(s.statuses)
		if s.id == baselineID {
			event, status = "{} (empty handler)", "-"
		}
		init, first, warm := median(s.init), median(s.first), percentile(s.warm, 50)
		ratio := float64(init) / float64(baseline)
		if s.id != baselineID && s.event != noDynamoDBEvent { // that row repeats the token function's init
			rows++
			if ratio <= 2 {
				within++
			}
		}
		fmt.Printf("%-26s %-26s %-6s %10.2f %7s %6.2fx %10s %9s %9s %9s %6.1f\n",
			s.id, event, status, mib(s.armSize), ms(init), ratio, ms(first), ms(first-warm),
			ms(warm), ms(percentile(s.warm, 99)), mib(s.peakRSS))
	}

	fmt.Printf("\nInit within 2x of the baseline's %s ms: %d of %d functions\n", ms(baseline), within, rows)
	if ping != nil {
		pingP50, describeP50 := percentile(ping.warm, 50), percentile(describe, 50)
		fmt.Printf("PingFunction warm p50 less DynamoDB: %s ms - %s ms (DescribeTable p50, timed from here in turn with ping's invokes) = %s ms\n",
			ms(pingP50), ms(describeP50), ms(pingP50-describeP50))
	}
	if noDynamoDB != nil {
		fmt.Printf("Warm p50 with no DynamoDB call: %s ms (TokenFunction, %s: 401 before any table read)\n",
			ms(percentile(noDynamoDB.warm, 50)), noDynamoDBEvent)
	}
}

func statusList(statuses []int) string {
	var parts []string
	for _, s := range statuses {
		if s == 0 {
			parts = append(parts, "-")
		} else {
			parts = append(parts, strconv.Itoa(s))
		}
	}
	return strings.Join(parts, ",")
}

func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func median(ds []time.Duration) time.Duration { return percentile(ds, 50) }

// percentile is the nearest-rank percentile p of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(rank, 1)-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

func mib(n int64) float64 { return float64(n) / (1 << 20) }
