package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// do sends any route with its path parameters, headers, query and body.
func (f *fixture) do(route string, params, headers, query map[string]string, body string) response {
	f.t.Helper()
	resp, err := f.handlers[route](context.Background(), events.APIGatewayV2HTTPRequest{
		RouteKey: route, PathParameters: params, Headers: headers, QueryStringParameters: query, Body: body,
	})
	if err != nil {
		f.t.Fatalf("%s: %v", route, err)
	}
	r := response{status: resp.StatusCode, headers: resp.Headers, body: resp.Body}
	if resp.Body != "" {
		if err := json.Unmarshal([]byte(resp.Body), &r.json); err != nil {
			f.t.Fatalf("%s: body %q: %v", route, resp.Body, err)
		}
	}
	return r
}

const (
	submitRoute   = "POST /v1/leaderboard/{id}/scores"
	rankingsRoute = "GET /v1/leaderboard/{id}/rankings"
	teamRankRoute = "GET /v1/leaderboard/{id}/rankings/{teamId}"
)

// scoringBoard makes a board with the given extra settings and n teams on it.
func (f *fixture) scoringBoard(tok, settings string, n int) (string, []string) {
	f.t.Helper()
	var teams []string
	for i := range n {
		teams = append(teams, f.createTeam(tok, fmt.Sprintf("Team %d", i)))
	}
	body := `{"name":"Cup","teams":` + mustJSON(teams) + settings + `}`
	r := f.call("POST /v1/leaderboard", "", bearer(tok), body)
	if r.status != 201 {
		f.t.Fatalf("create board: %d %s", r.status, r.body)
	}
	return r.json["id"].(string), teams
}

func TestScoresAndRankings(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	board, teams := f.scoringBoard(tok, `,"rankMode":"competition"`, 4)
	id := map[string]string{"id": board}

	for i, score := range []int{30, 50, 30, 10} {
		r := f.do(submitRoute, id, bearer(tok), nil, fmt.Sprintf(`{"teamId":%q,"score":%d}`, teams[i], score))
		expect(t, r, 200, "")
	}
	batch := f.do(submitRoute, id, bearer(tok), nil, `{"scores":[{"teamId":"`+teams[3]+`","score":40},{"teamId":"`+teams[0]+`","score":20}]}`)
	expect(t, batch, 200, "")
	// best keeps 30 for team 0; team 3 rises to 40: 50, 40, 30, 30 -> ranks 1, 2, 3, 3.
	if got := mustJSON(batch.json["scores"]); got != `[{"rank":2,"score":40,"teamId":"`+teams[3]+`"},{"rank":3,"score":30,"teamId":"`+teams[0]+`"}]` {
		t.Fatalf("batch answer = %s", got)
	}

	page1 := f.do(rankingsRoute, id, bearer(tok), map[string]string{"limit": "3"}, "")
	expect(t, page1, 200, "")
	cursor, _ := page1.json["nextCursor"].(string)
	page2 := f.do(rankingsRoute, id, bearer(tok), map[string]string{"limit": "3", "cursor": cursor}, "")
	if _, more := page2.json["nextCursor"]; more || cursor == "" {
		t.Fatalf("cursors: %q then %v", cursor, page2.json["nextCursor"])
	}
	var got []string
	for _, p := range []response{page1, page2} {
		for _, e := range p.json["rankings"].([]any) {
			m := e.(map[string]any)
			got = append(got, fmt.Sprintf("%v:%v:%v", m["rank"], m["teamName"], m["score"]))
			if !stampRE.MatchString(m["updatedAt"].(string)) {
				t.Fatalf("updatedAt %v", m["updatedAt"])
			}
		}
	}
	// Ties keep the order in which the score was reached: team 0 got 30 before team 2.
	if want := "1:Team 1:50 2:Team 3:40 3:Team 0:30 3:Team 2:30"; strings.Join(got, " ") != want {
		t.Fatalf("rankings = %s, want %s", strings.Join(got, " "), want)
	}

	around := f.do(teamRankRoute, map[string]string{"id": board, "teamId": teams[0]}, bearer(tok), map[string]string{"around": "1"}, "")
	expect(t, around, 200, "")
	if e := around.json["entry"].(map[string]any); e["rank"] != float64(3) || e["teamId"] != teams[0] || len(around.json["around"].([]any)) != 2 {
		t.Fatalf("around = %s", around.body)
	}

	// Renaming a team shows in the rankings; removing it takes it out.
	f.call("PUT /v1/team/{id}", teams[1], bearer(tok), `{"team":{"teamName":"Champions"}}`)
	top := f.do(rankingsRoute, id, bearer(tok), map[string]string{"limit": "1"}, "")
	if e := top.json["rankings"].([]any)[0].(map[string]any); e["teamName"] != "Champions" {
		t.Fatalf("after rename: %s", top.body)
	}
	expect(t, f.do("DELETE /v1/leaderboard/{id}/teams/{teamId}", map[string]string{"id": board, "teamId": teams[1]}, bearer(tok), nil, ""), 204, "")
	expect(t, f.do("DELETE /v1/leaderboard/{id}/teams/{teamId}", map[string]string{"id": board, "teamId": teams[1]}, bearer(tok), nil, ""), 404, "team not found")
	expect(t, f.do(teamRankRoute, map[string]string{"id": board, "teamId": teams[1]}, bearer(tok), nil, ""), 404, "team not found")
	after := f.do(teamRankRoute, map[string]string{"id": board, "teamId": teams[3]}, bearer(tok), nil, "")
	if e := after.json["entry"].(map[string]any); e["rank"] != float64(1) {
		t.Fatalf("after removal: %s", after.body)
	}
	if r := f.call("GET /v1/leaderboard/{id}", board, bearer(tok), ""); r.json["teamCount"] != float64(3) {
		t.Fatalf("teamCount after removal: %s", r.body)
	}

	// Teams join, without a score until they submit one.
	expect(t, f.do("POST /v1/leaderboard/{id}/teams", id, bearer(tok), nil, `{"teams":["`+teams[1]+`"]}`), 204, "")
	expect(t, f.do(teamRankRoute, map[string]string{"id": board, "teamId": teams[1]}, bearer(tok), nil, ""), 404, "team has no score on this leaderboard")

	expect(t, f.do("DELETE /v1/leaderboard/{id}", id, bearer(tok), nil, ""), 204, "")
	expect(t, f.do(rankingsRoute, id, bearer(tok), nil, ""), 404, "leaderboard not found")
	expect(t, f.do("DELETE /v1/leaderboard/{id}", id, bearer(tok), nil, ""), 404, "leaderboard not found")
	// The team outlives its board and can still be deleted.
	expect(t, f.call("DELETE /v1/team/{id}", teams[1], bearer(tok), ""), 204, "")
}

func TestIdempotencyKey(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	board, teams := f.scoringBoard(tok, `,"scoreOperator":"increment"`, 1)
	id := map[string]string{"id": board}
	h := map[string]string{"authorization": "Bearer " + tok, "idempotency-key": "retry-me"}
	body := `{"teamId":"` + teams[0] + `","score":5}`
	first := f.do(submitRoute, id, h, nil, body)
	again := f.do(submitRoute, id, h, nil, body)
	if first.status != 200 || again.body != first.body || first.json["score"] != float64(5) {
		t.Fatalf("first %s, again %s", first.body, again.body)
	}
	expect(t, f.do(submitRoute, id, h, nil, `{"teamId":"`+teams[0]+`","score":6}`), 422, "this Idempotency-Key was used for a different request")
	bad := map[string]string{"authorization": "Bearer " + tok, "idempotency-key": "has space"}
	expect(t, f.do(submitRoute, id, bad, nil, body), 400, "Idempotency-Key must be 1 to 255 visible ASCII characters")
}

func TestScoreRules(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	board, teams := f.scoringBoard(tok, `,"minScore":-10,"maxScore":10`, 1)
	outsider := f.createTeam(tok, "Outsider")
	id := map[string]string{"id": board}
	team := teams[0]
	many := make([]string, 101)
	for i := range many {
		many[i] = `{"teamId":"` + team + `","score":1}`
	}
	cases := []struct {
		name, body string
		status     int
		message    string
	}{
		{"no team", `{"score":1}`, 400, "teamId is required"},
		{"no score", `{"teamId":"` + team + `"}`, 400, "score is required"},
		{"fraction", `{"teamId":"` + team + `","score":1.5}`, 400, "score must be an integer between -9007199254740991 and 9007199254740991"},
		{"too big for JSON clients", `{"teamId":"` + team + `","score":9007199254740992}`, 400, "score must be an integer between -9007199254740991 and 9007199254740991"},
		{"string score", `{"teamId":"` + team + `","score":"ten"}`, 400, "score must be an integer between -9007199254740991 and 9007199254740991"},
		{"bad operator", `{"teamId":"` + team + `","score":1,"operator":"max"}`, 400, `operator must be "best", "set" or "increment"`},
		{"both forms", `{"teamId":"` + team + `","score":1,"scores":[]}`, 400, "send either teamId and score, or scores, not both"},
		{"empty batch", `{"scores":[]}`, 400, "scores must hold 1 to 100 submissions"},
		{"batch too big", `{"scores":[` + strings.Join(many, ",") + `]}`, 400, "scores must hold 1 to 100 submissions"},
		{"batch item error", `{"scores":[{"teamId":"` + team + `","score":1},{"teamId":"` + team + `","score":0.5}]}`, 400, "scores[1].score must be an integer between -9007199254740991 and 9007199254740991"},
		{"not a member", `{"scores":[{"teamId":"` + team + `","score":1},{"teamId":"` + outsider + `","score":1}]}`, 400, "teams not on this leaderboard: " + outsider},
		{"out of range", `{"teamId":"` + team + `","score":11}`, 400, "team " + team + " would score 11, outside this leaderboard's range -10 to 10"},
		{"unknown field", `{"teamId":"` + team + `","score":1,"rank":1}`, 400, `unknown field "rank"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, f.do(submitRoute, id, bearer(tok), nil, tc.body), tc.status, tc.message)
		})
	}
	expect(t, f.do(teamRankRoute, map[string]string{"id": board, "teamId": team}, bearer(tok), nil, ""), 404, "team has no score on this leaderboard")
	for _, around := range []string{"51", "-1", "x", ""} {
		expect(t, f.do(teamRankRoute, map[string]string{"id": board, "teamId": team}, bearer(tok), map[string]string{"around": around}, ""), 400, "around must be an integer from 0 to 50")
	}
	expect(t, f.do(rankingsRoute, id, bearer(tok), map[string]string{"cursor": "AAAA"}, ""), 400, "invalid cursor")
	expect(t, f.do(submitRoute, map[string]string{"id": "01J00000000000000000000000"}, bearer(tok), nil, `{"teamId":"`+team+`","score":1}`), 404, "leaderboard not found")
	expect(t, f.do("POST /v1/leaderboard/{id}/teams", id, bearer(tok), nil, `{"teams":[]}`), 400, "teams must name at least one team")
	expect(t, f.do("POST /v1/leaderboard/{id}/teams", id, bearer(tok), nil, `{"teams":["01J00000000000000000000000"]}`), 400, "unknown teams: 01J00000000000000000000000")
}

func TestScoresTenantIsolation(t *testing.T) {
	f := newFixture(t)
	tokA, tokB := f.token(f.credsA), f.token(f.credsB)
	board, teams := f.scoringBoard(tokA, "", 1)
	expect(t, f.do(submitRoute, map[string]string{"id": board}, bearer(tokA), nil, `{"teamId":"`+teams[0]+`","score":3}`), 200, "")
	mine := f.createTeam(tokB, "B's")
	id := map[string]string{"id": board}
	member := map[string]string{"id": board, "teamId": teams[0]}
	expect(t, f.do(submitRoute, id, bearer(tokB), nil, `{"teamId":"`+teams[0]+`","score":99}`), 404, "leaderboard not found")
	expect(t, f.do(rankingsRoute, id, bearer(tokB), nil, ""), 404, "leaderboard not found")
	expect(t, f.do(teamRankRoute, member, bearer(tokB), nil, ""), 404, "leaderboard not found")
	expect(t, f.do("POST /v1/leaderboard/{id}/teams", id, bearer(tokB), nil, `{"teams":["`+mine+`"]}`), 404, "leaderboard not found")
	expect(t, f.do("DELETE /v1/leaderboard/{id}/teams/{teamId}", member, bearer(tokB), nil, ""), 404, "leaderboard not found")
	expect(t, f.do("DELETE /v1/leaderboard/{id}", id, bearer(tokB), nil, ""), 404, "leaderboard not found")
	r := f.do(teamRankRoute, member, bearer(tokA), nil, "")
	if r.status != 200 || r.json["entry"].(map[string]any)["score"] != float64(3) {
		t.Fatalf("A's board after B's tries: %s", r.body)
	}
	for _, route := range []string{submitRoute, rankingsRoute, teamRankRoute, "POST /v1/leaderboard/{id}/teams", "DELETE /v1/leaderboard/{id}/teams/{teamId}", "DELETE /v1/leaderboard/{id}"} {
		expect(t, f.do(route, member, nil, nil, `{}`), 401, "Not Authorized")
	}
}
