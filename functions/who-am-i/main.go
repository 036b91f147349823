// Command who-am-i is the WhoAmIFunction Lambda: GET /account/me.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.WhoAmI(env.Store))
}
