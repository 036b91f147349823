package api_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
)

// manyTeams makes n teams of the token's tenant straight in the store, a few at a time:
// a thousand calls of POST /v1/team would only make the test slow.
func (f *fixture) manyTeams(tok string, n int) []string {
	f.t.Helper()
	ctx := context.Background()
	tenant := tenantOf(f.t, f, tok)
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	slots := make(chan struct{}, 8)
	for i := range n {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			team, err := f.store.CreateTeam(ctx, tenant, fmt.Sprintf("Team %04d", i))
			ids[i], errs[i] = team.ID, err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		f.t.Fatal(err)
	}
	return ids
}

// scoreAndRank submits a score for each team given and checks that the rankings show
// them, in order.
func (f *fixture) scoreAndRank(tok, board string, teams []string) {
	f.t.Helper()
	id := map[string]string{"id": board}
	for i, team := range teams {
		expect(f.t, f.do(submitRoute, id, bearer(tok), nil, fmt.Sprintf(`{"teamId":%q,"score":%d}`, team, 100-i)), 200, "")
	}
	r := f.do(rankingsRoute, id, bearer(tok), nil, "")
	expect(f.t, r, 200, "")
	var got []string
	for _, e := range r.json["rankings"].([]any) {
		got = append(got, e.(map[string]any)["teamId"].(string))
	}
	if !slices.Equal(got, teams) {
		f.t.Fatalf("rankings = %v, want %v", got, teams)
	}
}

func TestSeedBodyCreatesABoardOfAThousandTeams(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	teams := f.manyTeams(tok, 1000)

	// The seed's body: teams alone, here with a few repeats.
	r := f.call("POST /v1/leaderboard", "", bearer(tok), `{"teams":`+mustJSON(append(slices.Clone(teams), teams[:3]...))+`}`)
	expect(t, r, 201, "")
	if api.DefaultLeaderboardName != "Untitled leaderboard" {
		t.Fatalf("DefaultLeaderboardName = %q: the docs cite it", api.DefaultLeaderboardName)
	}
	if r.json["name"] != api.DefaultLeaderboardName || r.json["teamCount"] != 1000.0 {
		t.Fatalf("create = name %v, teamCount %v", r.json["name"], r.json["teamCount"])
	}
	if got := mustJSON(r.json["teams"]); got != mustJSON(teams) {
		t.Fatalf("teams = %d of them, want the 1000 in order", len(r.json["teams"].([]any)))
	}
	board := r.json["id"].(string)
	get := f.call("GET /v1/leaderboard/{id}", board, bearer(tok), "")
	if get.json["teamCount"] != 1000.0 || get.json["name"] != api.DefaultLeaderboardName {
		t.Fatalf("get = %s", get.body)
	}
	f.scoreAndRank(tok, board, []string{teams[999], teams[0], teams[500]})
}

func TestAddAThousandTeams(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	teams := f.manyTeams(tok, 1000)
	board := f.createBoard(tok, `{"name":"Cup","teams":`+mustJSON(teams[:2])+`}`).json["id"].(string)

	// Two of them are members already; they stay as they are.
	r := f.call("POST /v1/leaderboard/{id}/teams", board, bearer(tok), `{"teams":`+mustJSON(teams)+`}`)
	expect(t, r, 204, "")
	if got := f.call("GET /v1/leaderboard/{id}", board, bearer(tok), ""); got.json["teamCount"] != 1000.0 {
		t.Fatalf("get = %s", got.body)
	}
	if b, err := f.store.GetLeaderboard(context.Background(), tenantOf(t, f, tok), board); err != nil || b.MemberCount != 1000 {
		t.Fatalf("store: %+v, %v", b, err)
	}
	f.scoreAndRank(tok, board, []string{teams[1], teams[998], teams[400]})
}

func TestUnknownTeamsAmongAThousandWriteNothing(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	teams := f.manyTeams(tok, 1000)
	theirs := f.createTeam(f.token(f.credsB), "Theirs")
	missing := "01J00000000000000000000000"
	ids := slices.Concat(teams[:10], []string{missing}, teams[10:990], []string{theirs, "nope"}, teams[990:])
	msg := "unknown teams: " + strings.Join([]string{missing, theirs, "nope"}, ", ")

	expect(t, f.call("POST /v1/leaderboard", "", bearer(tok), `{"teams":`+mustJSON(ids)+`}`), 400, msg)
	if r := f.callQuery("GET /v1/leaderboards", bearer(tok), nil); len(r.json["leaderboards"].([]any)) != 0 {
		t.Fatalf("a refused create left a leaderboard: %s", r.body)
	}

	board := f.createBoard(tok, `{"teams":`+mustJSON(teams[:1])+`}`).json["id"].(string)
	expect(t, f.call("POST /v1/leaderboard/{id}/teams", board, bearer(tok), `{"teams":`+mustJSON(ids)+`}`), 400, msg)
	if got := f.call("GET /v1/leaderboard/{id}", board, bearer(tok), ""); got.json["teamCount"] != 1.0 {
		t.Fatalf("a refused add changed the count: %s", got.body)
	}
	// None of the others became a member.
	id := map[string]string{"id": board}
	for _, team := range []string{teams[1], teams[500], teams[999]} {
		expect(t, f.do(submitRoute, id, bearer(tok), nil, fmt.Sprintf(`{"teamId":%q,"score":1}`, team)), 400, "teams not on this leaderboard: "+team)
	}
}

func TestCreateLeaderboardNameAndTeamsRules(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	board := f.createBoard(tok, `{"name":"Cup","teams":[]}`).json["id"].(string)
	ids := func(n int) []string { // n distinct ids, short so that many fit in the body
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint(i)
		}
		return out
	}
	repeated := append(ids(2500), "0") // 2,501 ids, 2,500 distinct
	const tooMany = "teams may list at most 2500 teams per request"
	cases := []struct {
		name, route, body string
		status            int
		message, wantName string
	}{
		{"no name", "POST /v1/leaderboard", `{"teams":[]}`, 201, "", api.DefaultLeaderboardName},
		{"null name", "POST /v1/leaderboard", `{"name":null,"teams":[]}`, 201, "", api.DefaultLeaderboardName},
		{"a name", "POST /v1/leaderboard", `{"name":" Cup ","teams":[]}`, 201, "", "Cup"},
		{"empty name", "POST /v1/leaderboard", `{"name":"","teams":[]}`, 400, "name must not be empty", ""},
		{"blank name", "POST /v1/leaderboard", `{"name":"  ","teams":[]}`, 400, "name must not be empty", ""},
		{"long name", "POST /v1/leaderboard", `{"name":"` + strings.Repeat("é", 129) + `","teams":[]}`, 400, "name must be at most 128 characters", ""},
		{"control character", "POST /v1/leaderboard", `{"name":"a\u0007b","teams":[]}`, 400, "name must not contain control characters", ""},
		{"name not a string", "POST /v1/leaderboard", `{"name":5,"teams":[]}`, 400, `field "name" must be a string`, ""},
		{"no teams", "POST /v1/leaderboard", `{}`, 400, "teams is required (an array of team ids, may be empty)", ""},
		{"too many teams", "POST /v1/leaderboard", `{"teams":` + mustJSON(ids(2501)) + `}`, 400, tooMany, ""},
		{"too many teams added", "POST /v1/leaderboard/{id}/teams", `{"teams":` + mustJSON(ids(2501)) + `}`, 400, tooMany, ""},
		// At the bound the ids are read, and are not teams.
		{"most teams", "POST /v1/leaderboard", `{"teams":` + mustJSON(ids(2500)) + `}`, 400, "unknown teams: " + strings.Join(ids(2500), ", "), ""},
		{"repeats count once", "POST /v1/leaderboard/{id}/teams", `{"teams":` + mustJSON(repeated) + `}`, 400, "unknown teams: " + strings.Join(ids(2500), ", "), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.call(tc.route, board, bearer(tok), tc.body)
			expect(t, r, tc.status, tc.message)
			if tc.wantName != "" && r.json["name"] != tc.wantName {
				t.Fatalf("name = %v, want %q", r.json["name"], tc.wantName)
			}
		})
	}
}

func tenantOf(t *testing.T, f *fixture, tok string) string {
	t.Helper()
	claims, err := auth.NewVerifier(f.store, time.Now).Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return claims.TenantID
}
