// Command dashboard-teams is the DashboardTeamsFunction Lambda: GET /account/teams, the game API's
// ListTeams for the dashboard, behind its session cookie.
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
	env.StartHTTP(api.ListTeams(api.Limited(api.Session(env.Store), env.Quotas(), quota.Read), env.Store, env.Cursors(ctx)))
}
