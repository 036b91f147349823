// Command submit-scores is the SubmitScoresFunction Lambda: POST /v1/leaderboard/{id}/scores.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.SubmitScores(api.Bearer(env.Verifier()), env.Store))
}
