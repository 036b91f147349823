// Command dashboard-leaderboards is the DashboardLeaderboardsFunction Lambda: GET /account/leaderboards, the game API's
// ListLeaderboards for the dashboard, behind its session cookie.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
	"github.com/leaderboardapi/leaderboard/pkg/quota"
)

func main() {
	ctx := context.Background()
	env := boot.Load(ctx)
	env.StartHTTP(api.ListLeaderboards(api.Limited(api.Session(env.Store), env.Quotas(), quota.Read), env.Store, env.Cursors(ctx)))
}
