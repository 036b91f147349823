package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// callQuery is call for a route without an id but with a query string.
func (f *fixture) callQuery(route string, headers, query map[string]string) response {
	f.t.Helper()
	method, path, _ := strings.Cut(route, " ")
	var raw []string
	for k, v := range query {
		raw = append(raw, k+"="+v)
	}
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: route, RawPath: path, RawQueryString: strings.Join(raw, "&"),
		Headers: headers, QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "test-request", RouteKey: route,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
		},
	}
	resp, err := f.handlers[route](context.Background(), req)
	if err != nil {
		f.t.Fatalf("%s: handler error %v", route, err)
	}
	r := response{status: resp.StatusCode, headers: resp.Headers, body: resp.Body}
	if err := json.Unmarshal([]byte(resp.Body), &r.json); err != nil {
		f.t.Fatalf("%s: body %q is not a JSON object: %v", route, resp.Body, err)
	}
	return r
}

func (f *fixture) createBoard(token, body string) response {
	f.t.Helper()
	r := f.call("POST /v1/leaderboard", "", bearer(token), body)
	expect(f.t, r, 201, "")
	return r
}

// keys lists a JSON object's fields, sorted.
func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestLeaderboardSettings(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	team := f.createTeam(tok, "A")
	cases := []struct {
		name, settings string
		want           map[string]any // the settings fields of the answer
	}{
		{"defaults", ``, map[string]any{"sortOrder": "desc", "scoreOperator": "best", "rankMode": "ordinal"}},
		{"nulls are defaults", `,"sortOrder":null,"scoreOperator":null,"rankMode":null,"minScore":null,"maxScore":null`,
			map[string]any{"sortOrder": "desc", "scoreOperator": "best", "rankMode": "ordinal"}},
		{"desc", `,"sortOrder":"desc"`, map[string]any{"sortOrder": "desc", "scoreOperator": "best", "rankMode": "ordinal"}},
		{"asc", `,"sortOrder":"asc"`, map[string]any{"sortOrder": "asc", "scoreOperator": "best", "rankMode": "ordinal"}},
		{"best", `,"scoreOperator":"best"`, map[string]any{"sortOrder": "desc", "scoreOperator": "best", "rankMode": "ordinal"}},
		{"set", `,"scoreOperator":"set"`, map[string]any{"sortOrder": "desc", "scoreOperator": "set", "rankMode": "ordinal"}},
		{"increment", `,"scoreOperator":"increment"`, map[string]any{"sortOrder": "desc", "scoreOperator": "increment", "rankMode": "ordinal"}},
		{"ordinal", `,"rankMode":"ordinal"`, map[string]any{"sortOrder": "desc", "scoreOperator": "best", "rankMode": "ordinal"}},
		{"competition", `,"rankMode":"competition"`, map[string]any{"sortOrder": "desc", "scoreOperator": "best", "rankMode": "competition"}},
		{"minScore only", `,"minScore":0`, map[string]any{"sortOrder": "desc", "scoreOperator": "best", "rankMode": "ordinal", "minScore": 0.0}},
		{"maxScore only", `,"maxScore":-5`, map[string]any{"sortOrder": "desc", "scoreOperator": "best", "rankMode": "ordinal", "maxScore": -5.0}},
		{"widest bounds", `,"minScore":-9007199254740991,"maxScore":9007199254740991`,
			map[string]any{"sortOrder": "desc", "scoreOperator": "best", "rankMode": "ordinal", "minScore": -9007199254740991.0, "maxScore": 9007199254740991.0}},
		{"equal bounds, exponent", `,"minScore":1e3,"maxScore":1000`,
			map[string]any{"sortOrder": "desc", "scoreOperator": "best", "rankMode": "ordinal", "minScore": 1000.0, "maxScore": 1000.0}},
		{"everything", `,"sortOrder":"asc","scoreOperator":"increment","rankMode":"competition","minScore":-10,"maxScore":10`,
			map[string]any{"sortOrder": "asc", "scoreOperator": "increment", "rankMode": "competition", "minScore": -10.0, "maxScore": 10.0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			created := f.createBoard(tok, `{"name":"S","teams":["`+team+`"]`+tc.settings+`}`)
			id := created.json["id"].(string)
			for k, v := range tc.want {
				if created.json[k] != v {
					t.Errorf("created %s = %v, want %v", k, created.json[k], v)
				}
			}
			wantKeys := []string{"createdAt", "id", "modifiedAt", "name", "teamCount", "teams"}
			for k := range tc.want {
				wantKeys = append(wantKeys, k)
			}
			slices.Sort(wantKeys)
			if got := keys(created.json); !slices.Equal(got, wantKeys) {
				t.Fatalf("created fields %v, want %v", got, wantKeys)
			}
			if created.json["teamCount"] != 1.0 || mustJSON(created.json["teams"]) != mustJSON([]string{team}) {
				t.Fatalf("created = %s", created.body)
			}

			got := f.call("GET /v1/leaderboard/{id}", id, bearer(tok), "")
			expect(t, got, 200, "")
			delete(created.json, "teams")
			if mustJSON(got.json) != mustJSON(created.json) {
				t.Fatalf("get = %s, want the created leaderboard without teams: %s", got.body, created.body)
			}
		})
	}
	// Big integers come back exactly, not as rounded floats.
	r := f.createBoard(tok, `{"name":"S","teams":[],"maxScore":9007199254740991}`)
	if !strings.Contains(r.body, `"maxScore":9007199254740991,`) || !strings.Contains(r.body, `"teamCount":0,"teams":[]`) {
		t.Fatalf("created = %s", r.body)
	}
}

func TestLeaderboardRules(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	board := f.createBoard(tok, `{"name":"Season","teams":[],"sortOrder":"asc","minScore":1}`).json["id"].(string)
	const (
		sortMsg   = "sortOrder must be one of: desc, asc"
		opMsg     = "scoreOperator must be one of: best, set, increment"
		rankMsg   = "rankMode must be one of: ordinal, competition"
		minMsg    = "minScore must be an integer between -9007199254740991 and 9007199254740991"
		maxMsg    = "maxScore must be an integer between -9007199254740991 and 9007199254740991"
		fixedMsg  = "sortOrder, scoreOperator, rankMode, minScore and maxScore cannot be changed after creation"
		serverMsg = "id, teamCount, teams, createdAt and modifiedAt cannot be changed here"
	)
	create := func(settings string) string { return `{"name":"S","teams":[]` + settings + `}` }
	put := func(fields string) string { return `{"leaderboard":{"name":"New"` + fields + `}}` }
	cases := []struct {
		name, route, id, body string
		status                int
		message               string
	}{
		{"unknown sortOrder", "POST /v1/leaderboard", "", create(`,"sortOrder":"up"`), 400, sortMsg},
		{"empty sortOrder", "POST /v1/leaderboard", "", create(`,"sortOrder":""`), 400, sortMsg},
		{"upper-case sortOrder", "POST /v1/leaderboard", "", create(`,"sortOrder":"DESC"`), 400, sortMsg},
		{"sortOrder not a string", "POST /v1/leaderboard", "", create(`,"sortOrder":1`), 400, `field "sortOrder" must be a string`},
		{"unknown scoreOperator", "POST /v1/leaderboard", "", create(`,"scoreOperator":"max"`), 400, opMsg},
		{"unknown rankMode", "POST /v1/leaderboard", "", create(`,"rankMode":"dense"`), 400, rankMsg},
		{"fractional minScore", "POST /v1/leaderboard", "", create(`,"minScore":1.5`), 400, minMsg},
		{"minScore too small", "POST /v1/leaderboard", "", create(`,"minScore":-9007199254740992`), 400, minMsg},
		{"maxScore too big", "POST /v1/leaderboard", "", create(`,"maxScore":9007199254740992`), 400, maxMsg},
		{"maxScore huge exponent", "POST /v1/leaderboard", "", create(`,"maxScore":1e300`), 400, maxMsg},
		{"minScore above maxScore", "POST /v1/leaderboard", "", create(`,"minScore":2,"maxScore":1`), 400, "minScore must not be greater than maxScore"},
		{"unknown setting", "POST /v1/leaderboard", "", create(`,"tieBreak":"first"`), 400, `unknown field "tieBreak"`},

		{"put sortOrder", "PUT /v1/leaderboard/{id}", board, put(`,"sortOrder":"asc"`), 400, fixedMsg},
		{"put scoreOperator", "PUT /v1/leaderboard/{id}", board, put(`,"scoreOperator":"best"`), 400, fixedMsg},
		{"put rankMode", "PUT /v1/leaderboard/{id}", board, put(`,"rankMode":"ordinal"`), 400, fixedMsg},
		{"put minScore", "PUT /v1/leaderboard/{id}", board, put(`,"minScore":1`), 400, fixedMsg},
		{"put maxScore null", "PUT /v1/leaderboard/{id}", board, put(`,"maxScore":null`), 400, fixedMsg},
		{"put id", "PUT /v1/leaderboard/{id}", board, put(`,"id":"x"`), 400, serverMsg},
		{"put createdAt", "PUT /v1/leaderboard/{id}", board, put(`,"createdAt":"2020-01-01T00:00:00.000Z"`), 400, serverMsg},
		{"put modifiedAt", "PUT /v1/leaderboard/{id}", board, put(`,"modifiedAt":"2020-01-01T00:00:00.000Z"`), 400, serverMsg},
		{"put teamCount", "PUT /v1/leaderboard/{id}", board, put(`,"teamCount":3`), 400, serverMsg},
		{"put teams", "PUT /v1/leaderboard/{id}", board, put(`,"teams":[]`), 400, serverMsg},
		{"put unknown field", "PUT /v1/leaderboard/{id}", board, put(`,"owner":"me"`), 400, `unknown field "owner"`},
		{"put without leaderboard", "PUT /v1/leaderboard/{id}", board, `{"name":"New"}`, 400, `unknown field "name"`},
		{"put null leaderboard", "PUT /v1/leaderboard/{id}", board, `{"leaderboard":null}`, 400, "leaderboard is required"},
		{"put without name", "PUT /v1/leaderboard/{id}", board, `{"leaderboard":{}}`, 400, "leaderboard.name is required"},
		{"put blank name", "PUT /v1/leaderboard/{id}", board, `{"leaderboard":{"name":"  "}}`, 400, "leaderboard.name must not be empty"},
		{"put long name", "PUT /v1/leaderboard/{id}", board, `{"leaderboard":{"name":"` + strings.Repeat("x", 129) + `"}}`, 400, "leaderboard.name must be at most 128 characters"},
		{"put malformed JSON", "PUT /v1/leaderboard/{id}", board, `{"leaderboard":`, 400, "request body is not valid JSON"},
		{"put empty body", "PUT /v1/leaderboard/{id}", board, ``, 400, "request body is required"},

		{"put unknown id", "PUT /v1/leaderboard/{id}", "01J00000000000000000000000", put(``), 404, "leaderboard not found"},
		{"put malformed id", "PUT /v1/leaderboard/{id}", "x' OR 1=1", put(``), 404, "leaderboard not found"},
		{"get unknown id", "GET /v1/leaderboard/{id}", "01J00000000000000000000000", "", 404, "leaderboard not found"},
		{"get malformed id", "GET /v1/leaderboard/{id}", "../team", "", 404, "leaderboard not found"},
		{"get empty id", "GET /v1/leaderboard/{id}", "", "", 404, "leaderboard not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, f.call(tc.route, tc.id, bearer(tok), tc.body), tc.status, tc.message)
		})
	}
	// Nothing above changed the leaderboard or made a new one.
	r := f.call("GET /v1/leaderboard/{id}", board, bearer(tok), "")
	if r.json["name"] != "Season" || r.json["sortOrder"] != "asc" || r.json["minScore"] != 1.0 || r.json["createdAt"] != r.json["modifiedAt"] {
		t.Fatalf("leaderboard changed: %s", r.body)
	}
	if list := f.callQuery("GET /v1/leaderboards", bearer(tok), nil); len(list.json["leaderboards"].([]any)) != 1 {
		t.Fatalf("leaderboards = %s", list.body)
	}
}

func TestUpdateLeaderboard(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	a, b := f.createTeam(tok, "A"), f.createTeam(tok, "B")
	created := f.createBoard(tok, `{"name":"Season 1","teams":["`+a+`","`+b+`"],"scoreOperator":"increment","rankMode":"competition","maxScore":100}`)
	id := created.json["id"].(string)

	put := f.call("PUT /v1/leaderboard/{id}", id, bearer(tok), `{"leaderboard":{"name":"  Season 2  "}}`)
	expect(t, put, 200, "")
	if put.json["name"] != "Season 2" || put.json["id"] != id || put.json["createdAt"] != created.json["createdAt"] ||
		!stampRE.MatchString(put.json["modifiedAt"].(string)) || put.json["teamCount"] != 2.0 || put.json["teams"] != nil ||
		put.json["scoreOperator"] != "increment" || put.json["rankMode"] != "competition" || put.json["sortOrder"] != "desc" ||
		put.json["maxScore"] != 100.0 || put.json["minScore"] != nil {
		t.Fatalf("put = %s", put.body)
	}
	got := f.call("GET /v1/leaderboard/{id}", id, bearer(tok), "")
	if got.body != put.body {
		t.Fatalf("get = %s, want %s", got.body, put.body)
	}
}

func TestLeaderboardTenantIsolation(t *testing.T) {
	f := newFixture(t)
	tokA, tokB := f.token(f.credsA), f.token(f.credsB)
	teamA := f.createTeam(tokA, "A's team")
	boardA := f.createBoard(tokA, `{"name":"A's board","teams":["`+teamA+`"]}`).json["id"].(string)
	teamB := f.createTeam(tokB, "B's team")
	boardB := f.createBoard(tokB, `{"name":"B's board","teams":[]}`).json["id"].(string)

	expect(t, f.call("GET /v1/leaderboard/{id}", boardA, bearer(tokB), ""), 404, "leaderboard not found")
	expect(t, f.call("PUT /v1/leaderboard/{id}", boardA, bearer(tokB), `{"leaderboard":{"name":"Stolen"}}`), 404, "leaderboard not found")

	for _, tc := range []struct {
		tok, route, field, want string
	}{
		{tokA, "GET /v1/teams", "teams", teamA},
		{tokB, "GET /v1/teams", "teams", teamB},
		{tokA, "GET /v1/leaderboards", "leaderboards", boardA},
		{tokB, "GET /v1/leaderboards", "leaderboards", boardB},
	} {
		r := f.callQuery(tc.route, bearer(tc.tok), nil)
		expect(t, r, 200, "")
		items := r.json[tc.field].([]any)
		if len(items) != 1 || items[0].(map[string]any)["id"] != tc.want || r.json["nextCursor"] != nil {
			t.Fatalf("%s = %s, want only %s", tc.route, r.body, tc.want)
		}
	}
	if r := f.call("GET /v1/leaderboard/{id}", boardA, bearer(tokA), ""); r.status != 200 || r.json["name"] != "A's board" {
		t.Fatalf("A's board after B's tries: %d %s", r.status, r.body)
	}
}

// pageThrough lists route with the given limit until there is no nextCursor, and
// returns the ids of each page.
func (f *fixture) pageThrough(tok, route, field string, limit int) [][]string {
	f.t.Helper()
	var pages [][]string
	query := map[string]string{"limit": fmt.Sprint(limit)}
	for range 50 {
		r := f.callQuery(route, bearer(tok), query)
		expect(f.t, r, 200, "")
		var ids []string
		for _, it := range r.json[field].([]any) {
			ids = append(ids, it.(map[string]any)["id"].(string))
		}
		pages = append(pages, ids)
		next, ok := r.json["nextCursor"].(string)
		if !ok {
			if _, present := r.json["nextCursor"]; present {
				f.t.Fatalf("nextCursor present but not a string: %s", r.body)
			}
			return pages
		}
		query = map[string]string{"limit": fmt.Sprint(limit), "cursor": next}
	}
	f.t.Fatal("the list never ended")
	return nil
}

func TestListTeams(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	var ids []string
	for i := range 7 {
		ids = append(ids, f.createTeam(tok, fmt.Sprintf("Team %d", i)))
	}
	f.createBoard(tok, `{"name":"Not a team","teams":["`+ids[0]+`"]}`)

	want := [][]string{ids[0:3], ids[3:6], ids[6:7]}
	if got := f.pageThrough(tok, "GET /v1/teams", "teams", 3); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("pages %v, want %v", got, want)
	}
	if got := f.pageThrough(tok, "GET /v1/teams", "teams", 7); !slices.EqualFunc(got, [][]string{ids}, slices.Equal) {
		t.Fatalf("one page of 7: %v", got)
	}

	// Each listed team is shown as GET /v1/team/{id} shows it.
	r := f.callQuery("GET /v1/teams", bearer(tok), nil)
	expect(t, r, 200, "")
	if !strings.HasPrefix(r.body, `{"teams":[`) || r.json["nextCursor"] != nil || len(keys(r.json)) != 1 {
		t.Fatalf("list = %s", r.body)
	}
	first := f.call("GET /v1/team/{id}", ids[0], bearer(tok), "")
	if mustJSON(r.json["teams"].([]any)[0]) != mustJSON(first.json) {
		t.Fatalf("listed %v, get %s", r.json["teams"].([]any)[0], first.body)
	}

	// A deleted team is not listed.
	expect(t, f.call("DELETE /v1/team/{id}", ids[4], bearer(tok), ""), 204, "")
	want = [][]string{{ids[0], ids[1], ids[2]}, {ids[3], ids[5], ids[6]}}
	if got := f.pageThrough(tok, "GET /v1/teams", "teams", 3); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("after a delete: pages %v, want %v", got, want)
	}
}

func TestListTeamsDefaultLimit(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	for i := range 26 {
		f.createTeam(tok, fmt.Sprint(i))
	}
	r := f.callQuery("GET /v1/teams", bearer(tok), nil)
	expect(t, r, 200, "")
	if n := len(r.json["teams"].([]any)); n != 25 || r.json["nextCursor"] == nil {
		t.Fatalf("default page: %d teams, nextCursor %v", n, r.json["nextCursor"])
	}
	r = f.callQuery("GET /v1/teams", bearer(tok), map[string]string{"cursor": r.json["nextCursor"].(string)})
	if n := len(r.json["teams"].([]any)); n != 1 || r.json["nextCursor"] != nil {
		t.Fatalf("second page: %s", r.body)
	}
	if r := f.callQuery("GET /v1/teams", bearer(tok), map[string]string{"limit": "100"}); len(r.json["teams"].([]any)) != 26 {
		t.Fatalf("limit 100: %s", r.body)
	}
}

func TestListLeaderboards(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	team := f.createTeam(tok, "A")
	var ids []string
	var created []map[string]any
	for i := range 5 {
		r := f.createBoard(tok, fmt.Sprintf(`{"name":"Board %d","teams":["%s"],"sortOrder":"asc","minScore":%d}`, i, team, i))
		delete(r.json, "teams")
		created = append(created, r.json)
		ids = append(ids, r.json["id"].(string))
	}
	want := [][]string{ids[0:2], ids[2:4], ids[4:5]}
	if got := f.pageThrough(tok, "GET /v1/leaderboards", "leaderboards", 2); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("pages %v, want %v", got, want)
	}
	// Each listed board is shown as GET /v1/leaderboard/{id} shows it: settings and
	// teamCount, no teams.
	r := f.callQuery("GET /v1/leaderboards", bearer(tok), nil)
	if got := r.json["leaderboards"].([]any); len(got) != 5 || mustJSON(got) != mustJSON(created) || r.json["nextCursor"] != nil {
		t.Fatalf("list = %s, want %s", r.body, mustJSON(created))
	}
}

func TestListParameters(t *testing.T) {
	f := newFixture(t)
	tokA, tokB := f.token(f.credsA), f.token(f.credsB)
	for range 3 {
		f.createTeam(tokA, "A")
		f.createTeam(tokB, "B")
		f.createBoard(tokA, `{"name":"A","teams":[]}`)
		f.createBoard(tokB, `{"name":"B","teams":[]}`)
	}
	one := map[string]string{"limit": "1"}
	teamsA := f.callQuery("GET /v1/teams", bearer(tokA), one).json["nextCursor"].(string)
	boardsA := f.callQuery("GET /v1/leaderboards", bearer(tokA), one).json["nextCursor"].(string)
	teamsB := f.callQuery("GET /v1/teams", bearer(tokB), one).json["nextCursor"].(string)

	// Sanity: the cursors work where they were made.
	expect(t, f.callQuery("GET /v1/teams", bearer(tokA), map[string]string{"cursor": teamsA}), 200, "")
	expect(t, f.callQuery("GET /v1/leaderboards", bearer(tokA), map[string]string{"cursor": boardsA}), 200, "")

	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	const limitMsg = "limit must be an integer from 1 to 100"
	cases := []struct {
		name, route, tok string
		query            map[string]string
		status           int
		message          string
	}{
		{"limit 0", "GET /v1/teams", tokA, map[string]string{"limit": "0"}, 400, limitMsg},
		{"limit 101", "GET /v1/teams", tokA, map[string]string{"limit": "101"}, 400, limitMsg},
		{"limit abc", "GET /v1/teams", tokA, map[string]string{"limit": "abc"}, 400, limitMsg},
		{"limit -1", "GET /v1/leaderboards", tokA, map[string]string{"limit": "-1"}, 400, limitMsg},
		{"limit +5", "GET /v1/teams", tokA, map[string]string{"limit": "+5"}, 400, limitMsg},
		{"limit 1.5", "GET /v1/leaderboards", tokA, map[string]string{"limit": "1.5"}, 400, limitMsg},
		{"limit empty", "GET /v1/teams", tokA, map[string]string{"limit": ""}, 400, limitMsg},
		{"limit repeated", "GET /v1/teams", tokA, map[string]string{"limit": "3,4"}, 400, limitMsg},
		{"limit huge", "GET /v1/teams", tokA, map[string]string{"limit": "99999999999999999999"}, 400, limitMsg},
		{"forged cursor", "GET /v1/teams", tokA, map[string]string{"cursor": "AQ" + strings.Repeat("A", 76)}, 400, "invalid cursor"},
		{"garbage cursor", "GET /v1/leaderboards", tokA, map[string]string{"cursor": "not a cursor"}, 400, "invalid cursor"},
		{"empty cursor", "GET /v1/teams", tokA, map[string]string{"cursor": ""}, 400, "invalid cursor"},
		{"altered cursor", "GET /v1/teams", tokA, map[string]string{"cursor": flip(teamsA, 10)}, 400, "invalid cursor"},
		{"altered cursor end", "GET /v1/teams", tokA, map[string]string{"cursor": flip(teamsA, len(teamsA)-1)}, 400, "invalid cursor"},
		{"truncated cursor", "GET /v1/teams", tokA, map[string]string{"cursor": teamsA[:len(teamsA)-2]}, 400, "invalid cursor"},
		{"extended cursor", "GET /v1/teams", tokA, map[string]string{"cursor": teamsA + "A"}, 400, "invalid cursor"},
		{"another tenant's cursor", "GET /v1/teams", tokA, map[string]string{"cursor": teamsB}, 400, "invalid cursor"},
		{"cursor given to another tenant", "GET /v1/teams", tokB, map[string]string{"cursor": teamsA}, 400, "invalid cursor"},
		{"teams cursor to leaderboards", "GET /v1/leaderboards", tokA, map[string]string{"cursor": teamsA}, 400, "invalid cursor"},
		{"leaderboards cursor to teams", "GET /v1/teams", tokA, map[string]string{"cursor": boardsA}, 400, "invalid cursor"},
		{"bad cursor with a good limit", "GET /v1/teams", tokA, map[string]string{"limit": "2", "cursor": "x"}, 400, "invalid cursor"},
		{"limit 1", "GET /v1/teams", tokA, map[string]string{"limit": "1"}, 200, ""},
		{"limit 100", "GET /v1/leaderboards", tokA, map[string]string{"limit": "100"}, 200, ""},
		{"unknown parameter", "GET /v1/teams", tokA, map[string]string{"sort": "name"}, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, f.callQuery(tc.route, bearer(tc.tok), tc.query), tc.status, tc.message)
		})
	}
}

func TestListsNeedAToken(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	id := f.createBoard(tok, `{"name":"S","teams":[]}`).json["id"].(string)
	for _, h := range []map[string]string{nil, bearer("abc.def.ghi")} {
		for _, route := range []string{"GET /v1/teams", "GET /v1/leaderboards"} {
			if r := f.callQuery(route, h, nil); r.status != 401 || r.body != `{"message":"Not Authorized"}` {
				t.Errorf("%s = %d %s", route, r.status, r.body)
			}
		}
		if r := f.call("GET /v1/leaderboard/{id}", id, h, ""); r.status != 401 {
			t.Errorf("get = %d %s", r.status, r.body)
		}
		if r := f.call("PUT /v1/leaderboard/{id}", id, h, `{"leaderboard":{"name":"X"}}`); r.status != 401 {
			t.Errorf("put = %d %s", r.status, r.body)
		}
	}
}
