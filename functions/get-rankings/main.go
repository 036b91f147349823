// Command get-rankings is the GetRankingsFunction Lambda: GET /v1/leaderboard/{id}/rankings.
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
	env.StartHTTP(api.Rankings(api.Limited(api.Bearer(env.Verifier()), env.Quotas(), quota.Read), env.Store, env.Cursors(ctx)))
}
