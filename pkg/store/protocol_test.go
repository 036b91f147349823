package store_test

// Each test here stops the board protocol between two of its steps (the store's test
// hooks) and runs a competing write or read there: the interleavings that broke the
// earlier count-tree protocol (issue "Ranks that stay exact, and writes that lose
// nothing"). Each must end with the board whole and every answer exact.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/dynamofault"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

func submit(t *testing.T, s *store.Store, board string, subs ...store.Submission) []store.Ranked {
	t.Helper()
	got, err := s.SubmitScores(context.Background(), "tenant-s", board, subs, "")
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// scores reads the whole board as team -> score, in rank order, checking the tree.
func scores(t *testing.T, s *store.Store, board string) ([]string, map[string]int64) {
	t.Helper()
	ctx := context.Background()
	if err := s.CheckTreeForTest(ctx, "tenant-s", board); err != nil {
		t.Fatal(err)
	}
	var page []store.Ranked
	for after := ""; ; {
		p, next, err := s.Rankings(ctx, "tenant-s", board, 100, after)
		if err != nil {
			t.Fatal(err)
		}
		page = append(page, p...)
		if next == "" {
			break
		}
		after = next
	}
	var order []string
	out := map[string]int64{}
	for i, r := range page {
		if r.Rank != int64(i+1) {
			t.Fatalf("entry %d has rank %d", i, r.Rank)
		}
		order = append(order, r.TeamID)
		out[r.TeamID] = r.Score
	}
	return order, out
}

// Points 1 and 2: a writer reads the tree, then, before it commits, another writer
// splits the leaf and the nodes above that the first one read. The first commit must not
// count into ranges that changed under it.
func TestSplitBetweenReadAndCommitIsNotCounted(t *testing.T) {
	s, client, table := newStore(t)
	other := store.New(client, table, time.Now)
	for _, st := range []*store.Store{s, other} {
		st.SetTreeShape(2, 3)
	}
	board, teams := scoredBoard(t, other, store.Settings{SortOrder: "desc", ScoreOperator: "set", RankMode: "ordinal"}, 14)
	for i, team := range teams[:10] {
		submit(t, other, board, store.Submission{TeamID: team, Score: int64(10 * i)})
	}
	s.OnceBeforeCommit(func() {
		// Crowd the leaf where team 0 is going, splitting it and its parents.
		submit(t, other, board, store.Submission{TeamID: teams[10], Score: 41}, store.Submission{TeamID: teams[11], Score: 42},
			store.Submission{TeamID: teams[12], Score: 43}, store.Submission{TeamID: teams[13], Score: 44})
	})
	got := submit(t, s, board, store.Submission{TeamID: teams[0], Score: 45})
	order, sc := scores(t, s, board)
	if got[0].Rank != int64(slices.Index(order, teams[0])+1) || sc[teams[0]] != 45 || len(order) != 14 {
		t.Fatalf("answered %+v; board %v %v", got[0], order, sc)
	}
}

// Points 3, 4 and 5: readers that meet a commit half visible (Query and even GetItem of
// another item may still show the old version) never mix the two: every rank, page and
// window they answer is the board before the commit or after it.
func TestReadsDuringACommitSeeOneVersion(t *testing.T) {
	opts := dynamofault.Options{
		Seed:         3,
		Transactions: true,
		Latency:      dynamofault.Latencies{Transact: dynamofault.Delay{Mean: 80 * time.Millisecond, Jitter: 20 * time.Millisecond}},
		StaleRead:    1, StaleWindow: time.Second,
	}
	client, table, l := layered(t, opts)
	s := store.New(client, table, time.Now)
	s.SetTreeShape(2, 3)
	board, teams := scoredBoard(t, s, store.Settings{SortOrder: "desc", ScoreOperator: "set", RankMode: "ordinal"}, 12)
	for i, team := range teams {
		submit(t, s, board, store.Submission{TeamID: team, Score: int64(10 * i)})
	}
	before, _ := scores(t, s, board)
	// The top team drops to the bottom while readers read.
	mover := before[0]
	after := append(slices.Clone(before[1:]), mover)
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Go(func() { submit(t, s, board, store.Submission{TeamID: mover, Score: -1}) })
	deadline := time.Now().Add(300 * time.Millisecond)
	reads := 0
	for time.Now().Before(deadline) {
		page, _, err := s.Rankings(ctx, "tenant-s", board, 12, "")
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range page {
			ids = append(ids, r.TeamID)
		}
		if !slices.Equal(ids, before) && !slices.Equal(ids, after) {
			t.Fatalf("a page mixed two versions: %v\nbefore %v\nafter  %v", ids, before, after)
		}
		own, around, err := s.TeamRank(ctx, "tenant-s", board, before[5], 2)
		if err != nil {
			t.Fatal(err)
		}
		if r := own.Rank; r != 6 && r != 5 {
			t.Fatalf("rank of a team that did not move is %d, want 6 before or 5 after", r)
		}
		ref := before
		if own.Rank == 5 {
			ref = after
		}
		i := int(own.Rank) - 1
		want := slices.Concat(ref[i-2:i], ref[i+1:i+3])
		var gotIDs []string
		for _, r := range around {
			gotIDs = append(gotIDs, r.TeamID)
		}
		if !slices.Equal(gotIDs, want) {
			t.Fatalf("window %v, want %v (rank %d)", gotIDs, want, own.Rank)
		}
		reads++
	}
	wg.Wait()
	if l.Stats().Faults[dynamofault.Invisible] == 0 {
		t.Fatalf("no read met the commit half visible in %d reads: the test proves nothing", reads)
	}
}

// Point 6: two different requests with one Idempotency-Key. The one that commits first
// owns the key; the other is refused and nothing of it is ever applied, even though it
// was checked and built before the first committed.
func TestIdempotencyKeyOwnedByTheFirstCommit(t *testing.T) {
	s, client, table := newStore(t)
	other := store.New(client, table, time.Now)
	ctx := context.Background()
	board, teams := scoredBoard(t, s, store.Settings{SortOrder: "desc", ScoreOperator: "increment", RankMode: "ordinal"}, 3)
	a := []store.Submission{{TeamID: teams[0], Score: 5}, {TeamID: teams[1], Score: 5}}
	b := []store.Submission{{TeamID: teams[2], Score: 7}}
	var bAnswer []store.Ranked
	s.OnceBeforeCommit(func() {
		var err error
		if bAnswer, err = other.SubmitScores(ctx, "tenant-s", board, b, "K"); err != nil {
			t.Error(err)
		}
	})
	if _, err := s.SubmitScores(ctx, "tenant-s", board, a, "K"); !errors.Is(err, store.ErrIdempotencyKeyReused) {
		t.Fatalf("the second request with the key: %v, want ErrIdempotencyKeyReused", err)
	}
	again, err := s.SubmitScores(ctx, "tenant-s", board, b, "K")
	if err != nil || fmt.Sprint(again) != fmt.Sprint(bAnswer) {
		t.Fatalf("repeat of the owner = %v, %v; want %v", again, err, bAnswer)
	}
	_, sc := scores(t, s, board)
	if len(sc) != 1 || sc[teams[2]] != 7 {
		t.Fatalf("board %v: only the owner's submission, once", sc)
	}
}

// Point 7: a leaderboard delete whose sweep fails half-way reads as deleted at once,
// refuses scores, answers "unfinished" (202), and the repeat leaves nothing behind.
func TestDeleteLeaderboardInterruptedThenRepeated(t *testing.T) {
	s, client, table := newStore(t)
	s.SetTreeShape(2, 3)
	ctx := context.Background()
	board, teams := scoredBoard(t, s, store.Settings{}, 40)
	for i, team := range teams {
		submit(t, s, board, store.Submission{TeamID: team, Score: int64(i)})
	}
	broken := dead(client, table, "BatchWriteItem", 2, errors.New("injected: connection reset"))
	if done, err := broken.DeleteLeaderboard(ctx, "tenant-s", board); done || !errors.Is(err, store.ErrUnfinished) {
		t.Fatalf("interrupted delete = %v, %v; want unfinished", done, err)
	}
	if _, err := s.GetLeaderboard(ctx, "tenant-s", board); !errors.Is(err, store.ErrLeaderboardNotFound) {
		t.Fatalf("a half-deleted board: %v", err)
	}
	if _, err := s.SubmitScores(ctx, "tenant-s", board, []store.Submission{{TeamID: teams[0], Score: 1}}, ""); !errors.Is(err, store.ErrLeaderboardNotFound) {
		t.Fatalf("a score for a half-deleted board: %v", err)
	}
	if done, err := s.DeleteLeaderboard(ctx, "tenant-s", board); !done || err != nil {
		t.Fatalf("repeated delete = %v, %v", done, err)
	}
	scan, err := client.Scan(ctx, &dynamodb.ScanInput{TableName: &table, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range scan.Items {
		pk := it["PK"].(*types.AttributeValueMemberS).Value
		if strings.Contains(pk, "#tenant-s#"+board) && !strings.HasPrefix(pk, "IDEM#") {
			t.Fatalf("item %s / %s left behind", pk, it["SK"].(*types.AttributeValueMemberS).Value)
		}
	}
}

// Point 8: a batch is checked, then a team leaves the board before the batch commits.
// The commit fails its condition, the batch is checked again and refused whole.
func TestBatchRefusedWholeWhenATeamLeavesMeanwhile(t *testing.T) {
	s, client, table := newStore(t)
	other := store.New(client, table, time.Now)
	ctx := context.Background()
	board, teams := scoredBoard(t, s, store.Settings{SortOrder: "desc", ScoreOperator: "increment", RankMode: "ordinal"}, 2)
	s.OnceBeforeCommit(func() {
		if err := other.RemoveTeam(ctx, "tenant-s", board, teams[1]); err != nil {
			t.Error(err)
		}
	})
	_, err := s.SubmitScores(ctx, "tenant-s", board, []store.Submission{{TeamID: teams[0], Score: 5}, {TeamID: teams[1], Score: 5}}, "")
	var notMembers *store.NotMembersError
	if !errors.As(err, &notMembers) || !slices.Equal(notMembers.IDs, teams[1:]) {
		t.Fatalf("batch = %v, want refused for %s", err, teams[1])
	}
	if _, sc := scores(t, s, board); len(sc) != 0 {
		t.Fatalf("part of a refused batch was applied: %v", sc)
	}
}

// A batch too big for one transaction goes in several commits under HEAD's lock. Its
// writer dies after the first; the next writer to come finds the lock expired, finishes
// the batch from its LOG, and then writes its own. Nothing is half-applied, nothing
// applied twice, and the idempotent repeat gets the batch's answer.
func TestBigBatchFinishedByTheNextWriter(t *testing.T) {
	s, client, table := newStore(t)
	broken := dead(client, table, "TransactWriteItems", 2, errors.New("injected: connection reset"))
	for _, st := range []*store.Store{s, broken} {
		st.SetTreeShape(2, 3)
	}
	ctx := context.Background()
	board, teams := scoredBoard(t, s, store.Settings{SortOrder: "desc", ScoreOperator: "increment", RankMode: "ordinal"}, 101)
	var batch []store.Submission
	for i, team := range teams[:100] {
		batch = append(batch, store.Submission{TeamID: team, Score: int64(i + 1)})
	}
	if _, err := broken.SubmitScores(ctx, "tenant-s", board, batch, "big"); err == nil {
		t.Fatal("the dying writer reported success")
	}
	// Another writer waits out the lock, finishes the batch, then scores.
	if err := submitUntilDone(ctx, s, board, []store.Submission{{TeamID: teams[100], Score: 1000}}, "next"); err != nil {
		t.Fatal(err)
	}
	_, sc := scores(t, s, board)
	for i, team := range teams[:100] {
		if sc[team] != int64(i+1) {
			t.Fatalf("team %d scored %d, want %d: the batch was not finished exactly once", i, sc[team], i+1)
		}
	}
	if sc[teams[100]] != 1000 {
		t.Fatalf("the next writer's own score: %d", sc[teams[100]])
	}
	answer, err := s.SubmitScores(ctx, "tenant-s", board, batch, "big")
	if err != nil || len(answer) != 100 || answer[99].Score != 100 {
		t.Fatalf("idempotent repeat = %v, %v", answer, err)
	}
	if _, sc := scores(t, s, board); sc[teams[0]] != 1 {
		t.Fatal("the repeat applied the batch again")
	}
}
