// Command get-rankings is the GetRankingsFunction Lambda: GET /v1/leaderboard/{id}/rankings.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	ctx := context.Background()
	env := boot.Load(ctx)
	env.StartHTTP(api.Rankings(api.Bearer(env.Verifier()), env.Store, env.Cursors(ctx)))
}
