package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/cursor"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// The settings a leaderboard may be created with; the first of each is the default.
var (
	sortOrders     = []string{store.SortDescending, store.SortAscending}
	scoreOperators = []string{store.OperatorBest, store.OperatorSet, store.OperatorIncrement}
	rankModes      = []string{store.RankOrdinal, store.RankCompetition}
)

// DefaultLeaderboardName is the name of a leaderboard created without one, as the
// seed's body ({"teams": [...]} alone) creates it.
const DefaultLeaderboardName = "Untitled leaderboard"

type leaderboardJSON struct {
	Name          string    `json:"name"`
	ID            string    `json:"id"`
	SortOrder     string    `json:"sortOrder"`
	ScoreOperator string    `json:"scoreOperator"`
	RankMode      string    `json:"rankMode"`
	MinScore      *int64    `json:"minScore,omitempty"`
	MaxScore      *int64    `json:"maxScore,omitempty"`
	TeamCount     int       `json:"teamCount"`
	Teams         *[]string `json:"teams,omitempty"` // only in the answer to a create
	CreatedAt     string    `json:"createdAt"`
	ModifiedAt    string    `json:"modifiedAt"`
}

func newLeaderboardJSON(b store.Leaderboard) leaderboardJSON {
	return leaderboardJSON{
		Name: b.Name, ID: b.ID,
		SortOrder: b.Settings.SortOrder, ScoreOperator: b.Settings.ScoreOperator, RankMode: b.Settings.RankMode,
		MinScore: b.Settings.MinScore, MaxScore: b.Settings.MaxScore,
		TeamCount: b.MemberCount,
		CreatedAt: stamp(b.CreatedAt), ModifiedAt: stamp(b.ModifiedAt),
	}
}

type leaderboardCreator interface {
	CreateLeaderboard(ctx context.Context, tenant, name string, settings store.Settings, teams []string) (store.Leaderboard, error)
}

// CreateLeaderboard answers POST /v1/leaderboard {"name": "...", "teams": [ids]} with
// optional settings beside them: sortOrder, scoreOperator, rankMode, minScore, maxScore.
// Without a name (or with null) the board is named DefaultLeaderboardName; a name given
// must be a valid one. teams may hold up to store.MaxTeamsPerWrite distinct ids; they
// all become members, or none does (see store.CreateLeaderboard).
func CreateLeaderboard(authn Authenticator, boards leaderboardCreator) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authn.Authenticate(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		var body struct {
			Name          *string         `json:"name"`
			Teams         *[]string       `json:"teams"`
			SortOrder     *string         `json:"sortOrder"`
			ScoreOperator *string         `json:"scoreOperator"`
			RankMode      *string         `json:"rankMode"`
			MinScore      json.RawMessage `json:"minScore"`
			MaxScore      json.RawMessage `json:"maxScore"`
		}
		if err := apigw.DecodeJSON(req, &body); err != nil {
			return fail(ctx, err)
		}
		name := DefaultLeaderboardName
		if body.Name != nil {
			if name, err = cleanName("name", body.Name); err != nil {
				return fail(ctx, err)
			}
		}
		teams, err := teamIDs(body.Teams)
		if err != nil {
			return fail(ctx, err)
		}
		var settings store.Settings
		for _, s := range []struct {
			field   string
			value   *string
			allowed []string
			dst     *string
		}{
			{"sortOrder", body.SortOrder, sortOrders, &settings.SortOrder},
			{"scoreOperator", body.ScoreOperator, scoreOperators, &settings.ScoreOperator},
			{"rankMode", body.RankMode, rankModes, &settings.RankMode},
		} {
			if *s.dst, err = oneOf(s.field, s.value, s.allowed); err != nil {
				return fail(ctx, err)
			}
		}
		if settings.MinScore, err = optionalScore("minScore", body.MinScore); err != nil {
			return fail(ctx, err)
		}
		if settings.MaxScore, err = optionalScore("maxScore", body.MaxScore); err != nil {
			return fail(ctx, err)
		}
		if settings.MinScore != nil && settings.MaxScore != nil && *settings.MinScore > *settings.MaxScore {
			return fail(ctx, apigw.Errorf(http.StatusBadRequest, "minScore must not be greater than maxScore"))
		}
		board, err := boards.CreateLeaderboard(ctx, tenant, name, settings, teams)
		if err != nil {
			return fail(ctx, err)
		}
		out := newLeaderboardJSON(board)
		out.Teams = &board.Teams
		return apigw.JSON(http.StatusCreated, out), nil
	}
}

// oneOf returns the value of an enumerated setting, or its default (allowed[0]) when
// it is absent.
func oneOf(field string, value *string, allowed []string) (string, error) {
	if value == nil {
		return allowed[0], nil
	}
	if !slices.Contains(allowed, *value) {
		return "", apigw.Errorf(http.StatusBadRequest, "%s must be one of: %s", field, strings.Join(allowed, ", "))
	}
	return *value, nil
}

// optionalScore reads a score bound that may be left out (nil).
func optionalScore(field string, n json.RawMessage) (*int64, error) {
	if n == nil || string(n) == "null" {
		return nil, nil
	}
	v, err := parseScore(field, n)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// teamIDs checks a request's "teams": present (an empty array is fine), at most
// store.MaxTeamsPerWrite distinct ids (the 64 KiB body holds about 2,200 ids, so the
// bound only refuses what a client could not mean). Repeats are dropped, keeping
// first-seen order, and the result is never nil, so an empty list stays an empty JSON
// array.
func teamIDs(teams *[]string) ([]string, error) {
	if teams == nil {
		return nil, apigw.Errorf(http.StatusBadRequest, "teams is required (an array of team ids, may be empty)")
	}
	seen := make(map[string]bool, len(*teams))
	out := make([]string, 0, len(*teams))
	for _, id := range *teams {
		if id == "" {
			// Also what a null decodes to: a message that names nothing would not help.
			return nil, apigw.Errorf(http.StatusBadRequest, "teams must hold team ids, not empty strings or nulls")
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if len(out) > store.MaxTeamsPerWrite {
		return nil, apigw.Errorf(http.StatusBadRequest, "teams may list at most %d teams per request", store.MaxTeamsPerWrite)
	}
	return out, nil
}

type leaderboardGetter interface {
	GetLeaderboard(ctx context.Context, tenant, id string) (store.Leaderboard, error)
}

// GetLeaderboard answers GET /v1/leaderboard/{id}.
func GetLeaderboard(authn Authenticator, boards leaderboardGetter) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authn.Authenticate(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		board, err := boards.GetLeaderboard(ctx, tenant, req.PathParameters["id"])
		if err != nil {
			return fail(ctx, err)
		}
		return apigw.JSON(http.StatusOK, newLeaderboardJSON(board)), nil
	}
}

type leaderboardRenamer interface {
	RenameLeaderboard(ctx context.Context, tenant, id, name string) (store.Leaderboard, error)
}

// UpdateLeaderboard answers PUT /v1/leaderboard/{id} {"leaderboard": {"name": "..."}}.
// Only the name can change: the settings rank scores already posted, and the other
// fields are the server's. Sending any of them is an error, never silently ignored.
func UpdateLeaderboard(authn Authenticator, boards leaderboardRenamer) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authn.Authenticate(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		var body struct {
			Leaderboard *struct {
				Name          *string         `json:"name"`
				SortOrder     json.RawMessage `json:"sortOrder"`
				ScoreOperator json.RawMessage `json:"scoreOperator"`
				RankMode      json.RawMessage `json:"rankMode"`
				MinScore      json.RawMessage `json:"minScore"`
				MaxScore      json.RawMessage `json:"maxScore"`
				ID            json.RawMessage `json:"id"`
				TeamCount     json.RawMessage `json:"teamCount"`
				Teams         json.RawMessage `json:"teams"`
				CreatedAt     json.RawMessage `json:"createdAt"`
				ModifiedAt    json.RawMessage `json:"modifiedAt"`
			} `json:"leaderboard"`
		}
		if err := apigw.DecodeJSON(req, &body); err != nil {
			return fail(ctx, err)
		}
		b := body.Leaderboard
		if b == nil {
			return fail(ctx, apigw.Errorf(http.StatusBadRequest, "leaderboard is required"))
		}
		if b.SortOrder != nil || b.ScoreOperator != nil || b.RankMode != nil || b.MinScore != nil || b.MaxScore != nil {
			return fail(ctx, apigw.Errorf(http.StatusBadRequest, "sortOrder, scoreOperator, rankMode, minScore and maxScore cannot be changed after creation"))
		}
		if b.ID != nil || b.TeamCount != nil || b.Teams != nil || b.CreatedAt != nil || b.ModifiedAt != nil {
			return fail(ctx, apigw.Errorf(http.StatusBadRequest, "id, teamCount, teams, createdAt and modifiedAt cannot be changed here"))
		}
		name, err := cleanName("leaderboard.name", b.Name)
		if err != nil {
			return fail(ctx, err)
		}
		board, err := boards.RenameLeaderboard(ctx, tenant, req.PathParameters["id"], name)
		if err != nil {
			return fail(ctx, err)
		}
		return apigw.JSON(http.StatusOK, newLeaderboardJSON(board)), nil
	}
}

type leaderboardLister interface {
	ListLeaderboards(ctx context.Context, tenant string, limit int, after string) ([]store.Leaderboard, string, error)
}

type leaderboardPage struct {
	Leaderboards []leaderboardJSON `json:"leaderboards"`
	NextCursor   string            `json:"nextCursor,omitempty"`
}

// ListLeaderboards answers GET /v1/leaderboards?limit=&cursor= with the caller's
// leaderboards in creation order, a page at a time.
func ListLeaderboards(authn Authenticator, boards leaderboardLister, cursors *cursor.Sealer) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authn.Authenticate(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		scope := pageScope("leaderboards", tenant)
		limit, after, err := pageParams(req, cursors, scope)
		if err != nil {
			return fail(ctx, err)
		}
		if after != nil && !store.ValidID(string(after)) {
			return fail(ctx, cursor.ErrInvalid)
		}
		list, next, err := boards.ListLeaderboards(ctx, tenant, limit, string(after))
		if err != nil {
			return fail(ctx, err)
		}
		page := leaderboardPage{Leaderboards: make([]leaderboardJSON, 0, len(list)), NextCursor: nextCursor(cursors, scope, next)}
		for _, b := range list {
			page.Leaderboards = append(page.Leaderboards, newLeaderboardJSON(b))
		}
		return apigw.JSON(http.StatusOK, page), nil
	}
}
