package client_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/leaderboardapi/leaderboard/internal/localtest"
	"github.com/leaderboardapi/leaderboard/internal/testdb"
	"github.com/leaderboardapi/leaderboard/pkg/client"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// TestGeneratedClientIsCurrent regenerates the client from openapi.yaml and compares:
// the committed client.gen.go must be what the document generates.
func TestGeneratedClientIsCurrent(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "client.gen.go")
	// The same settings, with the output in dir (the config's output wins over -o).
	config, err := os.ReadFile("oapi-codegen.yaml")
	if err != nil {
		t.Fatal(err)
	}
	config = bytes.Replace(config, []byte("output: client.gen.go"), []byte("output: "+out), 1)
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), config, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "tool", "oapi-codegen", "-config", filepath.Join(dir, "config.yaml"), "../../openapi.yaml")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oapi-codegen: %v\n%s", err, msg)
	}
	fresh, _ := os.ReadFile(out)
	committed, err := os.ReadFile("client.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, committed) {
		t.Fatal("client.gen.go is not what openapi.yaml generates: run go generate ./pkg/client")
	}
}

// TestWalkthrough runs the README's walkthrough through the generated client against
// the local API: sign-up, credentials, token, teams, a leaderboard, scores, rankings
// paged and around a team. Every exchange is also held to openapi.yaml.
func TestWalkthrough(t *testing.T) {
	srv := localtest.Start(t)
	ctx := context.Background()
	jar, _ := cookiejar.New(nil)
	c, err := client.NewClientWithResponses(srv.URL, client.WithHTTPClient(&http.Client{Jar: jar}))
	if err != nil {
		t.Fatal(err)
	}
	origin := srv.URL
	check := func(step string, status, want int) {
		t.Helper()
		if status != want {
			t.Fatalf("%s: status %d, want %d", step, status, want)
		}
	}

	up, err := c.SignUpWithResponse(ctx, &client.SignUpParams{Origin: &origin}, client.SignUpRequest{Email: "you@example.com", Password: "a long passphrase of yours"})
	if err != nil {
		t.Fatal(err)
	}
	check("sign up", up.StatusCode(), 201)
	made, err := c.CreateClientWithResponse(ctx, &client.CreateClientParams{Origin: &origin}, client.CreateClientRequest{Label: "walkthrough"})
	if err != nil {
		t.Fatal(err)
	}
	check("create client", made.StatusCode(), 201)
	creds := made.JSON201

	tok, err := c.GetTokenWithResponse(ctx, &client.GetTokenParams{XApiKey: creds.ApiKey, XClientId: creds.ClientId, XClientSecret: creds.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	check("token", tok.StatusCode(), 200)
	bearer := func(ctx context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+tok.JSON200.AuthToken)
		return nil
	}

	team := func(name string) string {
		t.Helper()
		r, err := c.CreateTeamWithResponse(ctx, client.CreateTeamRequest{TeamName: name}, bearer)
		if err != nil {
			t.Fatal(err)
		}
		check("create team "+name, r.StatusCode(), 201)
		return r.JSON201.Id
	}
	reds, blues, greens := team("Reds"), team("Blues"), team("Greens")
	renamed, err := c.UpdateTeamWithResponse(ctx, reds, client.UpdateTeamRequest{Team: struct {
		TeamName client.Name `json:"teamName"`
	}{TeamName: "Red Rockets"}}, bearer)
	if err != nil {
		t.Fatal(err)
	}
	check("rename team", renamed.StatusCode(), 200)

	competition := client.Competition
	name := "Cup"
	board, err := c.CreateLeaderboardWithResponse(ctx, client.CreateLeaderboardRequest{Name: &name, Teams: []client.TeamRef{reds, blues}, RankMode: &competition}, bearer)
	if err != nil {
		t.Fatal(err)
	}
	check("create leaderboard", board.StatusCode(), 201)
	cup := board.JSON201.Id
	added, err := c.AddTeamsWithResponse(ctx, cup, client.AddTeamsRequest{Teams: []client.TeamRef{greens}}, bearer)
	if err != nil {
		t.Fatal(err)
	}
	check("add team", added.StatusCode(), 204)

	var one client.SubmitScoresRequest
	one.FromSubmission(client.Submission{TeamId: reds, Score: 120})
	first, err := c.SubmitScoresWithResponse(ctx, cup, nil, one, bearer)
	if err != nil {
		t.Fatal(err)
	}
	check("submit", first.StatusCode(), 200)
	if r, _ := first.JSON200.AsSubmissionResult(); r.Rank != 1 || r.Score != 120 {
		t.Errorf("first submit answered %+v", r)
	}
	var batch client.SubmitScoresRequest
	batch.FromSubmissionBatch(client.SubmissionBatch{Scores: []client.Submission{{TeamId: blues, Score: 150}, {TeamId: greens, Score: 120}}})
	key := "round-2"
	for range 2 { // the repeat is answered from the Idempotency-Key, applying nothing twice
		r, err := c.SubmitScoresWithResponse(ctx, cup, &client.SubmitScoresParams{IdempotencyKey: &key}, batch, bearer)
		if err != nil {
			t.Fatal(err)
		}
		check("submit a batch", r.StatusCode(), 200)
	}

	// The rankings, two to a page: Blues 150 at 1, then Red Rockets and Greens tied at 2.
	limit := 2
	page, err := c.GetRankingsWithResponse(ctx, cup, &client.GetRankingsParams{Limit: &limit}, bearer)
	if err != nil {
		t.Fatal(err)
	}
	check("rankings", page.StatusCode(), 200)
	got := page.JSON200.Rankings
	if page.JSON200.NextCursor == nil {
		t.Fatal("no next page after 2 of 3")
	}
	next, err := c.GetRankingsWithResponse(ctx, cup, &client.GetRankingsParams{Limit: &limit, Cursor: page.JSON200.NextCursor}, bearer)
	if err != nil {
		t.Fatal(err)
	}
	check("rankings, page 2", next.StatusCode(), 200)
	got = append(got, next.JSON200.Rankings...)
	if next.JSON200.NextCursor != nil || len(got) != 3 || got[0].TeamId != blues || got[0].Rank != 1 || got[1].Rank != 2 || got[2].Rank != 2 {
		t.Errorf("rankings %+v", got)
	}
	if got[1].TeamName != "Red Rockets" {
		t.Errorf("the renamed team ranks as %q", got[1].TeamName)
	}

	around := 1
	rank, err := c.GetTeamRankWithResponse(ctx, cup, greens, &client.GetTeamRankParams{Around: &around}, bearer)
	if err != nil {
		t.Fatal(err)
	}
	check("rank around", rank.StatusCode(), 200)
	if rank.JSON200.Entry.Rank != 2 || rank.JSON200.Entry.Score != 120 || len(rank.JSON200.Around) != 2 {
		t.Errorf("Greens' rank %+v", rank.JSON200)
	}

	one1 := 1
	teams, err := c.ListTeamsWithResponse(ctx, &client.ListTeamsParams{Limit: &one1}, bearer)
	if err != nil {
		t.Fatal(err)
	}
	check("teams", teams.StatusCode(), 200)
	if len(teams.JSON200.Teams) != 1 || teams.JSON200.NextCursor == nil {
		t.Errorf("first page of teams %+v", teams.JSON200)
	}

	del, err := c.DeleteTeamWithResponse(ctx, greens, bearer)
	if err != nil {
		t.Fatal(err)
	}
	check("delete team", del.StatusCode(), 204)
	gone, err := c.GetTeamWithResponse(ctx, greens, bearer)
	if err != nil {
		t.Fatal(err)
	}
	check("deleted team", gone.StatusCode(), 404)
	if gone.JSON404 == nil || gone.JSON404.Message != "team not found" {
		t.Errorf("deleted team answered %s", gone.Body)
	}
	t.Logf("operations held to openapi.yaml: %v", srv.Contract.Seen())
}
