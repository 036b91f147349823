package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/cursor"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

type teamJSON struct {
	TeamName   string `json:"teamName"`
	ID         string `json:"id"`
	CreatedAt  string `json:"createdAt"`
	ModifiedAt string `json:"modifiedAt"`
}

func newTeamJSON(t store.Team) teamJSON {
	return teamJSON{TeamName: t.Name, ID: t.ID, CreatedAt: stamp(t.CreatedAt), ModifiedAt: stamp(t.ModifiedAt)}
}

type teamCreator interface {
	CreateTeam(ctx context.Context, tenant, name string) (store.Team, error)
}

// CreateTeam answers POST /v1/team {"teamName": "..."} with 201 and the team.
func CreateTeam(authn Authenticator, teams teamCreator) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authn.Authenticate(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		var body struct {
			TeamName *string `json:"teamName"`
		}
		if err := apigw.DecodeJSON(req, &body); err != nil {
			return fail(ctx, err)
		}
		name, err := cleanName("teamName", body.TeamName)
		if err != nil {
			return fail(ctx, err)
		}
		team, err := teams.CreateTeam(ctx, tenant, name)
		if err != nil {
			return fail(ctx, err)
		}
		return apigw.JSON(http.StatusCreated, newTeamJSON(team)), nil
	}
}

type teamGetter interface {
	GetTeam(ctx context.Context, tenant, id string) (store.Team, error)
}

// GetTeam answers GET /v1/team/{id}.
func GetTeam(authn Authenticator, teams teamGetter) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authn.Authenticate(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		team, err := teams.GetTeam(ctx, tenant, req.PathParameters["id"])
		if err != nil {
			return fail(ctx, err)
		}
		return apigw.JSON(http.StatusOK, newTeamJSON(team)), nil
	}
}

type teamRenamer interface {
	RenameTeam(ctx context.Context, tenant, id, name string) (store.Team, error)
}

// UpdateTeam answers PUT /v1/team/{id} {"team": {"teamName": "..."}}. Only the name
// is the client's to change; id and timestamps are the server's, and sending them is
// an error rather than something silently ignored.
func UpdateTeam(authn Authenticator, teams teamRenamer) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authn.Authenticate(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		var body struct {
			Team *struct {
				TeamName   *string         `json:"teamName"`
				ID         json.RawMessage `json:"id"`
				CreatedAt  json.RawMessage `json:"createdAt"`
				ModifiedAt json.RawMessage `json:"modifiedAt"`
			} `json:"team"`
		}
		if err := apigw.DecodeJSON(req, &body); err != nil {
			return fail(ctx, err)
		}
		if body.Team == nil {
			return fail(ctx, apigw.Errorf(http.StatusBadRequest, "team is required"))
		}
		if body.Team.ID != nil || body.Team.CreatedAt != nil || body.Team.ModifiedAt != nil {
			return fail(ctx, apigw.Errorf(http.StatusBadRequest, "id, createdAt and modifiedAt are set by the server and cannot be changed"))
		}
		name, err := cleanName("team.teamName", body.Team.TeamName)
		if err != nil {
			return fail(ctx, err)
		}
		team, err := teams.RenameTeam(ctx, tenant, req.PathParameters["id"], name)
		if err != nil {
			return fail(ctx, err)
		}
		return apigw.JSON(http.StatusOK, newTeamJSON(team)), nil
	}
}

type teamDeleter interface {
	DeleteTeam(ctx context.Context, tenant, id string) (done bool, err error)
}

// DeleteTeam answers DELETE /v1/team/{id} with 204, taking the team off every
// leaderboard it is on. A team on more boards than one request can leave answers 202:
// it already reads as deleted and its scores are refused, and repeating the DELETE
// carries on.
func DeleteTeam(authn Authenticator, teams teamDeleter) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authn.Authenticate(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		done, err := teams.DeleteTeam(ctx, tenant, req.PathParameters["id"])
		if errors.Is(err, store.ErrUnfinished) {
			// The team reads as deleted from the first step: finishing is the client's
			// repeat, not a failure to report as a 500.
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

type teamLister interface {
	ListTeams(ctx context.Context, tenant string, limit int, after string) ([]store.Team, string, error)
}

type teamPage struct {
	Teams      []teamJSON `json:"teams"`
	NextCursor string     `json:"nextCursor,omitempty"`
}

// ListTeams answers GET /v1/teams?limit=&cursor= with the caller's teams in creation
// order, a page at a time.
func ListTeams(authn Authenticator, teams teamLister, cursors *cursor.Sealer) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authn.Authenticate(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		scope := pageScope("teams", tenant)
		limit, after, err := pageParams(req, cursors, scope)
		if err != nil {
			return fail(ctx, err)
		}
		if after != nil && !store.ValidID(string(after)) {
			return fail(ctx, cursor.ErrInvalid)
		}
		list, next, err := teams.ListTeams(ctx, tenant, limit, string(after))
		if err != nil {
			return fail(ctx, err)
		}
		page := teamPage{Teams: make([]teamJSON, 0, len(list)), NextCursor: nextCursor(cursors, scope, next)}
		for _, t := range list {
			page.Teams = append(page.Teams, newTeamJSON(t))
		}
		return apigw.JSON(http.StatusOK, page), nil
	}
}
