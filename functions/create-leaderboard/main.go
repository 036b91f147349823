// Command create-leaderboard is the CreateLeaderboardFunction Lambda: POST /v1/leaderboard.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.CreateLeaderboard(api.Bearer(env.Verifier()), env.Store))
}
