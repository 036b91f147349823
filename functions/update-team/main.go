// Command update-team is the UpdateTeamFunction Lambda: PUT /v1/team/{id}.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
	"github.com/leaderboardapi/leaderboard/pkg/quota"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.UpdateTeam(api.Limited(api.Bearer(env.Verifier()), env.Quotas(), quota.Write), env.Store))
}
