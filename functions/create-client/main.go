// Command create-client is the CreateClientFunction Lambda: POST /account/clients.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.CreateClient(api.Session(env.Store), env.Store))
}
