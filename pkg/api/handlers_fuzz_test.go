package api_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/apigw"
)

// The game API's handlers, fed any request body, query parameters and path ids after
// authentication (fuzzAllow), against fuzzStore. Each target asserts fuzzAnswer (no
// panic, no 5xx, the error shape on a 4xx) and, through fuzzStore, that only the
// caller's tenant and validated input reach the store.

func fuzzCall(t *testing.T, h apigw.Handler, req apigw.Request) apigw.Response {
	t.Helper()
	resp, err := h(context.Background(), req)
	fuzzAnswer(t, resp, err)
	return resp
}

// fuzzIDs are path ids: real, well-formed but unknown, and malformed.
var fuzzIDs = []string{fuzzTeam, fuzzBoard, "7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "8ZZZZZZZZZZZZZZZZZZZZZZZZZ", "01j00000000000000000000000", "x", "", "a/b", "{{teamId}}", "\x00\xff"}

func FuzzCreateTeam(f *testing.F) {
	fuzzShareDynamoDB(f)
	for _, body := range []string{
		`{"teamName":"A Team"}`, `{"teamName":"  A Team  "}`, `{"teamName":"   "}`, `{"teamName":""}`,
		`{"teamName":"A","admin":true}`, `{"teamName":"A"} {}`, `{"teamName":5}`, `{"teamName":null}`,
		`{"teamName":"a\u0007b"}`, `{"teamName":"a\u2028b"}`, `{}`, `[]`, `null`, ``,
		`{"teamName":"` + strings.Repeat("é", 128) + `"}`, `{"teamName":"` + strings.Repeat("x", 129) + `"}`,
	} {
		f.Add(body, false, []byte{})
	}
	f.Add(base64.StdEncoding.EncodeToString([]byte(`{"teamName":"Encoded"}`)), true, []byte{})
	f.Add(`{"teamName":"A"}`, false, []byte{1})
	f.Add(`{"teamName":"A"}`, false, []byte{2})
	f.Fuzz(func(t *testing.T, body string, isBase64 bool, outcomes []byte) {
		req := fuzzRequest("POST", nil, nil, nil, body)
		req.IsBase64Encoded = isBase64
		fuzzCall(t, api.CreateTeam(fuzzAllow{}, newFuzzStore(t, outcomes)), req)
	})
}

func FuzzUpdateTeam(f *testing.F) {
	fuzzShareDynamoDB(f)
	for _, body := range []string{
		`{"team":{"teamName":"B Team"}}`, `{"team":{"teamName":"B","createdAt":"2020-01-01T00:00:00.000Z"}}`,
		`{"team":{"teamName":"B","id":"x"}}`, `{"team":{"teamName":"B","modifiedAt":null}}`, `{"team":null}`, `{"team":{}}`,
		`{"team":{"teamName":"B"},"x":1}`, `{"teamName":"B"}`, `{"team":[]}`,
	} {
		f.Add(fuzzTeam, body, []byte{})
	}
	for _, id := range fuzzIDs {
		f.Add(id, `{"team":{"teamName":"C"}}`, []byte{})
	}
	f.Add(fuzzTeam, `{"team":{"teamName":"C"}}`, []byte{1})
	f.Fuzz(func(t *testing.T, id, body string, outcomes []byte) {
		req := fuzzRequest("PUT", map[string]string{"id": id}, nil, nil, body)
		fuzzCall(t, api.UpdateTeam(fuzzAllow{}, newFuzzStore(t, outcomes)), req)
	})
}

func FuzzCreateLeaderboard(f *testing.F) {
	fuzzShareDynamoDB(f)
	teams := `["` + fuzzTeam + `","01J00000000000000000000002"]`
	for _, body := range []string{
		`{"name":"Season 1","teams":` + teams + `}`,
		`{"name":"Speedrun","teams":[],"sortOrder":"asc","minScore":0}`,
		`{"name":"Cup","teams":` + teams + `,"rankMode":"competition"}`,
		`{"name":"S","teams":[],"maxScore":9007199254740991}`,
		`{"name":"S","teams":[],"minScore":-9007199254740992}`,
		`{"name":"S","teams":[],"minScore":10,"maxScore":-10}`,
		`{"name":"S","teams":[],"minScore":1e3,"maxScore":"5"}`,
		`{"name":"S","teams":[],"minScore":null,"maxScore":1.5}`,
		`{"name":"S","teams":[],"scoreOperator":"increment","sortOrder":"desc","rankMode":"ordinal"}`,
		`{"name":"S","teams":[],"scoreOperator":"max"}`,
		`{"name":"S","teams":[],"sortOrder":null}`,
		`{"name":"S1","teams":"x"}`, `{"name":"S1","teams":[1]}`, `{"name":"S1"}`,
		`{"name":null,"teams":[]}`, `{"name":5,"teams":[]}`, `{"name":"  ","teams":[]}`, `{"name":"a\u0007b","teams":[]}`,
		`{"teams":[]}`, `{"teams":["` + fuzzTeam + `","` + fuzzTeam + `"]}`, `{"teams":null}`,
		`{"name":"X","teams":[],"id":"x"}`,
	} {
		f.Add(body, []byte{})
	}
	f.Add(`{"name":"Season 1","teams":`+teams+`}`, []byte{1})
	f.Add(`{"name":"Season 1","teams":`+teams+`}`, []byte{2})
	f.Fuzz(func(t *testing.T, body string, outcomes []byte) {
		fuzzCall(t, api.CreateLeaderboard(fuzzAllow{}, newFuzzStore(t, outcomes)), fuzzRequest("POST", nil, nil, nil, body))
	})
}

func FuzzUpdateLeaderboard(f *testing.F) {
	fuzzShareDynamoDB(f)
	for _, body := range []string{
		`{"leaderboard":{"name":"Speedrun Cup"}}`, `{"leaderboard":{"name":"  Season 2  "}}`, `{"leaderboard":null}`,
		`{"leaderboard":{}}`, `{"leaderboard":{"name":"  "}}`, `{"leaderboard":{"name":"X","sortOrder":"asc"}}`,
		`{"leaderboard":{"name":"X","minScore":null}}`, `{"leaderboard":{"name":"X","teams":[]}}`,
		`{"leaderboard":{"name":"X","teamCount":3}}`, `{"name":"X"}`,
	} {
		f.Add(fuzzBoard, body, []byte{})
	}
	for _, id := range fuzzIDs {
		f.Add(id, `{"leaderboard":{"name":"New"}}`, []byte{})
	}
	f.Add(fuzzBoard, `{"leaderboard":{"name":"New"}}`, []byte{1})
	f.Fuzz(func(t *testing.T, id, body string, outcomes []byte) {
		req := fuzzRequest("PUT", map[string]string{"id": id}, nil, nil, body)
		fuzzCall(t, api.UpdateLeaderboard(fuzzAllow{}, newFuzzStore(t, outcomes)), req)
	})
}

func FuzzAddTeams(f *testing.F) {
	fuzzShareDynamoDB(f)
	for _, body := range []string{
		`{"teams":["` + fuzzTeam + `"]}`, `{"teams":["` + fuzzTeam + `","` + fuzzTeam + `","x"]}`,
		`{"teams":[]}`, `{"teams":null}`, `{"teams":[null]}`, `{}`, `{"teams":"x"}`, `{"team":"x"}`,
	} {
		f.Add(fuzzBoard, body, []byte{})
	}
	f.Add("x", `{"teams":["`+fuzzTeam+`"]}`, []byte{})
	f.Add(fuzzBoard, `{"teams":["`+fuzzTeam+`"]}`, []byte{1})
	f.Add(fuzzBoard, `{"teams":["`+fuzzTeam+`"]}`, []byte{2})
	f.Fuzz(func(t *testing.T, id, body string, outcomes []byte) {
		req := fuzzRequest("POST", map[string]string{"id": id}, nil, nil, body)
		fuzzCall(t, api.AddTeams(fuzzAllow{}, newFuzzStore(t, outcomes)), req)
	})
}

func FuzzSubmitScores(f *testing.F) {
	fuzzShareDynamoDB(f)
	team := fuzzTeam
	many := make([]string, 101)
	for i := range many {
		many[i] = `{"teamId":"` + team + `","score":1}`
	}
	for _, body := range []string{
		`{"teamId":"` + team + `","score":120}`,
		`{"teamId":"` + team + `","score":5,"operator":"increment"}`,
		`{"scores":[{"teamId":"` + team + `","score":150},{"teamId":"01J00000000000000000000002","score":120,"operator":"set"}]}`,
		`{"score":1}`, `{"teamId":"` + team + `"}`, `{"teamId":"` + team + `","score":1.5}`,
		`{"teamId":"` + team + `","score":9007199254740992}`, `{"teamId":"` + team + `","score":-9007199254740991}`,
		`{"teamId":"` + team + `","score":1e3}`, `{"teamId":"` + team + `","score":1E+2}`, `{"teamId":"` + team + `","score":-0}`,
		`{"teamId":"` + team + `","score":"ten"}`, `{"teamId":"` + team + `","score":1,"operator":"max"}`,
		`{"teamId":"` + team + `","score":1,"scores":[]}`, `{"scores":[]}`, `{"scores":[` + strings.Join(many, ",") + `]}`,
		`{"scores":[{"teamId":"` + team + `","score":1},{"teamId":"` + team + `","score":0.5}]}`,
		`{"scores":[null]}`, `{"scores":null}`, `{"teamId":null,"score":null}`,
		`{"teamId":"` + team + `","score":1,"rank":1}`,
	} {
		f.Add(fuzzBoard, body, "", []byte{})
	}
	for _, key := range []string{"round-2", "a b", strings.Repeat("k", 255), strings.Repeat("k", 256), "\x7f", "ключ"} {
		f.Add(fuzzBoard, `{"teamId":"`+team+`","score":1}`, key, []byte{})
	}
	for i := byte(1); i <= 6; i++ {
		f.Add(fuzzBoard, `{"scores":[{"teamId":"`+team+`","score":1}]}`, "round-2", []byte{i})
	}
	f.Fuzz(func(t *testing.T, id, body, idempotencyKey string, outcomes []byte) {
		var headers map[string]string
		if idempotencyKey != "" {
			headers = map[string]string{"idempotency-key": idempotencyKey}
		}
		req := fuzzRequest("POST", map[string]string{"id": id}, nil, headers, body)
		fuzzCall(t, api.SubmitScores(fuzzAllow{}, newFuzzStore(t, outcomes)), req)
	})
}

// FuzzListParams feeds the list endpoints (teams, leaderboards, a board's rankings) any
// ?limit= and ?cursor=, present or not.
func FuzzListParams(f *testing.F) {
	fuzzShareDynamoDB(f)
	teamsScope := "teams/" + fuzzTenant
	boardsScope := "leaderboards/" + fuzzTenant
	rankingsScope := "rankings/" + fuzzTenant + "/" + fuzzBoard
	teamsCursor := fuzzCursors.Seal(teamsScope, []byte(fuzzTeam))
	for _, seed := range []struct {
		list   byte
		limit  string
		cursor *string
	}{
		{0, "1", nil}, {0, "25", nil}, {0, "100", nil}, {0, "0", nil}, {0, "101", nil}, {0, "abc", nil}, {1, "-1", nil},
		{0, "+5", nil}, {1, "1.5", nil}, {0, "", nil}, {0, "3,4", nil}, {0, "99999999999999999999", nil}, {0, "0001", nil},
		{0, "", fuzzPtr("AQ" + strings.Repeat("A", 76))}, {1, "", fuzzPtr("not a cursor")}, {0, "", fuzzPtr("")},
		{0, "2", fuzzPtr(teamsCursor)}, {1, "", fuzzPtr(teamsCursor)}, {2, "", fuzzPtr(teamsCursor)},
		{0, "", fuzzPtr(fuzzCursors.Seal(teamsScope, []byte("not an id")))},
		{1, "1", fuzzPtr(fuzzCursors.Seal(boardsScope, []byte(fuzzBoard)))},
		{2, "1", fuzzPtr(fuzzCursors.Seal(rankingsScope, []byte("\x00\xff"+fuzzTeam)))},
		{2, "3", nil},
	} {
		cursor := ""
		if seed.cursor != nil {
			cursor = *seed.cursor
		}
		f.Add(seed.list, fuzzBoard, seed.limit, seed.limit != "" || seed.cursor == nil, cursor, seed.cursor != nil, []byte{})
	}
	f.Add(byte(2), "x", "", false, "", false, []byte{})
	f.Add(byte(0), fuzzBoard, "", false, "", false, []byte{1})
	f.Fuzz(func(t *testing.T, list byte, board, limit string, hasLimit bool, cursor string, hasCursor bool, outcomes []byte) {
		query := map[string]string{}
		if hasLimit {
			query["limit"] = limit
		}
		if hasCursor {
			query["cursor"] = cursor
		}
		s := newFuzzStore(t, outcomes)
		var h apigw.Handler
		switch list % 3 {
		case 0:
			h = api.ListTeams(fuzzAllow{}, s, fuzzCursors)
		case 1:
			h = api.ListLeaderboards(fuzzAllow{}, s, fuzzCursors)
		default:
			h = api.Rankings(fuzzAllow{}, s, fuzzCursors)
		}
		fuzzCall(t, h, fuzzRequest("GET", map[string]string{"id": board}, query, nil, ""))
	})
}

func FuzzTeamRank(f *testing.F) {
	fuzzShareDynamoDB(f)
	for _, around := range []string{"2", "0", "50", "51", "-1", "+1", " 1", "1e1", "", "007", "1,2", "99999999999999999999"} {
		f.Add(fuzzBoard, fuzzTeam, around, true, []byte{})
	}
	f.Add(fuzzBoard, fuzzTeam, "", false, []byte{})
	f.Add("x", fuzzTeam, "", false, []byte{})
	f.Add(fuzzBoard, "", "1", true, []byte{})
	for i := byte(1); i <= 3; i++ {
		f.Add(fuzzBoard, fuzzTeam, "5", true, []byte{i})
	}
	f.Fuzz(func(t *testing.T, board, team, around string, hasAround bool, outcomes []byte) {
		var query map[string]string
		if hasAround {
			query = map[string]string{"around": around}
		}
		req := fuzzRequest("GET", map[string]string{"id": board, "teamId": team}, query, nil, "")
		fuzzCall(t, api.TeamRank(fuzzAllow{}, newFuzzStore(t, outcomes)), req)
	})
}

// FuzzPathIDs feeds the endpoints that take nothing but path ids any {id} and {teamId}.
func FuzzPathIDs(f *testing.F) {
	fuzzShareDynamoDB(f)
	for route := range byte(5) {
		for _, id := range fuzzIDs {
			f.Add(route, id, fuzzTeam, []byte{})
		}
		for i := byte(1); i <= 4; i++ {
			f.Add(route, fuzzBoard, fuzzTeam, []byte{i})
		}
	}
	f.Fuzz(func(t *testing.T, route byte, id, teamID string, outcomes []byte) {
		s := newFuzzStore(t, outcomes)
		var h apigw.Handler
		method := "GET"
		switch route % 5 {
		case 0:
			h = api.GetTeam(fuzzAllow{}, s)
		case 1:
			h, method = api.DeleteTeam(fuzzAllow{}, s), "DELETE"
		case 2:
			h = api.GetLeaderboard(fuzzAllow{}, s)
		case 3:
			h, method = api.DeleteLeaderboard(fuzzAllow{}, s), "DELETE"
		default:
			h, method = api.RemoveTeam(fuzzAllow{}, s), "DELETE"
		}
		fuzzCall(t, h, fuzzRequest(method, map[string]string{"id": id, "teamId": teamID}, nil, nil, ""))
	})
}

func fuzzPtr(s string) *string { return &s }
