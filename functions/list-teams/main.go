// Command list-teams is the ListTeamsFunction Lambda: GET /v1/teams.
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
	env.StartHTTP(api.ListTeams(api.Limited(api.Bearer(env.Verifier()), env.Quotas(), quota.Read), env.Store, env.Cursors(ctx)))
}
