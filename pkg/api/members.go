package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

type teamAdder interface {
	AddTeams(ctx context.Context, tenant, board string, teams []string) error
}

// AddTeams answers POST /v1/leaderboard/{id}/teams {"teams":[ids]}, up to
// store.MaxTeamsPerWrite distinct ids, with 204: the teams are members afterwards (those
// that already were stay as they are). Unknown teams are a 400 that adds none. A failure
// half-way is an error, never 204, and may leave some of the teams added: the same
// request again finishes the job.
func AddTeams(authn Authenticator, boards teamAdder) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authn.Authenticate(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		var body struct {
			Teams *[]string `json:"teams"`
		}
		if err := apigw.DecodeJSON(req, &body); err != nil {
			return fail(ctx, err)
		}
		teams, err := teamIDs(body.Teams)
		if err != nil {
			return fail(ctx, err)
		}
		if len(teams) == 0 {
			return fail(ctx, apigw.Errorf(http.StatusBadRequest, "teams must name at least one team"))
		}
		if err := boards.AddTeams(ctx, tenant, req.PathParameters["id"], teams); err != nil {
			return fail(ctx, err)
		}
		return apigw.JSON(http.StatusNoContent, nil), nil
	}
}

type teamRemover interface {
	RemoveTeam(ctx context.Context, tenant, board, team string) error
}

// RemoveTeam answers DELETE /v1/leaderboard/{id}/teams/{teamId} with 204; the team's
// score leaves the rankings.
func RemoveTeam(authn Authenticator, boards teamRemover) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authn.Authenticate(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		if err := boards.RemoveTeam(ctx, tenant, req.PathParameters["id"], req.PathParameters["teamId"]); err != nil {
			return fail(ctx, err)
		}
		return apigw.JSON(http.StatusNoContent, nil), nil
	}
}

type leaderboardDeleter interface {
	DeleteLeaderboard(ctx context.Context, tenant, board string) (done bool, err error)
}

// DeleteLeaderboard answers DELETE /v1/leaderboard/{id} with 204 once the board and
// all its entries are gone, or 202 if the board was too big to clear within one
// request: it already reads as deleted, and repeating the DELETE carries on.
func DeleteLeaderboard(authn Authenticator, boards leaderboardDeleter) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authn.Authenticate(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		done, err := boards.DeleteLeaderboard(ctx, tenant, req.PathParameters["id"])
		if errors.Is(err, store.ErrUnfinished) {
			// The board reads as deleted once marked: a sweep that failed half-way is
			// finished by the client's repeat, not reported as a 500.
			logCause(ctx, err)
			return apigw.Message(http.StatusAccepted, "deletion in progress: repeat the DELETE to finish it"), nil
		}
		if err != nil {
			return fail(ctx, err)
		}
		if !done {
			return apigw.Message(http.StatusAccepted, "deletion in progress: repeat the DELETE to finish it"), nil
		}
		return apigw.JSON(http.StatusNoContent, nil), nil
	}
}
