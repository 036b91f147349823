// Command token is the TokenFunction Lambda: GET /v1/token.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	ctx := context.Background()
	env := boot.Load(ctx)
	key, err := signingKey(ctx, env)
	if err != nil {
		panic(err)
	}
	if err := env.Store.PublishSigningKey(ctx, key.Public()); err != nil {
		panic(err)
	}
	env.StartHTTP(api.Token(env.Store, auth.NewSigner(key, time.Now)))
}

// signingKey comes from Secrets Manager in AWS, or from a local seed file (make invoke).
func signingKey(ctx context.Context, env boot.Env) (auth.SigningKey, error) {
	if path := os.Getenv("SIGNING_KEY_FILE"); path != "" {
		return auth.KeyFromFile(path)
	}
	return auth.KeyFromSecret(ctx, secretsmanager.NewFromConfig(env.AWS), boot.Require("SIGNING_KEY_SECRET_ARN"))
}
