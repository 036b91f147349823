// Command update-leaderboard is the UpdateLeaderboardFunction Lambda: PUT /v1/leaderboard/{id}.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
	"github.com/leaderboardapi/leaderboard/pkg/quota"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.UpdateLeaderboard(api.Limited(api.Bearer(env.Verifier()), env.Quotas(), quota.Write), env.Store))
}
