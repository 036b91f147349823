// Command list-leaderboards is the ListLeaderboardsFunction Lambda: GET /v1/leaderboards.
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
	env.StartHTTP(api.ListLeaderboards(api.Limited(api.Bearer(env.Verifier()), env.Quotas(), quota.Read), env.Store, env.Cursors(ctx)))
}
