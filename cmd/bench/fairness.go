package main

// Fairness: one tenant floods the API far over its quota while another goes on as
// usual, on the local API (every route of the template, behind the local stand-in for
// API Gateway) over loopback HTTP, exactly as make local serves it. Tenant B submits at
// a steady pace, alone and then beside tenant A's flood of submits and token requests;
// B must see no 429 and keep its p99 within twice its p99 alone, and A must get 429s,
// never a 5xx.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/cursor"
	"github.com/leaderboardapi/leaderboard/pkg/localapi"
	"github.com/leaderboardapi/leaderboard/pkg/localenv"
	"github.com/leaderboardapi/leaderboard/pkg/quota"
	"github.com/leaderboardapi/leaderboard/pkg/samtemplate"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// aWrites is tenant A's own write quota in the fairness scenario.
var aWrites = quota.Limits{Rate: 10, Burst: 20}

type fairConfig struct {
	duration  time.Duration // of each phase
	bRate     int           // B's submits a second
	aClients  int           // A's concurrent clients
	aRate     int           // A's requests a second, all clients together
	template  string
	teamCount int
}

// fairPhase is what each tenant saw in one phase.
type fairPhase struct {
	label     string
	took      time.Duration
	b         []time.Duration
	bSteady   []time.Duration // B's after the phase's first second
	bStatus   map[int]int
	aStatus   map[int]int
	aRequests int
}

// apiClient is one tenant's HTTP client of the local API.
type apiClient struct {
	id    string // the tenant
	http  *http.Client
	base  string
	creds auth.Credentials
	token string
}

func (c *apiClient) do(ctx context.Context, method, path string, headers map[string]string, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if c.token != "" && headers["x-api-key"] == "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (c *apiClient) getToken(ctx context.Context) (int, error) {
	status, body, err := c.do(ctx, "GET", "/v1/token", map[string]string{
		"x-api-key": c.creds.APIKey, "x-client-id": c.creds.ClientID, "x-client-secret": c.creds.ClientSecret,
	}, "")
	if err == nil && status == http.StatusOK {
		var t struct{ AuthToken string }
		json.Unmarshal(body, &t)
		c.token = t.AuthToken
	}
	return status, err
}

// setUp makes the tenant's token, teams and one board with them all on it.
func (c *apiClient) setUp(ctx context.Context, teams int) (board string, ids []string, err error) {
	if status, err := c.getToken(ctx); err != nil || status != http.StatusOK {
		return "", nil, fmt.Errorf("token: %d %v", status, err)
	}
	for i := range teams {
		status, body, err := c.do(ctx, "POST", "/v1/team", nil, fmt.Sprintf(`{"teamName":"Team %d"}`, i))
		if err != nil || status != http.StatusCreated {
			return "", nil, fmt.Errorf("create team: %d %s %v", status, body, err)
		}
		var t struct{ ID string }
		json.Unmarshal(body, &t)
		ids = append(ids, t.ID)
	}
	list, _ := json.Marshal(ids)
	status, body, err := c.do(ctx, "POST", "/v1/leaderboard", nil, `{"name":"Fair","scoreOperator":"increment","teams":`+string(list)+`}`)
	if err != nil || status != http.StatusCreated {
		return "", nil, fmt.Errorf("create leaderboard: %d %s %v", status, body, err)
	}
	var b struct{ ID string }
	json.Unmarshal(body, &b)
	return b.ID, ids, nil
}

// runFairness serves the local API on a loopback port and runs both phases.
func runFairness(ctx context.Context, cfg fairConfig, plain *dynamodb.Client) ([]fairPhase, error) {
	table := fmt.Sprintf("fair-%d", time.Now().UnixNano())
	if err := localenv.EnsureTable(ctx, plain, cfg.template, table); err != nil {
		return nil, err
	}
	defer plain.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &table})
	s := store.New(plain, table, time.Now)
	key, err := auth.KeyFromSeed([]byte(strings.Repeat("f", 64)))
	if err != nil {
		return nil, err
	}
	if err := s.PublishSigningKey(ctx, key.Public()); err != nil {
		return nil, err
	}
	cursorKey, err := s.CursorKey(ctx)
	if err != nil {
		return nil, err
	}
	tmpl, err := samtemplate.Load(cfg.template)
	if err != nil {
		return nil, err
	}
	h, err := localapi.New(tmpl, s, key, cursor.New(cursorKey), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	transport := &http.Transport{MaxIdleConnsPerHost: 128}
	defer transport.CloseIdleConnections()
	tenant := func() (*apiClient, error) {
		creds := auth.NewCredentials()
		id, err := s.CreateTenant(ctx, creds)
		if err != nil {
			return nil, err
		}
		return &apiClient{id: id, http: &http.Client{Transport: transport, Timeout: 30 * time.Second}, base: "http://" + ln.Addr().String(), creds: creds}, nil
	}
	a, err := tenant()
	if err != nil {
		return nil, err
	}
	b, err := tenant()
	if err != nil {
		return nil, err
	}
	boardA, teamsA, err := a.setUp(ctx, cfg.teamCount)
	if err != nil {
		return nil, fmt.Errorf("tenant A: %w", err)
	}
	boardB, teamsB, err := b.setUp(ctx, cfg.teamCount)
	if err != nil {
		return nil, fmt.Errorf("tenant B: %w", err)
	}
	// A is a small tenant: its own write quota, set as an operator would, keeps the work
	// it may do small beside B's, so that what is measured is what A's flood beyond it
	// costs everyone else. (Within its quota, A is just another tenant at work.)
	if err := s.SetQuota(ctx, a.id, quota.Write, &aWrites); err != nil {
		return nil, err
	}
	// Both quotas start full again: the set-up spent some of them.
	time.Sleep(3 * time.Second)

	var phases []fairPhase
	// The first phase warms the server and DynamoDB Local up, unmeasured.
	for i, flood := range []bool{false, false, true} {
		p := fairPhase{label: "B alone", bStatus: map[int]int{}, aStatus: map[int]int{}}
		if flood {
			p.label = "B beside A's flood"
		}
		var mu sync.Mutex
		deadline := time.Now().Add(cfg.duration)
		start := time.Now()
		var wg sync.WaitGroup
		// B: a steady pace, spread over a few clients.
		const bClients = 4
		interval := time.Duration(bClients) * time.Second / time.Duration(cfg.bRate)
		for c := range bClients {
			wg.Go(func() {
				next := time.Now().Add(time.Duration(c) * interval / bClients)
				for i := 0; time.Now().Before(deadline); i++ {
					time.Sleep(time.Until(next))
					next = next.Add(interval)
					began := time.Now()
					status, _, err := b.do(ctx, "POST", "/v1/leaderboard/"+boardB+"/scores", nil,
						fmt.Sprintf(`{"teamId":%q,"score":1}`, teamsB[(c*7+i)%len(teamsB)]))
					took := time.Since(began)
					mu.Lock()
					if err != nil {
						status = -1
					}
					p.bStatus[status]++
					if status == http.StatusOK {
						p.b = append(p.b, took)
						if began.Sub(start) >= time.Second {
							p.bSteady = append(p.bSteady, took)
						}
					}
					mu.Unlock()
				}
			})
		}
		// A: far over its quota, three submits to a token request. Paced, so that what
		// is measured is what the API does with a flood, not how many requests these two
		// cores can make and parse at once.
		if flood {
			aInterval := time.Duration(cfg.aClients) * time.Second / time.Duration(cfg.aRate)
			for c := range cfg.aClients {
				wg.Go(func() {
					mine := &apiClient{http: a.http, base: a.base, creds: a.creds, token: a.token}
					next := time.Now().Add(time.Duration(c) * aInterval / time.Duration(cfg.aClients))
					for i := 0; time.Now().Before(deadline); i++ {
						time.Sleep(time.Until(next))
						next = next.Add(aInterval)
						var status int
						var err error
						if i%4 == 3 {
							status, err = mine.getToken(ctx)
						} else {
							status, _, err = mine.do(ctx, "POST", "/v1/leaderboard/"+boardA+"/scores", nil,
								fmt.Sprintf(`{"teamId":%q,"score":1}`, teamsA[(c+i)%len(teamsA)]))
						}
						if err != nil {
							status = -1
						}
						mu.Lock()
						p.aStatus[status]++
						p.aRequests++
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		p.took = time.Since(start)
		if i > 0 {
			phases = append(phases, p)
		}
		time.Sleep(2 * time.Second)
	}
	return phases, nil
}

// printFairness prints the phases and the targets.
func printFairness(w io.Writer, cfg fairConfig, phases []fairPhase) {
	fmt.Fprintf(w, "fairness, on the local API over loopback: tenant B submits about %d a second; tenant A (write quota %s a second/burst) floods at %d a second from %d clients (3 submits to 1 token request), %s a phase\n",
		cfg.bRate, aWrites, cfg.aRate, cfg.aClients, cfg.duration)
	fmt.Fprintf(w, "%-20s %12s %8s %8s %13s  %-22s %12s  %s\n", "", "B submits/s", "B p50", "B p99", "B p99 after 1s", "B statuses", "A requests/s", "A statuses")
	for _, p := range phases {
		aRate, aStatus := "-", "-"
		if p.aRequests > 0 {
			aRate, aStatus = fmt.Sprintf("%.0f", float64(p.aRequests)/p.took.Seconds()), fmt.Sprint(p.aStatus)
		}
		fmt.Fprintf(w, "%-20s %12.1f %8s %8s %13s  %-22s %12s  %s\n", p.label, float64(len(p.b))/p.took.Seconds(),
			ms(quantile(p.b, 0.5)), ms(quantile(p.b, 0.99)), ms(quantile(p.bSteady, 0.99)), fmt.Sprint(p.bStatus), aRate, aStatus)
	}
	if len(phases) != 2 {
		return
	}
	alone, flood := phases[0], phases[1]
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	onlyOK := func(m map[int]int) bool { return len(m) == 1 && m[http.StatusOK] > 0 }
	ratio := float64(quantile(flood.b, 0.99)) / float64(max(quantile(alone.b, 0.99), 1))
	a5xx, a429 := 0, flood.aStatus[http.StatusTooManyRequests]
	for status, n := range flood.aStatus {
		if status >= 500 || status < 0 {
			a5xx += n
		}
	}
	fmt.Fprintln(w, "\nfairness targets:")
	fmt.Fprintf(w, "  B sees no 429 and no error beside the flood: %v: %s\n", flood.bStatus, verdict(onlyOK(flood.bStatus) && onlyOK(alone.bStatus)))
	fmt.Fprintf(w, "  B's p99 beside the flood / alone: %.2fx (at most 2x): %s\n", ratio, verdict(ratio <= 2))
	steady := float64(quantile(flood.bSteady, 0.99)) / float64(max(quantile(alone.bSteady, 0.99), 1))
	fmt.Fprintf(w, "    (after the flood's first second, when A spends its burst: %.2fx)\n", steady)
	fmt.Fprintf(w, "  A gets 429s (%d) and never a 5xx (%d): %s\n", a429, a5xx, verdict(a429 > 0 && a5xx == 0))
}
