// Command dashboard is the DashboardFunction Lambda: GET /dashboard and its assets.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/boot"
	"github.com/leaderboardapi/leaderboard/pkg/dashboard"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(dashboard.Handler())
}
