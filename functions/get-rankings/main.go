// Command get-rankings is the GetRankingsFunction Lambda: GET /v1/leaderboard/{id}/rankings.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
	"github.com/leaderboardapi/leaderboard/pkg/cursor"
)

func main() {
	ctx := context.Background()
	env := boot.Load(ctx)
	key, err := env.Store.CursorKey(ctx) // created on the very first cold start
	if err != nil {
		panic(err)
	}
	env.StartHTTP(api.Rankings(env.Verifier(), env.Store, cursor.New(key)))
}
