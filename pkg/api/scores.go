package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// maxBatch is the most submissions one request may carry.
const maxBatch = 100

// maxIdempotencyKey is the longest Idempotency-Key accepted.
const maxIdempotencyKey = 255

type scoreSubmitter interface {
	SubmitScores(ctx context.Context, tenant, board string, subs []store.Submission, idempotencyKey string) ([]store.Ranked, error)
}

type submissionJSON struct {
	TeamID   *string         `json:"teamId"`
	Score    json.RawMessage `json:"score"`
	Operator *string         `json:"operator"`
}

type scoreResultJSON struct {
	TeamID string `json:"teamId"`
	Score  int64  `json:"score"`
	Rank   int64  `json:"rank"`
}

// SubmitScores answers POST /v1/leaderboard/{id}/scores: one submission
// {"teamId","score","operator"?} answered as {"teamId","score","rank"}, or a batch
// {"scores":[...]} of up to 100 answered as {"scores":[...]}, in order. An
// Idempotency-Key header makes a retry return the first answer without applying twice.
func SubmitScores(authn Authenticator, scores scoreSubmitter) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authn.Authenticate(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		var body struct {
			submissionJSON
			Scores *[]submissionJSON `json:"scores"`
		}
		if err := apigw.DecodeJSON(req, &body); err != nil {
			return fail(ctx, err)
		}
		single := body.Scores == nil
		raw := []submissionJSON{body.submissionJSON}
		switch {
		case !single && (body.TeamID != nil || body.Score != nil || body.Operator != nil):
			return fail(ctx, apigw.Errorf(http.StatusBadRequest, "send either teamId and score, or scores, not both"))
		case !single && (len(*body.Scores) == 0 || len(*body.Scores) > maxBatch):
			return fail(ctx, apigw.Errorf(http.StatusBadRequest, "scores must hold 1 to %d submissions", maxBatch))
		case !single:
			raw = *body.Scores
		}
		subs := make([]store.Submission, len(raw))
		for i, r := range raw {
			field := func(name string) string {
				if single {
					return name
				}
				return "scores[" + strconv.Itoa(i) + "]." + name
			}
			if r.TeamID == nil || *r.TeamID == "" {
				return fail(ctx, apigw.Errorf(http.StatusBadRequest, "%s is required", field("teamId")))
			}
			score, err := parseScore(field("score"), r.Score)
			if err != nil {
				return fail(ctx, err)
			}
			op := ""
			if r.Operator != nil {
				op = *r.Operator
				if op != store.OperatorBest && op != store.OperatorSet && op != store.OperatorIncrement {
					return fail(ctx, apigw.Errorf(http.StatusBadRequest, `%s must be "best", "set" or "increment"`, field("operator")))
				}
			}
			subs[i] = store.Submission{TeamID: *r.TeamID, Score: score, Operator: op}
		}
		key := apigw.Header(req, "idempotency-key")
		if len(key) > maxIdempotencyKey || strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			return fail(ctx, apigw.Errorf(http.StatusBadRequest, "Idempotency-Key must be 1 to %d visible ASCII characters", maxIdempotencyKey))
		}
		results, err := scores.SubmitScores(ctx, tenant, req.PathParameters["id"], subs, key)
		if err != nil {
			return fail(ctx, err)
		}
		out := make([]scoreResultJSON, len(results))
		for i, r := range results {
			out[i] = scoreResultJSON{TeamID: r.TeamID, Score: r.Score, Rank: r.Rank}
		}
		if single {
			return apigw.JSON(http.StatusOK, out[0]), nil
		}
		return apigw.JSON(http.StatusOK, struct {
			Scores []scoreResultJSON `json:"scores"`
		}{out}), nil
	}
}
