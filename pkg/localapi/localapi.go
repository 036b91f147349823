// Package localapi assembles the whole API in one process for local development and
// end-to-end tests: every HttpApi route in template.yaml, served by the same handler its
// Lambda function runs, behind the local stand-in for API Gateway.
package localapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/leaderboardapi/leaderboard"
	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/apidocs"
	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/cursor"
	"github.com/leaderboardapi/leaderboard/pkg/dashboard"
	"github.com/leaderboardapi/leaderboard/pkg/gateway"
	"github.com/leaderboardapi/leaderboard/pkg/quota"
	"github.com/leaderboardapi/leaderboard/pkg/samtemplate"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// Handlers returns each HTTP function's handler by its logical ID in template.yaml,
// built exactly as the function's main builds it. cursors seals the list endpoints'
// pagination cursors; the functions' mains build it from s.CursorKey at cold start.
func Handlers(s *store.Store, key auth.SigningKey, cursors *cursor.Sealer, log *slog.Logger) map[string]apigw.Handler {
	// Each function's main builds its own limiter; here they share one, as one instance.
	quotas := quota.NewLimiter(s, quota.Defaults, time.Now)
	bearer := api.Bearer(auth.NewVerifier(s, time.Now))
	read, write := api.Limited(bearer, quotas, quota.Read), api.Limited(bearer, quotas, quota.Write)
	session := api.Session(s)
	sessionRead := api.Limited(session, quotas, quota.Read)
	// Its source is the key it was given, as a token function's whose secret has not
	// changed: a key retired under it caps its tokens, then the endpoint answers 503.
	same := func(context.Context) (auth.SigningKey, error) { return key, nil }
	signer := auth.NewRotatingSigner(key, same, s, s, time.Now, log)
	return map[string]apigw.Handler{
		"PingFunction":              api.Ping(s, log),
		"TokenFunction":             api.LimitedToken(s, signer, quotas, quota.NewLocal(quota.PerAddress, time.Now)),
		"CreateTeamFunction":        api.CreateTeam(write, s),
		"GetTeamFunction":           api.GetTeam(read, s),
		"UpdateTeamFunction":        api.UpdateTeam(write, s),
		"DeleteTeamFunction":        api.DeleteTeam(write, s),
		"CreateLeaderboardFunction": api.CreateLeaderboard(write, s),
		"GetLeaderboardFunction":    api.GetLeaderboard(read, s),
		"UpdateLeaderboardFunction": api.UpdateLeaderboard(write, s),
		"ListTeamsFunction":         api.ListTeams(read, s, cursors),
		"ListLeaderboardsFunction":  api.ListLeaderboards(read, s, cursors),
		"DeleteLeaderboardFunction": api.DeleteLeaderboard(write, s),
		"AddTeamsFunction":          api.AddTeams(write, s),
		"RemoveTeamFunction":        api.RemoveTeam(write, s),
		"SubmitScoresFunction":      api.SubmitScores(write, s),
		"GetRankingsFunction":       api.Rankings(read, s, cursors),
		"GetTeamRankFunction":       api.TeamRank(read, s),

		"SignUpFunction":                api.SignUp(s, time.Now),
		"SignInFunction":                api.SignIn(s, time.Now),
		"SignOutFunction":               api.SignOut(s),
		"WhoAmIFunction":                api.WhoAmI(s),
		"ListClientsFunction":           api.ListClients(session, s),
		"CreateClientFunction":          api.CreateClient(session, s),
		"RevokeClientFunction":          api.RevokeClient(session, s),
		"DashboardFunction":             dashboard.Handler(),
		"DashboardLeaderboardsFunction": api.ListLeaderboards(sessionRead, s, cursors),
		"DashboardTeamsFunction":        api.ListTeams(sessionRead, s, cursors),
		"DashboardRankingsFunction":     api.Rankings(sessionRead, s, cursors),
		"DashboardTeamRankFunction":     api.TeamRank(sessionRead, s),
		"OpenAPIFunction":               apidocs.OpenAPI(leaderboard.OpenAPI),
		"DocsFunction":                  apidocs.Docs(),
	}
}

// Routes pairs every HttpApi route of the template with its function's handler. It
// fails if a route's function has no handler, or a handler has no route, so the local
// server cannot drift from the template.
func Routes(tmpl *samtemplate.Template, handlers map[string]apigw.Handler, log *slog.Logger) ([]gateway.Route, error) {
	var routes []gateway.Route
	used := map[string]bool{}
	for _, r := range tmpl.HTTPRoutes() {
		h, ok := handlers[r.FunctionID]
		if !ok {
			return nil, fmt.Errorf("route %s: function %s has no local handler", r.RouteKey(), r.FunctionID)
		}
		used[r.FunctionID] = true
		routes = append(routes, gateway.Route{Method: r.Method, Path: r.Path, Handler: apigw.WithRequestLog(log, h)})
	}
	var unused []string
	for id := range handlers {
		if !used[id] {
			unused = append(unused, id)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		return nil, fmt.Errorf("functions with a local handler but no HttpApi route in the template: %v", unused)
	}
	return routes, nil
}

// New returns the local API as an http.Handler.
func New(tmpl *samtemplate.Template, s *store.Store, key auth.SigningKey, cursors *cursor.Sealer, log *slog.Logger) (http.Handler, error) {
	routes, err := Routes(tmpl, Handlers(s, key, cursors, log), log)
	if err != nil {
		return nil, err
	}
	return gateway.New(routes, gateway.Options{Logger: log})
}
