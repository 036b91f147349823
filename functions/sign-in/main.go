// Command sign-in is the SignInFunction Lambda: POST /account/signin.
package main

import (
	"context"
	"time"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.SignIn(env.Store, time.Now))
}
