// Command revoke-client is the RevokeClientFunction Lambda: DELETE /account/clients/{clientId}.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(api.RevokeClient(api.Session(env.Store), env.Store))
}
