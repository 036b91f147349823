package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
)

type pinger interface {
	Ping(ctx context.Context) error
}

// Ping answers GET /ping: 200 {"status":"OK"} when the table answers, else 500.
func Ping(p pinger, log *slog.Logger) apigw.Handler {
	return func(ctx context.Context, _ apigw.Request) (apigw.Response, error) {
		if err := p.Ping(ctx); err != nil {
			log.ErrorContext(ctx, "ping failed", "error", err.Error())
			return apigw.JSON(http.StatusInternalServerError, status{"NOT OK"}), nil
		}
		return apigw.JSON(http.StatusOK, status{"OK"}), nil
	}
}

type status struct {
	Status string `json:"status"`
}

// PingFunction is the whole Lambda handler of the ping function, which gets two kinds
// of event: HTTP API requests for GET /ping, and the scheduled health check. The health
// check logs one line and fails the invocation when the table does not answer, so the
// function's Errors metric (and the alarm on it) sees the outage.
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
