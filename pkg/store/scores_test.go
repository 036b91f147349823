package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// scoredBoard makes a board of n teams with the given settings.
func scoredBoard(t *testing.T, s *store.Store, settings store.Settings, n int) (string, []string) {
	t.Helper()
	ctx := context.Background()
	var teams []string
	for i := range n {
		team, err := s.CreateTeam(ctx, "tenant-s", fmt.Sprintf("T%02d", i))
		if err != nil {
			t.Fatal(err)
		}
		teams = append(teams, team.ID)
	}
	b, err := s.CreateLeaderboard(ctx, "tenant-s", "Board", settings, teams[:min(n, store.MaxTeamsPerWrite)])
	if err != nil {
		t.Fatal(err)
	}
	for rest := teams[min(n, store.MaxTeamsPerWrite):]; len(rest) > 0; {
		k := min(len(rest), store.MaxTeamsPerWrite)
		if err := s.AddTeams(ctx, "tenant-s", b.ID, rest[:k]); err != nil {
			t.Fatal(err)
		}
		rest = rest[k:]
	}
	return b.ID, teams
}

func TestConcurrentSubmitsLoseNothing(t *testing.T) {
	s, _, _ := newStore(t)
	s.SetTreeShape(4, 3)
	ctx := context.Background()
	board, teams := scoredBoard(t, s, store.Settings{SortOrder: "desc", ScoreOperator: "increment", RankMode: "ordinal"}, 20)

	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for range 50 { // 50 parallel increments of one team
		wg.Go(func() {
			_, err := s.SubmitScores(ctx, "tenant-s", board, []store.Submission{{TeamID: teams[0], Score: 1}}, "")
			errs <- err
		})
	}
	for i := range 20 { // concurrent "best" submits of another team
		wg.Go(func() {
			_, err := s.SubmitScores(ctx, "tenant-s", board, []store.Submission{{TeamID: teams[1], Score: int64(i), Operator: "best"}}, "")
			errs <- err
		})
	}
	for i, team := range teams[2:] { // and everyone else moving about at once
		wg.Go(func() {
			for j := range 5 {
				_, err := s.SubmitScores(ctx, "tenant-s", board, []store.Submission{{TeamID: team, Score: int64((i*7+j*13)%11 - 5), Operator: "set"}}, "")
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	top, _, err := s.TeamRank(ctx, "tenant-s", board, teams[0], 0)
	if err != nil || top.Score != 50 {
		t.Fatalf("50 increments of 1 gave %+v, %v", top, err)
	}
	best, _, err := s.TeamRank(ctx, "tenant-s", board, teams[1], 0)
	if err != nil || best.Score != 19 {
		t.Fatalf("best of 0..19 gave %+v, %v", best, err)
	}
	page, next, err := s.Rankings(ctx, "tenant-s", board, 100, "")
	if err != nil || next != "" || len(page) != len(teams) {
		t.Fatalf("rankings: %d entries, next %q, %v", len(page), next, err)
	}
	seen := map[string]bool{}
	for i, r := range page {
		if seen[r.TeamID] || r.Rank != int64(i+1) {
			t.Fatalf("entry %d: %+v (listed before: %v)", i, r, seen[r.TeamID])
		}
		seen[r.TeamID] = true
	}
	if err := s.CheckTreeForTest(ctx, "tenant-s", board); err != nil {
		t.Fatal(err)
	}
}

func TestIdempotentSubmits(t *testing.T) {
	s, client, table := newStore(t)
	ctx := context.Background()
	board, teams := scoredBoard(t, s, store.Settings{SortOrder: "desc", ScoreOperator: "increment", RankMode: "ordinal"}, 3)
	batch := []store.Submission{{TeamID: teams[0], Score: 5}, {TeamID: teams[1], Score: 7}, {TeamID: teams[2], Score: 9}}

	// Every transaction fails, as if the function lost its connection for good.
	broken := dead(client, table, "TransactWriteItems", 1, errors.New("injected: connection reset"))
	if _, err := broken.SubmitScores(ctx, "tenant-s", board, batch, "key-1"); err == nil {
		t.Fatal("the broken batch reported success")
	}
	first, err := s.SubmitScores(ctx, "tenant-s", board, batch, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int64{5, 7, 9} {
		if first[i].Score != want {
			t.Fatalf("after the retry, submission %d scored %d, want %d (each applied once)", i, first[i].Score, want)
		}
	}
	// Between retries the board moves on; a retry still gets the first answer.
	if _, err := s.SubmitScores(ctx, "tenant-s", board, []store.Submission{{TeamID: teams[0], Score: 100}}, ""); err != nil {
		t.Fatal(err)
	}
	again, err := s.SubmitScores(ctx, "tenant-s", board, batch, "key-1")
	if err != nil || fmt.Sprint(again) != fmt.Sprint(first) {
		t.Fatalf("retry answered %v, %v; want the first answer %v", again, err, first)
	}
	now, _, _ := s.TeamRank(ctx, "tenant-s", board, teams[0], 0)
	if now.Score != 105 {
		t.Fatalf("score %d: the retry was applied again", now.Score)
	}
	if _, err := s.SubmitScores(ctx, "tenant-s", board, batch[:1], "key-1"); !errors.Is(err, store.ErrIdempotencyKeyReused) {
		t.Fatalf("a reused key with another request: %v", err)
	}
}

func TestSubmitRefusals(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	min, max := int64(0), int64(100)
	board, teams := scoredBoard(t, s, store.Settings{SortOrder: "desc", ScoreOperator: "increment", RankMode: "ordinal", MinScore: &min, MaxScore: &max}, 2)
	outsider, _ := s.CreateTeam(ctx, "tenant-s", "Outsider")

	var notMembers *store.NotMembersError
	_, err := s.SubmitScores(ctx, "tenant-s", board, []store.Submission{{TeamID: teams[0], Score: 1}, {TeamID: outsider.ID, Score: 1}}, "")
	if !errors.As(err, &notMembers) || len(notMembers.IDs) != 1 || notMembers.IDs[0] != outsider.ID {
		t.Fatalf("non-member: %v", err)
	}
	var outOfRange *store.OutOfRangeError
	_, err = s.SubmitScores(ctx, "tenant-s", board, []store.Submission{{TeamID: teams[0], Score: 60}, {TeamID: teams[0], Score: 60}}, "")
	if !errors.As(err, &outOfRange) || outOfRange.Score != 120 {
		t.Fatalf("out of range: %v", err)
	}
	// Neither refused batch wrote anything.
	if _, _, err := s.TeamRank(ctx, "tenant-s", board, teams[0], 0); !errors.Is(err, store.ErrNotRanked) {
		t.Fatalf("a refused batch left a score: %v", err)
	}
	if _, err := s.SubmitScores(ctx, "tenant-s", "01J00000000000000000000000", []store.Submission{{TeamID: teams[0], Score: 1}}, ""); !errors.Is(err, store.ErrLeaderboardNotFound) {
		t.Fatalf("unknown board: %v", err)
	}
}

// TestRankTreeAtScale grows a board past several splits on every level with the
// production tree shape's little sibling, and checks every count.
func TestRankTreeAtScale(t *testing.T) {
	s, _, _ := newStore(t)
	s.SetTreeShape(8, 4)
	ctx := context.Background()
	board, teams := scoredBoard(t, s, store.Settings{SortOrder: "asc", ScoreOperator: "set", RankMode: "ordinal"}, 200)
	for i, team := range teams {
		score := int64((i * 7919) % 1000)
		if _, err := s.SubmitScores(ctx, "tenant-s", board, []store.Submission{{TeamID: team, Score: score}}, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CheckTreeForTest(ctx, "tenant-s", board); err != nil {
		t.Fatal(err)
	}
	page, _, err := s.Rankings(ctx, "tenant-s", board, 200, "")
	if err != nil || len(page) != 200 {
		t.Fatalf("%d entries, %v", len(page), err)
	}
	for i, r := range page {
		got, _, err := s.TeamRank(ctx, "tenant-s", board, r.TeamID, 0)
		if err != nil || got.Rank != int64(i+1) {
			t.Fatalf("team at %d: %+v, %v", i, got, err)
		}
	}
}

// TestImportBoard loads a board in bulk and checks that it is a valid rank tree that
// submits then keep valid.
func TestImportBoard(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	scores := make([]store.ImportedScore, 700)
	for i := range scores {
		scores[i] = store.ImportedScore{TeamName: fmt.Sprintf("I%03d", i), Score: int64((i * 37) % 101)}
	}
	board, teams, err := s.ImportBoard(ctx, "tenant-s", "Imported", store.Settings{SortOrder: "desc", ScoreOperator: "set", RankMode: "competition"}, scores)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckTreeForTest(ctx, "tenant-s", board.ID); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if _, err := s.SubmitScores(ctx, "tenant-s", board.ID, []store.Submission{{TeamID: teams[i*17%700], Score: int64(200 - i)}}, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CheckTreeForTest(ctx, "tenant-s", board.ID); err != nil {
		t.Fatal(err)
	}
	top, _, err := s.TeamRank(ctx, "tenant-s", board.ID, teams[0], 0)
	if err != nil || top.Rank != 1 || top.Score != 200 {
		t.Fatalf("top = %+v, %v", top, err)
	}
	if got, err := s.GetLeaderboard(ctx, "tenant-s", board.ID); err != nil || got.MemberCount != 700 {
		t.Fatalf("board = %+v, %v", got, err)
	}
}

// A retried batch is checked against the scores its first try already left, not as if
// nothing had been applied: here a fresh check would see 6 + 6 > 10 and refuse it.
func TestIdempotentRetryOfABoundedBatch(t *testing.T) {
	s, client, table := newStore(t)
	ctx := context.Background()
	hi := int64(10)
	board, teams := scoredBoard(t, s, store.Settings{SortOrder: "desc", ScoreOperator: "increment", RankMode: "ordinal", MaxScore: &hi}, 2)
	batch := []store.Submission{{TeamID: teams[0], Score: 6}, {TeamID: teams[1], Score: 3}}
	broken := dead(client, table, "TransactWriteItems", 1, errors.New("injected: timeout"))
	if _, err := broken.SubmitScores(ctx, "tenant-s", board, batch, "bounded"); err == nil {
		t.Fatal("the broken batch reported success")
	}
	got, err := s.SubmitScores(ctx, "tenant-s", board, batch, "bounded")
	if err != nil || got[0].Score != 6 || got[1].Score != 3 {
		t.Fatalf("retry = %+v, %v", got, err)
	}
}
