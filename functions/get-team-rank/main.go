// Command get-team-rank is the GetTeamRankFunction Lambda: GET /v1/leaderboard/{id}/rankings/{teamId}.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.TeamRank(api.Bearer(env.Verifier()), env.Store))
}
