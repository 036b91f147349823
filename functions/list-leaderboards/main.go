// Command list-leaderboards is the ListLeaderboardsFunction Lambda: GET /v1/leaderboards.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	ctx := context.Background()
	env := boot.Load(ctx)
	env.StartHTTP(api.ListLeaderboards(api.Bearer(env.Verifier()), env.Store, env.Cursors(ctx)))
}
