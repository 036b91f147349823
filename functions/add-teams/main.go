// Command add-teams is the AddTeamsFunction Lambda: POST /v1/leaderboard/{id}/teams.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.AddTeams(api.Bearer(env.Verifier()), env.Store))
}
