package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/internal/testdb"
	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/cursor"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// fixture is one API over a fresh table, with two tenants' credentials.
type fixture struct {
	t        *testing.T
	store    *store.Store
	log      *bytes.Buffer
	key      auth.SigningKey
	handlers map[string]apigw.Handler
	credsA   auth.Credentials
	credsB   auth.Credentials
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	client, table := testdb.Table(t)
	s := store.New(client, table, time.Now)
	key, err := auth.KeyFromSeed([]byte(strings.Repeat("k", 64)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.PublishSigningKey(ctx, key.Public()); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: s, log: &bytes.Buffer{}, key: key, credsA: auth.NewCredentials(), credsB: auth.NewCredentials()}
	for _, c := range []auth.Credentials{f.credsA, f.credsB} {
		if _, err := s.CreateTenant(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewJSONHandler(f.log, nil))
	same := func(context.Context) (auth.SigningKey, error) { return key, nil } // a secret never rotated
	v := api.Bearer(auth.NewVerifier(s, time.Now))
	cursorKey, err := s.CursorKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cursors := cursor.New(cursorKey)
	f.handlers = map[string]apigw.Handler{
		"GET /ping":            api.Ping(s, log),
		"GET /v1/token":        api.Token(s, auth.NewRotatingSigner(key, same, s, s, time.Now, log)),
		"POST /v1/team":        api.CreateTeam(v, s),
		"GET /v1/team/{id}":    api.GetTeam(v, s),
		"PUT /v1/team/{id}":    api.UpdateTeam(v, s),
		"DELETE /v1/team/{id}": api.DeleteTeam(v, s),
		"POST /v1/leaderboard": api.CreateLeaderboard(v, s),
	}
	f.handlers["GET /v1/leaderboard/{id}"] = api.GetLeaderboard(v, s)
	f.handlers["PUT /v1/leaderboard/{id}"] = api.UpdateLeaderboard(v, s)
	f.handlers["GET /v1/teams"] = api.ListTeams(v, s, cursors)
	f.handlers["GET /v1/leaderboards"] = api.ListLeaderboards(v, s, cursors)
	f.handlers["DELETE /v1/leaderboard/{id}"] = api.DeleteLeaderboard(v, s)
	f.handlers["POST /v1/leaderboard/{id}/teams"] = api.AddTeams(v, s)
	f.handlers["DELETE /v1/leaderboard/{id}/teams/{teamId}"] = api.RemoveTeam(v, s)
	f.handlers["POST /v1/leaderboard/{id}/scores"] = api.SubmitScores(v, s)
	f.handlers["GET /v1/leaderboard/{id}/rankings"] = api.Rankings(v, s, cursors)
	f.handlers["GET /v1/leaderboard/{id}/rankings/{teamId}"] = api.TeamRank(v, s)
	for route, h := range f.handlers {
		f.handlers[route] = apigw.WithRequestLog(log, h)
	}
	return f
}

type response struct {
	status  int
	headers map[string]string
	body    string
	json    map[string]any
}

// call sends an HTTP API payload 2.0 event for route to its handler.
func (f *fixture) call(route, id string, headers map[string]string, body string) response {
	f.t.Helper()
	method, path, _ := strings.Cut(route, " ")
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: route, RawPath: strings.Replace(path, "{id}", id, 1),
		Headers: headers, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "test-request", RouteKey: route,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: strings.Replace(path, "{id}", id, 1)},
		},
	}
	if id != "" {
		req.PathParameters = map[string]string{"id": id}
	}
	resp, err := f.handlers[route](context.Background(), req)
	if err != nil {
		f.t.Fatalf("%s: handler error %v", route, err)
	}
	r := response{status: resp.StatusCode, headers: resp.Headers, body: resp.Body}
	if resp.Headers["Content-Type"] != "application/json" {
		f.t.Errorf("%s: Content-Type = %q", route, resp.Headers["Content-Type"])
	}
	if resp.Body != "" {
		if err := json.Unmarshal([]byte(resp.Body), &r.json); err != nil {
			f.t.Fatalf("%s: body %q is not a JSON object: %v", route, resp.Body, err)
		}
	}
	return r
}

func credHeaders(c auth.Credentials) map[string]string {
	return map[string]string{"x-api-key": c.APIKey, "x-client-id": c.ClientID, "x-client-secret": c.ClientSecret}
}

func (f *fixture) token(c auth.Credentials) string {
	f.t.Helper()
	r := f.call("GET /v1/token", "", credHeaders(c), "")
	if r.status != 200 {
		f.t.Fatalf("token: %d %s", r.status, r.body)
	}
	return r.json["authToken"].(string)
}

func bearer(token string) map[string]string {
	return map[string]string{"authorization": "Bearer " + token}
}

func (f *fixture) createTeam(token, name string) string {
	f.t.Helper()
	r := f.call("POST /v1/team", "", bearer(token), `{"teamName":`+mustJSON(name)+`}`)
	if r.status != 201 {
		f.t.Fatalf("create team: %d %s", r.status, r.body)
	}
	return r.json["id"].(string)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func expect(t *testing.T, r response, status int, message string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	if message != "" && r.json["message"] != message {
		t.Fatalf("message = %q, want %q", r.json["message"], message)
	}
}

var stampRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

func TestPing(t *testing.T) {
	f := newFixture(t)
	r := f.call("GET /ping", "", nil, "")
	if r.status != 200 || r.body != `{"status":"OK"}` {
		t.Fatalf("ping = %d %s", r.status, r.body)
	}
}

func TestToken(t *testing.T) {
	f := newFixture(t)
	r := f.call("GET /v1/token", "", credHeaders(f.credsA), "")
	if r.status != 200 || r.json["expiresIn"] != float64(3600) || r.headers["Cache-Control"] != "no-store" {
		t.Fatalf("token = %d %v %v", r.status, r.body, r.headers)
	}
	// Header names are case-insensitive, as HTTP says, even in hand-written events.
	mixed := map[string]string{"X-Api-Key": f.credsA.APIKey, "X-CLIENT-ID": f.credsA.ClientID, "x-Client-Secret": f.credsA.ClientSecret}
	if r := f.call("GET /v1/token", "", mixed, ""); r.status != 200 {
		t.Fatalf("mixed-case headers: %d %s", r.status, r.body)
	}

	revoked := auth.NewCredentials()
	if _, err := f.store.CreateTenant(context.Background(), revoked); err != nil {
		t.Fatal(err)
	}
	if err := f.store.RevokeClient(context.Background(), revoked.ClientID); err != nil {
		t.Fatal(err)
	}
	a := f.credsA
	bad := []struct {
		name    string
		headers map[string]string
	}{
		{"no headers", nil},
		{"no api key", map[string]string{"x-client-id": a.ClientID, "x-client-secret": a.ClientSecret}},
		{"no client id", map[string]string{"x-api-key": a.APIKey, "x-client-secret": a.ClientSecret}},
		{"no secret", map[string]string{"x-api-key": a.APIKey, "x-client-id": a.ClientID}},
		{"wrong api key", map[string]string{"x-api-key": f.credsB.APIKey, "x-client-id": a.ClientID, "x-client-secret": a.ClientSecret}},
		{"wrong secret", map[string]string{"x-api-key": a.APIKey, "x-client-id": a.ClientID, "x-client-secret": f.credsB.ClientSecret}},
		{"unknown client", map[string]string{"x-api-key": a.APIKey, "x-client-id": auth.NewCredentials().ClientID, "x-client-secret": a.ClientSecret}},
		{"malformed client id", map[string]string{"x-api-key": a.APIKey, "x-client-id": "admin", "x-client-secret": a.ClientSecret}},
		{"revoked client", credHeaders(revoked)},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := f.call("GET /v1/token", "", tc.headers, "")
			// The same answer whichever part was wrong.
			if r.status != 401 || r.body != `{"message":"Invalid Credentials"}` {
				t.Fatalf("= %d %s", r.status, r.body)
			}
		})
	}
}

// TestTokenAfterRotation: another instance has published a newer key, and the fixture's
// source still gives the old one. Its tokens live until the old key retires; once it is
// retired, the endpoint answers 503 and issues none.
func TestTokenAfterRotation(t *testing.T) {
	cases := []struct {
		name       string
		retireOld  bool
		wantStatus int
	}{
		{"the key is retiring", false, 200},
		{"the key is retired", true, 503},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			newer, _ := auth.KeyFromSeed([]byte(strings.Repeat("n", 64)))
			published := time.Now()
			if err := f.store.PublishSigningKey(ctx, newer.Public()); err != nil {
				t.Fatal(err)
			}
			if tc.retireOld {
				if _, err := f.store.RetireOldSigningKeys(ctx); err != nil {
					t.Fatal(err)
				}
			}
			r := f.call("GET /v1/token", "", credHeaders(f.credsA), "")
			if r.status != tc.wantStatus {
				t.Fatalf("= %d %s", r.status, r.body)
			}
			if r.status == 503 {
				if r.headers["Retry-After"] != "60" || !strings.Contains(r.body, `"message":"no token can be issued right now`) {
					t.Errorf("= %v %s", r.headers, r.body)
				}
				if !strings.Contains(f.log.String(), "retires at") {
					t.Errorf("the log does not say why: %s", f.log)
				}
				return
			}
			expiresIn := r.json["expiresIn"].(float64)
			// The old key retires RetireAfter after the new one's publication; a token
			// never outlives it, and otherwise lives its whole TokenTTL.
			if left := min(auth.TokenTTL, time.Until(published.Add(auth.RetireAfter))); expiresIn > left.Seconds() || expiresIn < left.Seconds()-60 {
				t.Errorf("expiresIn = %v, want %v", expiresIn, left)
			}
		})
	}
}

func TestTeamEndpoints(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)

	r := f.call("POST /v1/team", "", bearer(tok), `{"teamName":"  A Team  "}`)
	expect(t, r, 201, "")
	id, _ := r.json["id"].(string)
	if r.json["teamName"] != "A Team" || !store.ValidID(id) || !stampRE.MatchString(r.json["createdAt"].(string)) || r.json["createdAt"] != r.json["modifiedAt"] || len(r.json) != 4 {
		t.Fatalf("created = %s", r.body)
	}

	got := f.call("GET /v1/team/{id}", id, bearer(tok), "")
	expect(t, got, 200, "")
	if got.body != r.body {
		t.Fatalf("get = %s, want %s", got.body, r.body)
	}

	put := f.call("PUT /v1/team/{id}", id, bearer(tok), `{"team":{"teamName":"B Team"}}`)
	expect(t, put, 200, "")
	if put.json["teamName"] != "B Team" || put.json["id"] != id || put.json["createdAt"] != r.json["createdAt"] || !stampRE.MatchString(put.json["modifiedAt"].(string)) {
		t.Fatalf("put = %s", put.body)
	}
	if got := f.call("GET /v1/team/{id}", id, bearer(tok), ""); got.json["teamName"] != "B Team" {
		t.Fatalf("get after put = %s", got.body)
	}

	del := f.call("DELETE /v1/team/{id}", id, bearer(tok), "")
	if del.status != 204 || del.body != "" {
		t.Fatalf("delete = %d %q", del.status, del.body)
	}
	expect(t, f.call("GET /v1/team/{id}", id, bearer(tok), ""), 404, "team not found")
	expect(t, f.call("DELETE /v1/team/{id}", id, bearer(tok), ""), 404, "team not found")
	// PUT never creates.
	expect(t, f.call("PUT /v1/team/{id}", id, bearer(tok), `{"team":{"teamName":"C"}}`), 404, "team not found")
	expect(t, f.call("GET /v1/team/{id}", id, bearer(tok), ""), 404, "team not found")
}

func TestInputRules(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	id := f.createTeam(tok, "A Team")
	big := `{"teamName":"` + strings.Repeat("a", apigw.MaxBodyBytes) + `"}`
	cases := []struct {
		name, route, id, body string
		status                int
		message               string
	}{
		{"malformed JSON", "POST /v1/team", "", `{"teamName":`, 400, "request body is not valid JSON"},
		{"not an object", "POST /v1/team", "", `["A"]`, 400, "request body must be a JSON object"},
		{"wrong type", "POST /v1/team", "", `{"teamName":5}`, 400, `field "teamName" must be a string`},
		{"missing field", "POST /v1/team", "", `{}`, 400, "teamName is required"},
		{"null field", "POST /v1/team", "", `{"teamName":null}`, 400, "teamName is required"},
		{"empty body", "POST /v1/team", "", ``, 400, "request body is required"},
		{"blank name", "POST /v1/team", "", `{"teamName":"   "}`, 400, "teamName must not be empty"},
		{"long name", "POST /v1/team", "", `{"teamName":"` + strings.Repeat("é", 129) + `"}`, 400, "teamName must be at most 128 characters"},
		{"control character", "POST /v1/team", "", `{"teamName":"a\u0007b"}`, 400, "teamName must not contain control characters"},
		{"unknown field", "POST /v1/team", "", `{"teamName":"A","admin":true}`, 400, `unknown field "admin"`},
		{"trailing data", "POST /v1/team", "", `{"teamName":"A"} {}`, 400, "request body must be a single JSON object"},
		{"too large", "POST /v1/team", "", big, 413, "request body is larger than 64 KiB"},
		{"put without team", "PUT /v1/team/{id}", id, `{"teamName":"B"}`, 400, `unknown field "teamName"`},
		{"put null team", "PUT /v1/team/{id}", id, `{"team":null}`, 400, "team is required"},
		{"put without name", "PUT /v1/team/{id}", id, `{"team":{}}`, 400, "team.teamName is required"},
		{"put server fields", "PUT /v1/team/{id}", id, `{"team":{"teamName":"B","id":"x"}}`, 400, "id, createdAt and modifiedAt are set by the server and cannot be changed"},
		{"put createdAt", "PUT /v1/team/{id}", id, `{"team":{"teamName":"B","createdAt":"2020-01-01T00:00:00.000Z"}}`, 400, "id, createdAt and modifiedAt are set by the server and cannot be changed"},
		{"put unknown id", "PUT /v1/team/{id}", "01J00000000000000000000000", `{"team":{"teamName":"B"}}`, 404, "team not found"},
		{"get malformed id", "GET /v1/team/{id}", "x' OR 1=1", "", 404, "team not found"},
		{"board without teams", "POST /v1/leaderboard", "", `{"name":"S1"}`, 400, "teams is required (an array of team ids, may be empty)"},
		{"board teams not an array", "POST /v1/leaderboard", "", `{"name":"S1","teams":"x"}`, 400, `field "teams" must be an array`},
		{"board team not a string", "POST /v1/leaderboard", "", `{"name":"S1","teams":[1]}`, 400, `field "teams" must be a string`},
		{"board unknown team", "POST /v1/leaderboard", "", `{"name":"S1","teams":["` + id + `","01J00000000000000000000000"]}`, 400, "unknown teams: 01J00000000000000000000000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, f.call(tc.route, tc.id, bearer(tok), tc.body), tc.status, tc.message)
		})
	}
	// Nothing above changed the team.
	if r := f.call("GET /v1/team/{id}", id, bearer(tok), ""); r.json["teamName"] != "A Team" {
		t.Fatalf("team changed: %s", r.body)
	}
}

func manyIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("01J%023d", i)
	}
	return ids
}

func TestBase64Body(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	h := f.handlers["POST /v1/team"]
	resp, err := h(context.Background(), events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /v1/team", Headers: bearer(tok),
		Body: base64.StdEncoding.EncodeToString([]byte(`{"teamName":"Encoded"}`)), IsBase64Encoded: true,
	})
	if err != nil || resp.StatusCode != 201 || !strings.Contains(resp.Body, `"teamName":"Encoded"`) {
		t.Fatalf("= %d %s %v", resp.StatusCode, resp.Body, err)
	}
}

func TestLeaderboard(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	a, b := f.createTeam(tok, "A"), f.createTeam(tok, "B")

	r := f.call("POST /v1/leaderboard", "", bearer(tok), `{"name":"Season 1","teams":["`+a+`","`+b+`","`+a+`"]}`)
	expect(t, r, 201, "")
	if r.json["name"] != "Season 1" || !store.ValidID(r.json["id"].(string)) || mustJSON(r.json["teams"]) != mustJSON([]string{a, b}) || !stampRE.MatchString(r.json["modifiedAt"].(string)) {
		t.Fatalf("leaderboard = %s", r.body)
	}
	empty := f.call("POST /v1/leaderboard", "", bearer(tok), `{"name":"Empty","teams":[]}`)
	if empty.status != 201 || !strings.Contains(empty.body, `"teams":[]`) {
		t.Fatalf("empty board = %d %s", empty.status, empty.body)
	}
	// A member team can still be deleted; it leaves the board with it.
	expect(t, f.call("DELETE /v1/team/{id}", a, bearer(tok), ""), 204, "")
}

func TestNotAuthorized(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	id := f.createTeam(tok, "A")
	otherKey, _ := auth.KeyFromSeed([]byte(strings.Repeat("x", 64)))
	forged, _, _ := auth.NewSigner(otherKey, time.Now).Issue(context.Background(), auth.Claims{TenantID: "t", ClientID: "c"})
	expired, _, _ := auth.NewSigner(f.key, func() time.Time { return time.Now().Add(-2 * time.Hour) }).Issue(context.Background(), auth.Claims{TenantID: "t", ClientID: "c"})
	headers := []struct {
		name string
		h    map[string]string
	}{
		{"no header", nil},
		{"basic scheme", map[string]string{"authorization": "Basic " + tok}},
		{"bearer without token", map[string]string{"authorization": "Bearer "}},
		{"token without scheme", map[string]string{"authorization": tok}},
		{"garbage", bearer("abc.def.ghi")},
		{"forged", bearer(forged)},
		{"expired", bearer(expired)},
		{"tampered", bearer(tok[:len(tok)-4] + "AAAA")},
	}
	routes := []struct{ route, id, body string }{
		{"POST /v1/team", "", `{"teamName":"X"}`},
		{"GET /v1/team/{id}", id, ""},
		{"PUT /v1/team/{id}", id, `{"team":{"teamName":"X"}}`},
		{"DELETE /v1/team/{id}", id, ""},
		{"POST /v1/leaderboard", "", `{"name":"X","teams":[]}`},
	}
	for _, h := range headers {
		for _, rt := range routes {
			t.Run(h.name+" "+rt.route, func(t *testing.T) {
				r := f.call(rt.route, rt.id, h.h, rt.body)
				if r.status != 401 || r.body != `{"message":"Not Authorized"}` {
					t.Fatalf("= %d %s", r.status, r.body)
				}
			})
		}
	}
	if r := f.call("GET /v1/team/{id}", id, bearer(tok), ""); r.json["teamName"] != "A" {
		t.Fatalf("team changed: %s", r.body)
	}
}

func TestTenantIsolation(t *testing.T) {
	f := newFixture(t)
	tokA, tokB := f.token(f.credsA), f.token(f.credsB)
	id := f.createTeam(tokA, "A's team")

	expect(t, f.call("GET /v1/team/{id}", id, bearer(tokB), ""), 404, "team not found")
	expect(t, f.call("PUT /v1/team/{id}", id, bearer(tokB), `{"team":{"teamName":"Stolen"}}`), 404, "team not found")
	expect(t, f.call("DELETE /v1/team/{id}", id, bearer(tokB), ""), 404, "team not found")
	expect(t, f.call("POST /v1/leaderboard", "", bearer(tokB), `{"name":"B","teams":["`+id+`"]}`), 400, "unknown teams: "+id)

	r := f.call("GET /v1/team/{id}", id, bearer(tokA), "")
	if r.status != 200 || r.json["teamName"] != "A's team" {
		t.Fatalf("A's team after B's tries: %d %s", r.status, r.body)
	}
}

func TestInternalErrorsStayInTheLog(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	client, _ := testdb.Table(t)
	broken := store.New(client, "no-such-table", time.Now)
	log := slog.New(slog.NewJSONHandler(f.log, nil))
	h := apigw.WithRequestLog(log, api.GetTeam(api.Bearer(auth.NewVerifier(f.store, time.Now)), broken))
	resp, err := h(context.Background(), events.APIGatewayV2HTTPRequest{
		RouteKey: "GET /v1/team/{id}", Headers: bearer(tok), PathParameters: map[string]string{"id": "01J00000000000000000000000"},
	})
	if err != nil || resp.StatusCode != 500 || resp.Body != `{"message":"Internal Server Error"}` {
		t.Fatalf("= %d %s %v", resp.StatusCode, resp.Body, err)
	}
	if !strings.Contains(f.log.String(), "ResourceNotFoundException") {
		t.Fatalf("the cause is not in the log: %s", f.log.String())
	}

	ping := apigw.WithRequestLog(log, api.Ping(broken, log))
	resp, _ = ping(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: "GET /ping"})
	if resp.StatusCode != 500 || resp.Body != `{"status":"NOT OK"}` {
		t.Fatalf("ping = %d %s", resp.StatusCode, resp.Body)
	}
}

func TestRequestLog(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	f.createTeam(tok, "Logged")
	var last map[string]any
	for _, line := range strings.Split(strings.TrimSpace(f.log.String()), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line %q is not JSON", line)
		}
		if entry["route"] == "POST /v1/team" {
			last = entry
		}
		if entry["route"] == "GET /v1/token" && entry["status"] == float64(200) && entry["tenant"] == "" {
			t.Errorf("a successful token request logged no tenant: %v", entry)
		}
	}
	if last == nil || last["status"] != float64(201) || last["tenant"] == "" || last["requestId"] != "test-request" || last["writeUnits"].(float64) < 1 {
		t.Fatalf("request log = %v", last)
	}
	for _, secret := range []string{tok, f.credsA.ClientSecret, f.credsA.APIKey} {
		if strings.Contains(f.log.String(), secret) {
			t.Fatal("a credential or token was logged")
		}
	}
}

func TestScheduledHealthCheck(t *testing.T) {
	f := newFixture(t)
	log := slog.New(slog.NewJSONHandler(f.log, nil))
	scheduled := json.RawMessage(`{"source":"leaderboard.healthcheck"}`)
	if _, err := api.PingFunction(f.store, log)(context.Background(), scheduled); err != nil {
		t.Fatalf("healthy check failed: %v", err)
	}
	client, _ := testdb.Table(t)
	broken := store.New(client, "no-such-table", time.Now)
	if _, err := api.PingFunction(broken, log)(context.Background(), scheduled); err == nil {
		t.Fatal("the health check of a missing table must fail the invocation")
	}
	httpEvent := json.RawMessage(`{"version":"2.0","routeKey":"GET /ping","rawPath":"/ping","requestContext":{"http":{"method":"GET","path":"/ping"}}}`)
	out, err := api.PingFunction(f.store, log)(context.Background(), httpEvent)
	resp, ok := out.(apigw.Response)
	if err != nil || !ok || resp.StatusCode != 200 || resp.Body != `{"status":"OK"}` {
		t.Fatalf("HTTP ping through the function = %+v %v", out, err)
	}
}

// failingScores answers every submit with err.
type failingScores struct{ err error }

func (f failingScores) SubmitScores(context.Context, string, string, []store.Submission, string) ([]store.Ranked, error) {
	return nil, f.err
}

type failingTeams struct{ err error }

func (f failingTeams) DeleteTeam(context.Context, string, string) (bool, error) { return false, f.err }

// What the store says the client may try again gets a status and a Retry-After the
// client can act on, never a 500; the cause goes to the log only.
func TestRetryableFailures(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	log := slog.New(slog.NewJSONHandler(f.log, nil))
	v := api.Bearer(auth.NewVerifier(f.store, time.Now))
	throttled := &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}
	for _, tc := range []struct {
		name       string
		err        error
		status     int
		retryAfter string
		says       string
	}{
		{"busy board", fmt.Errorf("x: %w", store.ErrBusy), 503, "1", "too busy"},
		{"throttled commit", fmt.Errorf("x: %w", store.ErrThrottled), 429, "1", "nothing was written"},
		{"throttled read", fmt.Errorf("read member: %w", throttled), 429, "1", "nothing was written"},
		{"unknown outcome", fmt.Errorf("x: %w", store.ErrOutcomeUnknown), 503, "1", "same Idempotency-Key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.log.Reset()
			h := apigw.WithRequestLog(log, api.SubmitScores(v, failingScores{tc.err}))
			resp, err := h(context.Background(), events.APIGatewayV2HTTPRequest{
				RouteKey: "POST /v1/leaderboard/{id}/scores", Headers: bearer(tok),
				PathParameters: map[string]string{"id": "01J00000000000000000000000"},
				Body:           `{"teamId":"01J00000000000000000000000","score":1}`,
			})
			if err != nil || resp.StatusCode != tc.status || resp.Headers["Retry-After"] != tc.retryAfter || !strings.Contains(resp.Body, tc.says) {
				t.Fatalf("= %d %v %s %v", resp.StatusCode, resp.Headers, resp.Body, err)
			}
			if !strings.Contains(f.log.String(), `"cause":"x:`) && !strings.Contains(f.log.String(), `"cause":"read member`) {
				t.Fatalf("the cause is not in the log: %s", f.log.String())
			}
		})
	}
	h := apigw.WithRequestLog(log, api.DeleteTeam(v, failingTeams{fmt.Errorf("%w: leave board: connection reset", store.ErrUnfinished)}))
	resp, err := h(context.Background(), events.APIGatewayV2HTTPRequest{
		RouteKey: "DELETE /v1/team/{id}", Headers: bearer(tok), PathParameters: map[string]string{"id": "01J00000000000000000000000"},
	})
	if err != nil || resp.StatusCode != 202 || !strings.Contains(resp.Body, "repeat the DELETE") {
		t.Fatalf("a delete that stopped half-way = %d %s %v", resp.StatusCode, resp.Body, err)
	}
}
