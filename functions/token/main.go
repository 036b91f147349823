// Command token is the TokenFunction Lambda: GET /v1/token.
package main

import (
	"context"
	"time"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
	"github.com/leaderboardapi/leaderboard/pkg/quota"
	"github.com/leaderboardapi/leaderboard/pkg/signingkey"
)

func main() {
	ctx := context.Background()
	env := boot.Load(ctx)
	load, err := signingkey.FromEnv(env.AWS)
	if err != nil {
		panic(err)
	}
	key, err := load(ctx)
	if err != nil {
		panic(err)
	}
	// Verifiers find the public half in the table. Publishing a new key retires the ones
	// before it; a retired key must not sign again, so then the init fails.
	if err := env.Store.PublishSigningKey(ctx, key.Public()); err != nil {
		panic(err)
	}
	signer := auth.NewRotatingSigner(key, load, env.Store, env.Store, time.Now, env.Log)
	env.StartHTTP(api.LimitedToken(env.Store, signer, env.Quotas(), quota.NewLocal(quota.PerAddress, time.Now)))
}
