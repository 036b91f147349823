// Command create-team is the CreateTeamFunction Lambda: POST /v1/team.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.CreateTeam(api.Bearer(env.Verifier()), env.Store))
}
