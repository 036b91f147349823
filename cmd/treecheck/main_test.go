package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/internal/testdb"
	"github.com/leaderboardapi/leaderboard/pkg/ranktree"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// A board whose counts drift (here: its root's record of one child is off by three) is
// found, and repaired while clients keep submitting; no submission is lost or applied
// twice, and every rank is exact again.
func TestRepairDriftUnderConcurrentSubmits(t *testing.T) {
	client, table := testdb.Table(t)
	s := store.New(client, table, time.Now)
	s.SetTreeShape(4, 4)
	ctx := context.Background()
	const tenant = "tenant-r"
	var teams []string
	for i := range 40 {
		team, err := s.CreateTeam(ctx, tenant, fmt.Sprintf("T%d", i))
		if err != nil {
			t.Fatal(err)
		}
		teams = append(teams, team.ID)
	}
	b, err := s.CreateLeaderboard(ctx, tenant, "B", store.Settings{SortOrder: "desc", ScoreOperator: "increment", RankMode: "ordinal"}, teams[:40])
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for i, team := range teams {
		if _, err := s.SubmitScores(ctx, tenant, b.ID, []store.Submission{{TeamID: team, Score: int64(i)}}, ""); err != nil {
			t.Fatal(err)
		}
		want[team] = int64(i)
	}
	corruptRootCount(t, client, table, "BOARD#"+tenant+"#"+b.ID, 3)

	var out bytes.Buffer
	if unsound, err := Run(ctx, s, &out, tenant, b.ID, false); err != nil || unsound != 1 || !strings.Contains(out.String(), "NOT sound") {
		t.Fatalf("check of the drifted board = %d, %v:\n%s", unsound, err, out.String())
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	stop := make(chan struct{})
	for c := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				team := teams[(c*7+i)%len(teams)]
				key := fmt.Sprintf("c%d-%d", c, i)
				for try := 0; ; try++ {
					_, err := s.SubmitScores(ctx, tenant, b.ID, []store.Submission{{TeamID: team, Score: 1}}, key)
					if err == nil {
						break
					}
					if try == 100 || !(errors.Is(err, store.ErrBusy) || errors.Is(err, store.ErrOutcomeUnknown)) {
						t.Errorf("submit during repair: %v", err)
						return
					}
				}
				mu.Lock()
				want[team]++
				mu.Unlock()
			}
		})
	}
	out.Reset()
	repairer := store.New(client, table, time.Now) // as another process would
	repairer.SetTreeShape(4, 4)
	unsound, err := Run(ctx, repairer, &out, tenant, b.ID, true)
	time.Sleep(200 * time.Millisecond) // submits go on after the repair too
	close(stop)
	wg.Wait()
	if err != nil || unsound != 0 || !strings.Contains(out.String(), "repairing") {
		t.Fatalf("repair = %d, %v:\n%s", unsound, err, out.String())
	}
	out.Reset()
	if unsound, err := Run(ctx, s, &out, tenant, "", false); err != nil || unsound != 0 {
		t.Fatalf("check after the repair = %d, %v:\n%s", unsound, err, out.String())
	}
	page, _, err := s.Rankings(ctx, tenant, b.ID, 100, "")
	if err != nil || len(page) != len(teams) {
		t.Fatalf("rankings = %d entries, %v", len(page), err)
	}
	for i, r := range page {
		if r.Rank != int64(i+1) || r.Score != want[r.TeamID] {
			t.Fatalf("entry %d = %+v, want rank %d score %d", i, r, i+1, want[r.TeamID])
		}
		own, _, err := s.TeamRank(ctx, tenant, b.ID, r.TeamID, 0)
		if err != nil || own.Rank != r.Rank {
			t.Fatalf("rank of %s = %+v, %v; want %d", r.TeamID, own, err, r.Rank)
		}
	}
}

// corruptRootCount adds delta to the count the board's root records for its first child,
// as a bug or a hand edit might.
func corruptRootCount(t *testing.T, client *dynamodb.Client, table, pk string, delta int64) {
	t.Helper()
	ctx := context.Background()
	k := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: "HEAD"}}
	got, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	root, err := ranktree.Decode(got.Item["root"].(*types.AttributeValueMemberB).Value)
	if err != nil || root.Leaf {
		t.Fatalf("root = %+v, %v: the board is too small to corrupt", root, err)
	}
	root.Children[0].Count += delta
	got.Item["root"] = &types.AttributeValueMemberB{Value: ranktree.Encode(root)}
	if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: got.Item}); err != nil {
		t.Fatal(err)
	}
}
