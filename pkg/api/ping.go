package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
)

type pinger interface {
	Ping(ctx context.Context) error
}

// GET /ping answers from the table's last answer for a while, so that a flood of pings
// costs each function instance at most one DescribeTable per pingTTL. A failure is kept
// for less time, so that the table's recovery shows soon.
const (
	pingTTL        = 10 * time.Second
	pingFailureTTL = 2 * time.Second
)

// Ping answers GET /ping: 200 {"status":"OK"} when the table answers, else 500. It asks
// the table at most once per 10 seconds (2 after a failure).
func Ping(p pinger, log *slog.Logger) apigw.Handler { return pingFrom(newPingCache(p, time.Now), log) }

func pingFrom(p pinger, log *slog.Logger) apigw.Handler {
	return func(ctx context.Context, _ apigw.Request) (apigw.Response, error) {
		if err := p.Ping(ctx); err != nil {
			log.ErrorContext(ctx, "ping failed", "error", err.Error())
			return apigw.JSON(http.StatusInternalServerError, status{"NOT OK"}), nil
		}
		return apigw.JSON(http.StatusOK, status{"OK"}), nil
	}
}

// pingCache is a pinger that remembers the last answer of another. It holds its lock
// while it asks, so that concurrent pings wait for the one question in flight.
type pingCache struct {
	p   pinger
	now func() time.Time

	mu    sync.Mutex
	err   error
	until time.Time
}

func newPingCache(p pinger, now func() time.Time) *pingCache { return &pingCache{p: p, now: now} }

func (c *pingCache) Ping(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now().Before(c.until) {
		return c.err
	}
	err := c.p.Ping(ctx)
	if err != nil && ctx.Err() != nil {
		return err // this caller gave up: that says nothing of the table
	}
	ttl := pingTTL
	if err != nil {
		ttl = pingFailureTTL
	}
	c.err, c.until = err, c.now().Add(ttl)
	return err
}

type status struct {
	Status string `json:"status"`
}

// PingFunction is the whole Lambda handler of the ping function, which gets two kinds
// of event: HTTP API requests for GET /ping, answered as Ping answers them, and the
// scheduled health check, which asks the table every time. The health check logs one
// line and fails the invocation when the table does not answer, so the function's
// Errors metric (and the alarm on it) sees the outage.
func PingFunction(p pinger, log *slog.Logger) func(ctx context.Context, event json.RawMessage) (any, error) {
	http := apigw.WithRequestLog(log, Ping(p, log))
	return func(ctx context.Context, event json.RawMessage) (any, error) {
		var probe struct {
			RouteKey string `json:"routeKey"`
			Version  string `json:"version"`
		}
		_ = json.Unmarshal(event, &probe) // anything that is not an HTTP event is the schedule
		if probe.Version == "2.0" && probe.RouteKey != "" {
			var req apigw.Request
			if err := json.Unmarshal(event, &req); err != nil {
				return nil, fmt.Errorf("decode HTTP API event: %w", err)
			}
			return http(ctx, req)
		}
		if err := p.Ping(ctx); err != nil {
			log.ErrorContext(ctx, "health check", "healthy", false, "error", err.Error())
			return nil, fmt.Errorf("health check: table unreachable")
		}
		log.InfoContext(ctx, "health check", "healthy", true)
		return status{"OK"}, nil
	}
}
