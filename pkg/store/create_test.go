package store_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// intercepted returns a store whose client hands the nth call (1-based) of op to
// handle, with next to make the real call to DynamoDB Local, and makes every other
// call as it is.
func intercepted(client *dynamodb.Client, table, op string, nth int64,
	handle func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error),
) *store.Store {
	var calls atomic.Int64
	return store.New(passedThrough(client, func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if awsmiddleware.GetOperationName(ctx) == op && calls.Add(1) == nth {
			return handle(ctx, in, next)
		}
		return next.HandleInitialize(ctx, in)
	}), table, time.Now)
}

// TestCreateWithAnUnknownOutcome covers a small create (one transaction) whose answer
// is an error that does not say whether DynamoDB applied it: the create must tell the
// client the truth, whichever happened, and a board it calls failed must never appear.
func TestCreateWithAnUnknownOutcome(t *testing.T) {
	s, client, table := newStore(t)
	ctx := context.Background()
	teams := makeTeams(t, s, "tenant-u", 5)
	lost := errors.New("injected: 500, or a timeout")

	t.Run("applied, answer lost", func(t *testing.T) {
		lossy := intercepted(client, table, "TransactWriteItems", 1, func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if _, _, err := next.HandleInitialize(ctx, in); err != nil {
				t.Errorf("the real transaction: %v", err)
			}
			return middleware.InitializeOutput{}, middleware.Metadata{}, lost
		})
		b, err := lossy.CreateLeaderboard(ctx, "tenant-u", "Applied", store.Settings{}, teams)
		if err != nil {
			t.Fatalf("create whose transaction was applied: %v", err)
		}
		if !sameSet(b.Teams, teams) || b.MemberCount != len(teams) {
			t.Fatalf("answer teams = %v (%d), want %v", b.Teams, b.MemberCount, teams)
		}
		got, err := s.GetLeaderboard(ctx, "tenant-u", b.ID)
		if err != nil || got.MemberCount != len(teams) {
			t.Fatalf("get = %+v, %v", got, err)
		}
		if _, err := s.CheckMembershipsForTest(ctx, "tenant-u", b.ID); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("applied, answered only at the deadline", func(t *testing.T) {
		// A timeout: the transaction is applied, and its answer is still awaited when
		// the request's time runs out. The create has kept time to settle it.
		slow := intercepted(client, table, "TransactWriteItems", 1, func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if _, _, err := next.HandleInitialize(ctx, in); err != nil {
				t.Errorf("the real transaction: %v", err)
			}
			<-ctx.Done()
			return middleware.InitializeOutput{}, middleware.Metadata{}, ctx.Err()
		})
		ctx, cancel := context.WithTimeout(ctx, 2500*time.Millisecond)
		defer cancel()
		b, err := slow.CreateLeaderboard(ctx, "tenant-u", "Timed out", store.Settings{}, teams)
		if err != nil {
			t.Fatalf("create whose transaction was applied: %v", err)
		}
		if !sameSet(b.Teams, teams) {
			t.Fatalf("answer teams = %v, want %v", b.Teams, teams)
		}
	})

	t.Run("not applied, and arriving late", func(t *testing.T) {
		// The request is held back, as a slow network may, and sent after the create
		// has answered: it must then be refused.
		var held *dynamodb.TransactWriteItemsInput
		late := intercepted(client, table, "TransactWriteItems", 1, func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			held = in.Parameters.(*dynamodb.TransactWriteItemsInput)
			return middleware.InitializeOutput{}, middleware.Metadata{}, lost
		})
		_, err := late.CreateLeaderboard(ctx, "tenant-u", "Late", store.Settings{}, teams)
		if !errors.Is(err, lost) {
			t.Fatalf("create whose transaction was not applied: %v, want the cause", err)
		}
		m := regexp.MustCompile(`leaderboard ([0-9A-Z]{26}) not created`).FindStringSubmatch(err.Error())
		if m == nil {
			t.Fatalf("the error does not name the board: %v", err)
		}
		if _, err := client.TransactWriteItems(ctx, held); err == nil {
			t.Fatal("the held-back transaction was applied after the create answered that it failed")
		}
		if _, err := s.GetLeaderboard(ctx, "tenant-u", m[1]); !errors.Is(err, store.ErrLeaderboardNotFound) {
			t.Fatalf("get the failed board: %v", err)
		}
		if members, err := s.MembershipsForTest(ctx, "tenant-u", m[1]); err != nil || len(members) != 0 {
			t.Fatalf("%d members of the failed board (%v)", len(members), err)
		}
		for _, team := range teams {
			if boards, err := s.TeamBoardsForTest(ctx, "tenant-u", team); err != nil || slices.Contains(boards, m[1]) {
				t.Fatalf("team %s lists boards %v (%v)", team, boards, err)
			}
		}
		// The fence reads as a deleted board, and DELETE with the id clears it.
		if done, err := s.DeleteLeaderboard(ctx, "tenant-u", m[1]); err != nil || !done {
			t.Fatalf("delete the fence: %v, %v", done, err)
		}
	})

	t.Run("not applied, the fence's answer lost", func(t *testing.T) {
		// The transaction fails before it is applied; the fence is put, its answer is
		// lost, and the SDK's repeat finds the fence in place.
		_, err := fenceAnswerLost(client, table, lost).CreateLeaderboard(ctx, "tenant-u", "Fenced twice", store.Settings{}, teams)
		if !errors.Is(err, lost) || !regexp.MustCompile(`not created`).MatchString(err.Error()) {
			t.Fatalf("create = %v, want not created", err)
		}
	})

	list, _, err := s.ListLeaderboards(ctx, "tenant-u", 10, "")
	var names []string
	for _, b := range list {
		names = append(names, b.Name)
	}
	slices.Sort(names)
	if err != nil || !slices.Equal(names, []string{"Applied", "Timed out"}) {
		t.Fatalf("list = %v, %v; want the applied boards alone", names, err)
	}
}

// fenceAnswerLost returns a store whose transactions fail with lost before being
// applied, and whose first PutItem is applied twice, the first answer lost: what the
// SDK's retry of a put whose answer never came does.
func fenceAnswerLost(client *dynamodb.Client, table string, lost error) *store.Store {
	var puts atomic.Int64
	return store.New(passedThrough(client, func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		switch awsmiddleware.GetOperationName(ctx) {
		case "TransactWriteItems":
			return middleware.InitializeOutput{}, middleware.Metadata{}, lost
		case "PutItem":
			if puts.Add(1) == 1 {
				if _, _, err := next.HandleInitialize(ctx, in); err != nil {
					return middleware.InitializeOutput{}, middleware.Metadata{}, err
				}
			}
		}
		return next.HandleInitialize(ctx, in)
	}), table, time.Now)
}

// TestCreateKeepsTimeForItsUndo: a big create that runs out of time stops joining
// while the undo still has its time inside the request's deadline, so the board is
// abandoned cleanly rather than left half-created when Lambda stops the function.
func TestCreateKeepsTimeForItsUndo(t *testing.T) {
	s, client, table := newStore(t)
	teams := makeTeams(t, s, "tenant-d", 300) // the board, then 7 transactions of teams
	// Every transaction after the board's takes 900 ms, the undo's too. With a 3.5 s
	// deadline, joins two at a time, and 3 s kept in hand, the create stops after the
	// first two joins, at 0.9 s, and its undo ends by 1.8 s. Kept only 1 s in hand, it
	// would go on until 2.7 s, and the undo, cut off at the deadline, would leave the
	// board half-created.
	slow := watched(client, table, func(op string, n int64) {
		if op == "TransactWriteItems" && n > 1 {
			time.Sleep(900 * time.Millisecond)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3500*time.Millisecond)
	defer cancel()
	_, err := slow.CreateLeaderboard(ctx, "tenant-d", "Late", store.Settings{}, teams)
	if err == nil {
		t.Fatal("create with too little time succeeded")
	}
	m := regexp.MustCompile(`leaderboard ([0-9A-Z]{26}) abandoned`).FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("create = %v, want the board abandoned", err)
	}
	ctx = context.Background()
	if list, _, err := s.ListLeaderboards(ctx, "tenant-d", 10, ""); err != nil || len(list) != 0 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if done, err := s.DeleteLeaderboard(ctx, "tenant-d", m[1]); err != nil || !done {
		t.Fatalf("delete abandoned board: %v, %v", done, err)
	}
	if members, err := s.MembershipsForTest(ctx, "tenant-d", m[1]); err != nil || len(members) != 0 {
		t.Fatalf("%d member items left (%v)", len(members), err)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
