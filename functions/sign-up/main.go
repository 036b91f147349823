// Command sign-up is the SignUpFunction Lambda: POST /account/signup.
package main

import (
	"context"
	"time"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.SignUp(env.Store, time.Now))
}
