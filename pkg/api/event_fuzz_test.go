package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
)

// fuzzFunctions is every HTTP function's handler by its route key, built as the
// functions' mains build them (apigw.WithRequestLog around the handler, the real token
// and session authenticators), over s. GET /ping is the ping function's own handler,
// which takes the raw event.
func fuzzFunctions(s *fuzzStore, log *slog.Logger) map[string]any {
	bearer := api.Bearer(fuzzVerifier())
	session := api.Session(s)
	handlers := map[string]apigw.Handler{
		"GET /v1/token":                                    api.Token(s, auth.NewSigner(fuzzSigningKey, fuzzClock)),
		"POST /v1/team":                                    api.CreateTeam(bearer, s),
		"GET /v1/team/{id}":                                api.GetTeam(bearer, s),
		"PUT /v1/team/{id}":                                api.UpdateTeam(bearer, s),
		"DELETE /v1/team/{id}":                             api.DeleteTeam(bearer, s),
		"POST /v1/leaderboard":                             api.CreateLeaderboard(bearer, s),
		"GET /v1/leaderboard/{id}":                         api.GetLeaderboard(bearer, s),
		"PUT /v1/leaderboard/{id}":                         api.UpdateLeaderboard(bearer, s),
		"GET /v1/teams":                                    api.ListTeams(bearer, s, fuzzCursors),
		"GET /v1/leaderboards":                             api.ListLeaderboards(bearer, s, fuzzCursors),
		"DELETE /v1/leaderboard/{id}":                      api.DeleteLeaderboard(bearer, s),
		"POST /v1/leaderboard/{id}/teams":                  api.AddTeams(bearer, s),
		"DELETE /v1/leaderboard/{id}/teams/{teamId}":       api.RemoveTeam(bearer, s),
		"POST /v1/leaderboard/{id}/scores":                 api.SubmitScores(bearer, s),
		"GET /v1/leaderboard/{id}/rankings":                api.Rankings(bearer, s, fuzzCursors),
		"GET /v1/leaderboard/{id}/rankings/{teamId}":       api.TeamRank(bearer, s),
		"POST /account/signup":                             api.SignUp(s, fuzzClock),
		"POST /account/signin":                             api.SignIn(s, fuzzClock),
		"POST /account/signout":                            api.SignOut(s),
		"GET /account/me":                                  api.WhoAmI(s),
		"GET /account/clients":                             api.ListClients(session, s),
		"POST /account/clients":                            api.CreateClient(session, s),
		"DELETE /account/clients/{clientId}":               api.RevokeClient(session, s),
		"GET /account/leaderboards":                        api.ListLeaderboards(session, s, fuzzCursors),
		"GET /account/teams":                               api.ListTeams(session, s, fuzzCursors),
		"GET /account/leaderboards/{id}/rankings":          api.Rankings(session, s, fuzzCursors),
		"GET /account/leaderboards/{id}/rankings/{teamId}": api.TeamRank(session, s),
	}
	out := map[string]any{"GET /ping": api.PingFunction(s, log)}
	for route, h := range handlers {
		out[route] = apigw.WithRequestLog(log, h)
	}
	return out
}

// fuzzEventSeeds are the sample events of events/, their placeholders filled in with
// the fuzz targets' world, by the route key of the function each is for.
func fuzzEventSeeds(f *testing.F) map[string][][]byte {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no sample events: %v", err)
	}
	fill := strings.NewReplacer(
		"{{token}}", fuzzToken(), "{{teamId}}", fuzzTeam, "{{leaderboardId}}", fuzzBoard,
		"{{session}}", fuzzSession, "{{email}}", fuzzEmail, "{{newEmail}}", "new@example.com",
		"{{apiKey}}", fuzzCreds.APIKey, "{{clientId}}", fuzzCreds.ClientID, "{{clientSecret}}", fuzzCreds.ClientSecret,
		"{{spareClientId}}", fuzzCreds.ClientID,
	)
	seeds := map[string][][]byte{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		data = []byte(fill.Replace(string(data)))
		var probe struct{ RouteKey string }
		if err := json.Unmarshal(data, &probe); err != nil {
			f.Fatalf("%s: %v", file, err)
		}
		route := probe.RouteKey
		if strings.HasPrefix(filepath.Base(file), "ping") {
			route = "GET /ping" // the schedule's event too
		}
		seeds[route] = append(seeds[route], data)
	}
	return seeds
}

// FuzzLambdaEvent feeds a function the raw JSON event a Lambda receives, through
// aws-lambda-go's own decoding (lambda.NewHandler, as lambda.Start runs it) into
// events.APIGatewayV2HTTPRequest and on to the handler, with the real bearer-token and
// session authenticators in front of fuzzStore. An event that is not a payload 2.0
// request may fail the invocation (HTTP API never sends one); any event that decodes
// must be answered, and the answer must pass fuzzAnswer.
func FuzzLambdaEvent(f *testing.F) {
	fuzzShareDynamoDB(f)
	routes := slices.Sorted(func(yield func(string) bool) {
		for r := range fuzzFunctions(newFuzzStore(nil, nil), slog.New(slog.DiscardHandler)) {
			if !yield(r) {
				return
			}
		}
	})
	seeds := fuzzEventSeeds(f)
	for route, events := range seeds {
		i := slices.Index(routes, route)
		if i < 0 {
			continue // a function that is not an HTTP API handler of this package
		}
		for _, event := range events {
			f.Add(byte(i), event, []byte{})
			f.Add(byte(i), event, []byte{1})
		}
	}
	f.Add(byte(slices.Index(routes, "GET /v1/team/{id}")), []byte(`{"version":"2.0","routeKey":"GET /v1/team/{id}","headers":null,"pathParameters":null,"requestContext":null}`), []byte{})
	f.Add(byte(slices.Index(routes, "GET /ping")), []byte(`{"version":"2.0","routeKey":"GET /ping","rawPath":"/ping","requestContext":{"http":{"method":"GET","path":"/ping"}}}`), []byte{})
	f.Add(byte(slices.Index(routes, "GET /ping")), []byte(`{"source":"leaderboard.healthcheck"}`), []byte{})
	f.Add(byte(0), []byte(`{"version":"2.0","routeKey":5}`), []byte{})

	f.Fuzz(func(t *testing.T, function byte, event []byte, outcomes []byte) {
		var logs bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&logs, nil))
		route := routes[int(function)%len(routes)]
		h := lambda.NewHandler(fuzzFunctions(newFuzzStore(t, outcomes), log)[route])
		out, err := h.Invoke(context.Background(), event)

		var req events.APIGatewayV2HTTPRequest
		decodeErr := json.NewDecoder(bytes.NewReader(event)).Decode(&req)
		if err != nil {
			if decodeErr == nil {
				t.Fatalf("%s: the event decodes but the invocation failed: %v\nlog: %s", route, err, logs.String())
			}
			return
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("%s: result %s is not an HTTP API response: %v", route, out, err)
		}
		if route == "GET /ping" && resp.StatusCode == 0 {
			if string(out) != `{"status":"OK"}` {
				t.Fatalf("health check answered %s", out)
			}
			return
		}
		defer func() {
			if t.Failed() {
				t.Logf("%s: log: %s", route, logs.String())
			}
		}()
		fuzzAnswer(t, resp, nil)
	})
}
