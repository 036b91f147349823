// Command get-team-rank is the GetTeamRankFunction Lambda: GET /v1/leaderboard/{id}/rankings/{teamId}.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
	"github.com/leaderboardapi/leaderboard/pkg/quota"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.TeamRank(api.Limited(api.Bearer(env.Verifier()), env.Quotas(), quota.Read), env.Store))
}
