// Command ping is the PingFunction Lambda: GET /ping and the scheduled health check.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	env := boot.Load(context.Background())
	lambda.Start(api.PingFunction(env.Store, env.Log))
}
