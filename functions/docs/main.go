// Command docs is the DocsFunction Lambda: GET /docs, the API reference page.
package main

import (
	"context"

	"github.com/leaderboardapi/leaderboard/pkg/apidocs"
	"github.com/leaderboardapi/leaderboard/pkg/boot"
)

func main() {
	env := boot.Load(context.Background())
	env.StartHTTP(apidocs.Docs())
}
