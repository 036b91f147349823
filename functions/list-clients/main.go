// Command list-clients is the ListClientsFunction Lambda: GET /account/clients.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.ListClients(api.Session(env.Store), env.Store))
}
