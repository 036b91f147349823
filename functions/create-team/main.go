// Command create-team is the CreateTeamFunction Lambda: POST /v1/team.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
	"github.com/leaderboardapi/leaderboard/pkg/quota"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.CreateTeam(api.Limited(api.Bearer(env.Verifier()), env.Quotas(), quota.Write), env.Store))
}
