// Command open-api is the OpenAPIFunction Lambda: GET /openapi.json, the API's contract.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard"
	"github.com/leaderboardapi/leaderboard/pkg/apidocs"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(apidocs.OpenAPI(leaderboard.OpenAPI))
}
