// Command submit-scores is the SubmitScoresFunction Lambda: POST /v1/leaderboard/{id}/scores.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
	"github.com/leaderboardapi/leaderboard/pkg/quota"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.SubmitScores(api.Limited(api.Bearer(env.Verifier()), env.Quotas(), quota.Write), env.Store))
}
