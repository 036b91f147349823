package store_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/leaderboardapi/leaderboard/pkg/cursor"
	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// markDeleting sets deleting on an item of the tenant partition, as a delete that
// stopped half-way leaves it. sk is the item's sort key.
func markDeleting(t *testing.T, client *dynamodb.Client, table, tenant, sk string) {
	t.Helper()
	_, err := client.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: &table,
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "TENANT#" + tenant},
			"SK": &types.AttributeValueMemberS{Value: sk},
		},
		UpdateExpression:          aws.String("SET deleting = :true"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":true": &types.AttributeValueMemberBOOL{Value: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func ptr(v int64) *int64 { return &v }

func TestLeaderboardSettings(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	a, _ := s.CreateTeam(ctx, "tenant-a", "A")
	b, _ := s.CreateTeam(ctx, "tenant-a", "B")
	for _, tc := range []struct {
		name     string
		settings store.Settings
		teams    []string
	}{
		{"defaults, no bounds", store.Settings{SortOrder: "desc", ScoreOperator: "best", RankMode: "ordinal"}, []string{a.ID, b.ID}},
		{"everything else", store.Settings{SortOrder: "asc", ScoreOperator: "increment", RankMode: "competition", MinScore: ptr(-1 << 53), MaxScore: ptr(0)}, []string{a.ID}},
		{"one bound", store.Settings{SortOrder: "asc", ScoreOperator: "set", RankMode: "ordinal", MaxScore: ptr(1<<53 - 1)}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			created, err := s.CreateLeaderboard(ctx, "tenant-a", "Season", tc.settings, tc.teams)
			if err != nil {
				t.Fatal(err)
			}
			if created.MemberCount != len(tc.teams) || !slices.Equal(created.Teams, tc.teams) || !sameSettings(created.Settings, tc.settings) {
				t.Fatalf("created = %+v", created)
			}
			got, err := s.GetLeaderboard(ctx, "tenant-a", created.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != created.ID || got.Name != "Season" || got.MemberCount != len(tc.teams) || got.Teams != nil ||
				!sameSettings(got.Settings, tc.settings) || got.CreatedAt.UnixMilli() != created.CreatedAt.UnixMilli() {
				t.Fatalf("get = %+v, want %+v", got, created)
			}
		})
	}
}

func sameSettings(a, b store.Settings) bool {
	eq := func(x, y *int64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	return a.SortOrder == b.SortOrder && a.ScoreOperator == b.ScoreOperator && a.RankMode == b.RankMode &&
		eq(a.MinScore, b.MinScore) && eq(a.MaxScore, b.MaxScore)
}

// A leaderboard stored before settings existed reads as the defaults it was ranked by.
func TestLeaderboardWithoutSettings(t *testing.T) {
	s, client, table := newStore(t)
	ctx := context.Background()
	id := store.NewIDForTest(time.Now())
	_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]types.AttributeValue{
		"PK":            &types.AttributeValueMemberS{Value: "TENANT#tenant-a"},
		"SK":            &types.AttributeValueMemberS{Value: "LB#" + id},
		"type":          &types.AttributeValueMemberS{Value: "leaderboard"},
		"leaderboardId": &types.AttributeValueMemberS{Value: id},
		"name":          &types.AttributeValueMemberS{Value: "Old"},
		"createdAt":     &types.AttributeValueMemberS{Value: "2026-01-01T00:00:00.000Z"},
		"modifiedAt":    &types.AttributeValueMemberS{Value: "2026-01-01T00:00:00.000Z"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := store.Settings{SortOrder: "desc", ScoreOperator: "best", RankMode: "ordinal"}
	got, err := s.GetLeaderboard(ctx, "tenant-a", id)
	if err != nil || !sameSettings(got.Settings, want) || got.Name != "Old" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	list, _, err := s.ListLeaderboards(ctx, "tenant-a", 10, "")
	if err != nil || len(list) != 1 || !sameSettings(list[0].Settings, want) {
		t.Fatalf("list = %+v, %v", list, err)
	}
	renamed, err := s.RenameLeaderboard(ctx, "tenant-a", id, "New")
	if err != nil || !sameSettings(renamed.Settings, want) {
		t.Fatalf("rename = %+v, %v", renamed, err)
	}
}

func TestRenameLeaderboard(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	settings := store.Settings{SortOrder: "asc", ScoreOperator: "set", RankMode: "competition", MinScore: ptr(5)}
	created, err := s.CreateLeaderboard(ctx, "tenant-a", "Before", settings, []string{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond)
	renamed, err := s.RenameLeaderboard(ctx, "tenant-a", created.ID, "After")
	if err != nil {
		t.Fatal(err)
	}
	if renamed.Name != "After" || renamed.ID != created.ID || !sameSettings(renamed.Settings, settings) ||
		renamed.CreatedAt.UnixMilli() != created.CreatedAt.UnixMilli() || !renamed.ModifiedAt.After(renamed.CreatedAt) {
		t.Fatalf("renamed = %+v", renamed)
	}
	if got, _ := s.GetLeaderboard(ctx, "tenant-a", created.ID); got.Name != "After" {
		t.Fatalf("get after rename = %+v", got)
	}
}

func TestLeaderboardNotFound(t *testing.T) {
	s, client, table := newStore(t)
	ctx := context.Background()
	defaults := store.Settings{SortOrder: "desc", ScoreOperator: "best", RankMode: "ordinal"}
	theirs, _ := s.CreateLeaderboard(ctx, "tenant-b", "Theirs", defaults, []string{})
	dying, _ := s.CreateLeaderboard(ctx, "tenant-a", "Dying", defaults, []string{})
	markDeleting(t, client, table, "tenant-a", "LB#"+dying.ID)
	missing := "01J00000000000000000000000"
	for _, tc := range []struct{ name, id string }{
		{"missing id", missing},
		{"malformed id", "../../etc"},
		{"empty id", ""},
		{"other tenant's leaderboard", theirs.ID},
		{"being deleted", dying.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.GetLeaderboard(ctx, "tenant-a", tc.id); !errors.Is(err, store.ErrLeaderboardNotFound) {
				t.Errorf("get: %v", err)
			}
			if _, err := s.RenameLeaderboard(ctx, "tenant-a", tc.id, "x"); !errors.Is(err, store.ErrLeaderboardNotFound) {
				t.Errorf("rename: %v", err)
			}
		})
	}
	// Renaming never created anything.
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "TENANT#tenant-a"},
		"SK": &types.AttributeValueMemberS{Value: "LB#" + missing},
	}})
	if err != nil || out.Item != nil {
		t.Fatalf("rename of a missing leaderboard wrote %v (%v)", out.Item, err)
	}
	if got, err := s.GetLeaderboard(ctx, "tenant-b", theirs.ID); err != nil || got.Name != "Theirs" {
		t.Fatalf("the other tenant's leaderboard was touched: %+v, %v", got, err)
	}
}

// pages reads a whole list with page size limit, returning the ids of each page.
func pages(t *testing.T, list func(limit int, after string) ([]string, string, error), limit int) [][]string {
	t.Helper()
	var out [][]string
	after := ""
	for range 100 {
		ids, next, err := list(limit, after)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ids)
		if next == "" {
			return out
		}
		if next != ids[len(ids)-1] {
			t.Fatalf("next = %s, want the last id of the page %v", next, ids)
		}
		after = next
	}
	t.Fatal("the list never ended")
	return nil
}

func teamIDs(s *store.Store, tenant string) func(int, string) ([]string, string, error) {
	return func(limit int, after string) ([]string, string, error) {
		teams, next, err := s.ListTeams(context.Background(), tenant, limit, after)
		ids := []string{}
		for _, t := range teams {
			ids = append(ids, t.ID)
		}
		return ids, next, err
	}
}

func boardIDs(s *store.Store, tenant string) func(int, string) ([]string, string, error) {
	return func(limit int, after string) ([]string, string, error) {
		boards, next, err := s.ListLeaderboards(context.Background(), tenant, limit, after)
		ids := []string{}
		for _, b := range boards {
			ids = append(ids, b.ID)
		}
		return ids, next, err
	}
}

func TestListTeams(t *testing.T) {
	s, client, table := newStore(t)
	ctx := context.Background()
	var ids []string
	for range 7 {
		team, err := s.CreateTeam(ctx, "tenant-a", "Team")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, team.ID)
	}
	// Other items in the same partition and other tenants' teams stay out of the list.
	if _, err := s.CreateLeaderboard(ctx, "tenant-a", "Board", store.Settings{}, []string{ids[0]}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTeam(ctx, "tenant-b", "Theirs"); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		limit int
		want  [][]string
	}{
		{3, [][]string{ids[0:3], ids[3:6], ids[6:7]}},
		{7, [][]string{ids}},
		{100, [][]string{ids}},
		{1, [][]string{ids[0:1], ids[1:2], ids[2:3], ids[3:4], ids[4:5], ids[5:6], ids[6:7]}},
	} {
		if got := pages(t, teamIDs(s, "tenant-a"), tc.limit); !slices.EqualFunc(got, tc.want, slices.Equal) {
			t.Errorf("limit %d: pages %v, want %v", tc.limit, got, tc.want)
		}
	}

	teams, next, err := s.ListTeams(ctx, "tenant-a", 1, "")
	if err != nil || len(teams) != 1 || teams[0].Name != "Team" || teams[0].CreatedAt.IsZero() || next != ids[0] {
		t.Fatalf("first page = %+v %q %v", teams, next, err)
	}

	// Teams being deleted are skipped, and a page is still full when they are there.
	markDeleting(t, client, table, "tenant-a", "TEAM#"+ids[1])
	markDeleting(t, client, table, "tenant-a", "TEAM#"+ids[2])
	if _, err := s.DeleteTeam(ctx, "tenant-a", ids[4]); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{ids[0], ids[3]}, {ids[5], ids[6]}}
	if got := pages(t, teamIDs(s, "tenant-a"), 2); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("pages %v, want %v", got, want)
	}
	// A cursor that points at a team deleted since still advances.
	if got, _, err := s.ListTeams(ctx, "tenant-a", 10, ids[4]); err != nil || len(got) != 2 || got[0].ID != ids[5] {
		t.Errorf("after a deleted team: %+v, %v", got, err)
	}
}

func TestListEmptyAndInvalid(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	teams, next, err := s.ListTeams(ctx, "tenant-a", 25, "")
	if err != nil || teams == nil || len(teams) != 0 || next != "" {
		t.Fatalf("empty teams = %#v %q %v", teams, next, err)
	}
	boards, next, err := s.ListLeaderboards(ctx, "tenant-a", 25, "")
	if err != nil || boards == nil || len(boards) != 0 || next != "" {
		t.Fatalf("empty boards = %#v %q %v", boards, next, err)
	}
	if _, _, err := s.ListTeams(ctx, "tenant-a", 0, ""); err == nil {
		t.Error("limit 0 accepted")
	}
	if _, _, err := s.ListTeams(ctx, "tenant-a", 5, "TEAM#x"); err == nil {
		t.Error("a position that is not an id was accepted")
	}
	if _, _, err := s.ListLeaderboards(ctx, "tenant-a", 5, "../x"); err == nil {
		t.Error("a position that is not an id was accepted")
	}
}

func TestListLeaderboards(t *testing.T) {
	s, client, table := newStore(t)
	ctx := context.Background()
	team, _ := s.CreateTeam(ctx, "tenant-a", "T")
	var ids []string
	for i := range 5 {
		settings := store.Settings{SortOrder: "desc", ScoreOperator: "best", RankMode: "ordinal"}
		if i == 2 {
			settings = store.Settings{SortOrder: "asc", ScoreOperator: "increment", RankMode: "competition", MinScore: ptr(-3), MaxScore: ptr(3)}
		}
		b, err := s.CreateLeaderboard(ctx, "tenant-a", "Board", settings, []string{team.ID})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, b.ID)
	}
	if _, err := s.CreateLeaderboard(ctx, "tenant-b", "Theirs", store.Settings{}, []string{}); err != nil {
		t.Fatal(err)
	}
	want := [][]string{ids[0:2], ids[2:4], ids[4:5]}
	if got := pages(t, boardIDs(s, "tenant-a"), 2); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("pages %v, want %v", got, want)
	}
	boards, _, err := s.ListLeaderboards(ctx, "tenant-a", 10, ids[1])
	if err != nil || len(boards) != 3 {
		t.Fatalf("list = %+v, %v", boards, err)
	}
	if b := boards[0]; b.ID != ids[2] || b.Name != "Board" || b.MemberCount != 1 || b.Teams != nil || b.Settings.RankMode != "competition" ||
		*b.Settings.MinScore != -3 || *b.Settings.MaxScore != 3 || b.CreatedAt.IsZero() {
		t.Fatalf("listed board = %+v", b)
	}

	markDeleting(t, client, table, "tenant-a", "LB#"+ids[0])
	want = [][]string{ids[1:5]}
	if got := pages(t, boardIDs(s, "tenant-a"), 10); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("pages %v, want %v", got, want)
	}
}

func TestListCapacityIsRecorded(t *testing.T) {
	s, _, _ := newStore(t)
	if _, err := s.CreateTeam(context.Background(), "tenant-a", "A"); err != nil {
		t.Fatal(err)
	}
	ctx, entry := reqlog.Start(context.Background())
	if _, _, err := s.ListTeams(ctx, "tenant-a", 10, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ListLeaderboards(ctx, "tenant-a", 10, ""); err != nil {
		t.Fatal(err)
	}
	// DynamoDB Local reports no units for a query that reads nothing; one team is a unit.
	if read, _ := entry.Capacity(); read < 1 {
		t.Fatalf("read capacity = %v", read)
	}
}

func TestCursorKey(t *testing.T) {
	s, _, _ := newStore(t)
	ctx, entry := reqlog.Start(context.Background())
	first, err := s.CursorKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != cursor.KeySize || bytes.Equal(first, make([]byte, cursor.KeySize)) {
		t.Fatalf("key = %x", first)
	}
	if read, write := entry.Capacity(); read <= 0 || write <= 0 {
		t.Fatalf("capacity read=%v write=%v", read, write)
	}
	again, err := s.CursorKey(ctx)
	if err != nil || !bytes.Equal(again, first) {
		t.Fatalf("second read = %x, %v; want %x", again, err, first)
	}
	// Another table has another key.
	other, _, _ := newStore(t)
	if k, err := other.CursorKey(ctx); err != nil || bytes.Equal(k, first) {
		t.Fatalf("another table's key = %x, %v", k, err)
	}
}

// Cold starts racing to create the key all end up with the one that was written.
func TestCursorKeyFirstWriterWins(t *testing.T) {
	_, client, table := newStore(t)
	ctx := context.Background()

	// Deterministically: another function creates the key between this one's read
	// (which found none) and its write.
	winner := store.New(client, table, time.Now)
	var won []byte
	loser := store.New(passedThrough(client, func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if awsmiddleware.GetOperationName(ctx) == "PutItem" && won == nil {
			k, err := winner.CursorKey(ctx)
			if err != nil {
				return middleware.InitializeOutput{}, middleware.Metadata{}, err
			}
			won = k
		}
		return next.HandleInitialize(ctx, in)
	}), table, time.Now)
	got, err := loser.CursorKey(ctx)
	if err != nil || won == nil || !bytes.Equal(got, won) {
		t.Fatalf("loser got %x, %v; the winner wrote %x", got, err, won)
	}

	// And many at once, on a fresh table.
	_, client, table = newStore(t)
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := store.New(client, table, time.Now).CursorKey(ctx)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys {
		if len(k) != cursor.KeySize || !bytes.Equal(k, keys[0]) {
			t.Fatalf("keys differ: %x", keys)
		}
	}
}
