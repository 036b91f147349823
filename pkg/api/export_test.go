package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
)

// PingAt is Ping on the clock now, for tests of its cache.
func PingAt(p interface{ Ping(context.Context) error }, log *slog.Logger, now func() time.Time) apigw.Handler {
	return pingFrom(newPingCache(p, now), log)
}
