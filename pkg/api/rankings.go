package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/cursor"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

type rankedJSON struct {
	Rank      int64  `json:"rank"`
	TeamID    string `json:"teamId"`
	TeamName  string `json:"teamName"`
	Score     int64  `json:"score"`
	UpdatedAt string `json:"updatedAt"`
}

func newRankedJSON(r store.Ranked) rankedJSON {
	return rankedJSON{Rank: r.Rank, TeamID: r.TeamID, TeamName: r.TeamName, Score: r.Score, UpdatedAt: stamp(r.UpdatedAt)}
}

func rankedList(rs []store.Ranked) []rankedJSON {
	out := make([]rankedJSON, len(rs))
	for i, r := range rs {
		out[i] = newRankedJSON(r)
	}
	return out
}

type rankingsReader interface {
	Rankings(ctx context.Context, tenant, board string, limit int, after string) ([]store.Ranked, string, error)
}

// Rankings answers GET /v1/leaderboard/{id}/rankings?limit=&cursor= with the scored
// teams in rank order, a page at a time.
func Rankings(authn Authenticator, boards rankingsReader, cursors *cursor.Sealer) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authn.Authenticate(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		board := req.PathParameters["id"]
		scope := pageScope("rankings", tenant, board)
		limit, after, err := pageParams(req, cursors, scope)
		if err != nil {
			return fail(ctx, err)
		}
		page, next, err := boards.Rankings(ctx, tenant, board, limit, string(after))
		if err != nil {
			return fail(ctx, err)
		}
		return apigw.JSON(http.StatusOK, struct {
			Rankings   []rankedJSON `json:"rankings"`
			NextCursor string       `json:"nextCursor,omitempty"`
		}{rankedList(page), nextCursor(cursors, scope, next)}), nil
	}
}

type teamRanker interface {
	TeamRank(ctx context.Context, tenant, board, team string, around int) (store.Ranked, []store.Ranked, error)
}

// TeamRank answers GET /v1/leaderboard/{id}/rankings/{teamId}?around=N with the team's
// exact rank and up to N (0 to 50, default 0) entries on each side.
func TeamRank(authn Authenticator, boards teamRanker) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authn.Authenticate(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		around := 0
		if raw, ok := req.QueryStringParameters["around"]; ok {
			n, err := strconv.Atoi(raw)
			if err != nil || strings.Trim(raw, "0123456789") != "" || n > store.MaxAround {
				return fail(ctx, apigw.Errorf(http.StatusBadRequest, "around must be an integer from 0 to %d", store.MaxAround))
			}
			around = n
		}
		entry, neighbours, err := boards.TeamRank(ctx, tenant, req.PathParameters["id"], req.PathParameters["teamId"], around)
		if err != nil {
			return fail(ctx, err)
		}
		return apigw.JSON(http.StatusOK, struct {
			Entry  rankedJSON   `json:"entry"`
			Around []rankedJSON `json:"around"`
		}{newRankedJSON(entry), rankedList(neighbours)}), nil
	}
}
