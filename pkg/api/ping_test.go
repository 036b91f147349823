package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/apigw"
)

// countingPinger is a table that counts how often it is asked, and fails while down.
type countingPinger struct {
	mu    sync.Mutex
	calls int
	down  bool
	delay time.Duration
}

func (p *countingPinger) Ping(ctx context.Context) error {
	p.mu.Lock()
	p.calls++
	down, delay := p.down, p.delay
	p.mu.Unlock()
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	if down {
		return errors.New("ResourceNotFoundException")
	}
	return nil
}

func (p *countingPinger) set(down bool) { p.mu.Lock(); p.down = down; p.mu.Unlock() }

func (p *countingPinger) takeCalls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.calls
	p.calls = 0
	return n
}

var pingLog = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestPingCache(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	table := &countingPinger{}
	ping := api.PingAt(table, pingLog, clock)
	for _, step := range []struct {
		name       string
		at         time.Duration
		down       bool
		wantStatus int
		wantCalls  int
	}{
		{"first ping asks", 0, false, 200, 1},
		{"cached", 9*time.Second + 999*time.Millisecond, false, 200, 0},
		{"10 s on, asks again", 10 * time.Second, false, 200, 1},
		{"the table fails, the cache still says OK", 19 * time.Second, true, 200, 0},
		{"the failure is seen at 10 s", 20 * time.Second, true, 500, 1},
		{"the failure is cached", 21*time.Second + 999*time.Millisecond, true, 500, 0},
		{"for 2 s only", 22 * time.Second, false, 200, 1},
		{"then OK for 10 s again", 31 * time.Second, true, 200, 0},
	} {
		t.Run(step.name, func(t *testing.T) {
			mu.Lock()
			now = t0.Add(step.at)
			mu.Unlock()
			table.set(step.down)
			resp, err := ping(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: "GET /ping"})
			if err != nil || resp.StatusCode != step.wantStatus {
				t.Errorf("ping = %d %v, want %d", resp.StatusCode, err, step.wantStatus)
			}
			if n := table.takeCalls(); n != step.wantCalls {
				t.Errorf("DescribeTable %d times, want %d", n, step.wantCalls)
			}
		})
	}
}

func TestPingCacheConcurrentPingsAskOnce(t *testing.T) {
	table := &countingPinger{delay: 20 * time.Millisecond}
	ping := api.PingAt(table, pingLog, time.Now)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if resp, _ := ping(context.Background(), events.APIGatewayV2HTTPRequest{}); resp.StatusCode != 200 {
				t.Errorf("ping = %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if n := table.takeCalls(); n != 1 {
		t.Fatalf("DescribeTable %d times, want 1", n)
	}
}

func TestPingCacheIgnoresACallerThatGaveUp(t *testing.T) {
	table := &countingPinger{delay: time.Second}
	ping := api.PingAt(table, pingLog, time.Now)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if resp, _ := ping(ctx, events.APIGatewayV2HTTPRequest{}); resp.StatusCode != 500 {
		t.Fatalf("ping with a lapsed deadline = %d", resp.StatusCode)
	}
	table.delay = 0
	if resp, _ := ping(context.Background(), events.APIGatewayV2HTTPRequest{}); resp.StatusCode != 200 {
		t.Fatalf("a lapsed caller's failure was cached: %d", resp.StatusCode)
	}
	if n := table.takeCalls(); n != 2 {
		t.Fatalf("DescribeTable %d times, want 2", n)
	}
}

// TestPingFunctionCachesOnlyHTTP: GET /ping through the function answers from the cache,
// while every scheduled health check asks the table.
func TestPingFunctionCachesOnlyHTTP(t *testing.T) {
	table := &countingPinger{}
	fn := api.PingFunction(table, pingLog)
	httpEvent := json.RawMessage(`{"version":"2.0","routeKey":"GET /ping","rawPath":"/ping","requestContext":{"http":{"method":"GET","path":"/ping"}}}`)
	scheduled := json.RawMessage(`{"source":"leaderboard.healthcheck"}`)
	for i := range 3 {
		out, err := fn(context.Background(), httpEvent)
		if resp, ok := out.(apigw.Response); err != nil || !ok || resp.StatusCode != 200 {
			t.Fatalf("HTTP ping %d = %+v %v", i, out, err)
		}
	}
	if n := table.takeCalls(); n != 1 {
		t.Fatalf("3 HTTP pings asked the table %d times, want 1", n)
	}
	table.set(true)
	for i := range 3 {
		if _, err := fn(context.Background(), scheduled); err == nil {
			t.Fatalf("health check %d of a failing table succeeded", i)
		}
	}
	if n := table.takeCalls(); n != 3 {
		t.Fatalf("3 health checks asked the table %d times, want 3", n)
	}
}
