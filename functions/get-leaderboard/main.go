// Command get-leaderboard is the GetLeaderboardFunction Lambda: GET /v1/leaderboard/{id}.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.GetLeaderboard(api.Bearer(env.Verifier()), env.Store))
}
