// Command create-leaderboard is the CreateLeaderboardFunction Lambda: POST /v1/leaderboard.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
	"github.com/leaderboardapi/leaderboard/pkg/quota"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.CreateLeaderboard(api.Limited(api.Bearer(env.Verifier()), env.Quotas(), quota.Write), env.Store))
}
