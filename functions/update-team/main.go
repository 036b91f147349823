// Command update-team is the UpdateTeamFunction Lambda: PUT /v1/team/{id}.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.UpdateTeam(api.Bearer(env.Verifier()), env.Store))
}
