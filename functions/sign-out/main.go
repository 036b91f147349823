// Command sign-out is the SignOutFunction Lambda: POST /account/signout.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.SignOut(env.Store))
}
