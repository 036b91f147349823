// Command list-teams is the ListTeamsFunction Lambda: GET /v1/teams.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	ctx := context.Background()
	env := boot.Load(ctx)
	env.StartHTTP(api.ListTeams(api.Bearer(env.Verifier()), env.Store, env.Cursors(ctx)))
}
