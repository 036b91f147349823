// Command check-boards is the CheckBoardsFunction Lambda: the scheduled check of a
// sample of recently written leaderboards (package boardcheck).
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leaderboardapi/leaderboard/pkg/boardcheck"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	env := boot.Load(context.Background())
	lambda.Start(boardcheck.Scheduled(env.Store, env.Log, time.Now))
}
