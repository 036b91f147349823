// Command dashboard-team-rank is the DashboardTeamRankFunction Lambda:
// GET /account/leaderboards/{id}/rankings/{teamId}, the game API's TeamRank for the
// dashboard, behind its session cookie.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
	"github.com/leaderboardapi/leaderboard/pkg/quota"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.TeamRank(api.Limited(api.Session(env.Store), env.Quotas(), quota.Read), env.Store))
}
