// Command dashboard-rankings is the DashboardRankingsFunction Lambda: GET /account/leaderboards/{id}/rankings, the game API's
// Rankings for the dashboard, behind its session cookie.
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
	env.StartHTTP(api.Rankings(api.Limited(api.Session(env.Store), env.Quotas(), quota.Read), env.Store, env.Cursors(ctx)))
}
