// Command get-leaderboard is the GetLeaderboardFunction Lambda: GET /v1/leaderboard/{id}.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
	"github.com/leaderboardapi/leaderboard/pkg/quota"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.GetLeaderboard(api.Limited(api.Bearer(env.Verifier()), env.Quotas(), quota.Read), env.Store))
}
