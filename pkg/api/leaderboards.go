package api

import (
	"context"
	"net/http"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

type leaderboardJSON struct {
	Name       string   `json:"name"`
	ID         string   `json:"id"`
	Teams      []string `json:"teams"`
	CreatedAt  string   `json:"createdAt"`
	ModifiedAt string   `json:"modifiedAt"`
}

type leaderboardCreator interface {
	CreateLeaderboard(ctx context.Context, tenant, name string, teams []string) (store.Leaderboard, error)
}

// CreateLeaderboard answers POST /v1/leaderboard {"name": "...", "teams": [ids]}.
func CreateLeaderboard(v tokenVerifier, boards leaderboardCreator) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authenticate(ctx, v, req)
		if err != nil {
			return fail(ctx, err)
		}
		var body struct {
			Name  *string   `json:"name"`
			Teams *[]string `json:"teams"`
		}
		if err := apigw.DecodeJSON(req, &body); err != nil {
			return fail(ctx, err)
		}
		name, err := cleanName("name", body.Name)
		if err != nil {
			return fail(ctx, err)
		}
		if body.Teams == nil {
			return fail(ctx, apigw.Errorf(http.StatusBadRequest, "teams is required (an array of team ids, may be empty)"))
		}
		teams := distinct(*body.Teams)
		if len(teams) > store.MaxTeamsPerWrite {
			return fail(ctx, apigw.Errorf(http.StatusBadRequest, "teams may list at most %d teams per request", store.MaxTeamsPerWrite))
		}
		board, err := boards.CreateLeaderboard(ctx, tenant, name, teams)
		if err != nil {
			return fail(ctx, err)
		}
		return apigw.JSON(http.StatusCreated, leaderboardJSON{
			Name: board.Name, ID: board.ID, Teams: board.Teams,
			CreatedAt: stamp(board.CreatedAt), ModifiedAt: stamp(board.ModifiedAt),
		}), nil
	}
}

// distinct drops repeated ids, keeping first-seen order. It never returns nil, so an
// empty list stays an empty JSON array.
func distinct(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
