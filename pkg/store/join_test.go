package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// watched returns a store whose client calls before(op, n) ahead of the nth call (from
// 1, counted per operation) of every operation, then makes the call.
func watched(client *dynamodb.Client, table string, before func(op string, n int64)) *store.Store {
	var mu sync.Mutex
	calls := map[string]int64{}
	return store.New(passedThrough(client, func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		op := awsmiddleware.GetOperationName(ctx)
		mu.Lock()
		calls[op]++
		n := calls[op]
		mu.Unlock()
		before(op, n)
		return next.HandleInitialize(ctx, in)
	}), table, time.Now)
}

// makeTeams creates n teams of the tenant, named T0000 on, a few at a time.
func makeTeams(t *testing.T, s *store.Store, tenant string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	slots := make(chan struct{}, 8)
	for i := range n {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			team, err := s.CreateTeam(context.Background(), tenant, fmt.Sprintf("T%04d", i))
			ids[i], errs[i] = team.ID, err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestCreateAndAddAThousandTeams(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	teams := makeTeams(t, s, "tenant-j", 1000)

	// Repeats count once.
	b, err := s.CreateLeaderboard(ctx, "tenant-j", "Big", store.Settings{}, append(slices.Clone(teams), teams[:10]...))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.Teams, teams) || b.MemberCount != 1000 {
		t.Fatalf("create: %d teams, memberCount %d", len(b.Teams), b.MemberCount)
	}
	members, err := s.CheckMembershipsForTest(ctx, "tenant-j", b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(members, slices.Sorted(slices.Values(teams))) {
		t.Fatalf("%d members, want the 1000 teams", len(members))
	}
	got, err := s.GetLeaderboard(ctx, "tenant-j", b.ID)
	if err != nil || got.MemberCount != 1000 {
		t.Fatalf("get = %+v, %v", got, err)
	}
	if list, _, err := s.ListLeaderboards(ctx, "tenant-j", 10, ""); err != nil || len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("list = %+v, %v", list, err)
	}

	// Adding to a board that has some of them already.
	small, err := s.CreateLeaderboard(ctx, "tenant-j", "Small", store.Settings{}, teams[:5])
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddTeams(ctx, "tenant-j", small.ID, teams); err != nil {
		t.Fatal(err)
	}
	if members, err := s.CheckMembershipsForTest(ctx, "tenant-j", small.ID); err != nil || len(members) != 1000 {
		t.Fatalf("after add: %d members, %v", len(members), err)
	}
	// Again: nothing to do, nothing changes.
	if err := s.AddTeams(ctx, "tenant-j", small.ID, teams); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetLeaderboard(ctx, "tenant-j", small.ID); err != nil || got.MemberCount != 1000 {
		t.Fatalf("after a repeated add: %+v, %v", got, err)
	}
	// More than the most one request takes is refused before anything is read.
	tooMany := make([]string, store.MaxTeamsPerWrite+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprint(i)
	}
	var unknown *store.UnknownTeamsError
	if err := s.AddTeams(ctx, "tenant-j", small.ID, tooMany); err == nil || errors.As(err, &unknown) {
		t.Fatalf("add of %d teams: %v", len(tooMany), err)
	}
}

func TestManyTeamsWithUnknownOnesWriteNothing(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	teams := makeTeams(t, s, "tenant-u", 1000)
	gone, _ := s.CreateTeam(ctx, "tenant-u", "Gone")
	if _, err := s.DeleteTeam(ctx, "tenant-u", gone.ID); err != nil {
		t.Fatal(err)
	}
	theirs, _ := s.CreateTeam(ctx, "tenant-other", "Theirs")
	missing := "01J00000000000000000000000"
	ids := slices.Concat(teams[:300], []string{missing}, teams[300:700], []string{gone.ID, "bad id"}, teams[700:], []string{theirs.ID})
	want := []string{missing, gone.ID, "bad id", theirs.ID}

	_, err := s.CreateLeaderboard(ctx, "tenant-u", "Big", store.Settings{}, ids)
	var unknown *store.UnknownTeamsError
	if !errors.As(err, &unknown) || !slices.Equal(unknown.IDs, want) {
		t.Fatalf("create: %v, want unknown %v", err, want)
	}
	if n, err := s.LeaderboardItemsForTest(ctx, "tenant-u"); err != nil || n != 0 {
		t.Fatalf("create wrote %d leaderboard items (%v)", n, err)
	}
	if n, err := s.TeamsOnBoardsForTest(ctx, "tenant-u"); err != nil || n != 0 {
		t.Fatalf("create put %d teams on a board (%v)", n, err)
	}

	b, err := s.CreateLeaderboard(ctx, "tenant-u", "Two", store.Settings{}, teams[:2])
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddTeams(ctx, "tenant-u", b.ID, ids); !errors.As(err, &unknown) || !slices.Equal(unknown.IDs, want) {
		t.Fatalf("add: %v, want unknown %v", err, want)
	}
	if m, err := s.MembershipsForTest(ctx, "tenant-u", b.ID); err != nil || len(m) != 2 {
		t.Fatalf("add left %d member items (%v), want 2", len(m), err)
	}
	if got, err := s.GetLeaderboard(ctx, "tenant-u", b.ID); err != nil || got.MemberCount != 2 {
		t.Fatalf("add: %+v, %v", got, err)
	}
	if n, err := s.TeamsOnBoardsForTest(ctx, "tenant-u"); err != nil || n != 2 {
		t.Fatalf("add put %d teams on a board (%v), want 2", n, err)
	}
}

// randomWithin spreads TestJoinsRacingTeamDeletes's random deletes over about the time
// its joins take on DynamoDB Local.
const randomWithin = time.Second

// TestJoinsRacingTeamDeletes runs a create and an add of 320 teams while some of those
// teams are deleted and renamed: at fixed points (after they were read and before
// they join; after they joined and before a created board goes live) and at random
// moments. Whatever the interleaving, the board's memberships and the teams agree.
func TestJoinsRacingTeamDeletes(t *testing.T) {
	for _, add := range []bool{false, true} {
		name := map[bool]string{false: "create", true: "add"}[add]
		t.Run(name, func(t *testing.T) {
			s, client, table := newStore(t)
			ctx := context.Background()
			tenant := "tenant-" + name
			teams := makeTeams(t, s, tenant, 320)
			var board string
			if add {
				b, err := s.CreateLeaderboard(ctx, tenant, "Board", store.Settings{}, teams[:3])
				if err != nil {
					t.Fatal(err)
				}
				board = b.ID
			}
			joining := teams[3:]
			refused := joining[300:305] // deleted after the read, before their join
			joinedGone := joining[0:5]  // deleted after their join (a create: before it goes live)
			var random []string         // deleted at random moments, one in each stretch of 30
			for i := 20; i < 300; i += 30 {
				random = append(random, joining[i])
			}
			renamedEarly := joining[305:308] // renamed before their join
			renamedLate := joining[5:8]      // renamed after it
			var deleted sync.Map
			var failures atomic.Int64
			del := func(id string) {
				var err error
				for range 5 { // a busy board, or an unfinished delete, is tried again
					var done bool
					if done, err = s.DeleteTeam(ctx, tenant, id); err == nil && done {
						deleted.Store(id, true)
						return
					}
					if err != nil && !errors.Is(err, store.ErrUnfinished) && !errors.Is(err, store.ErrBusy) {
						break
					}
				}
				t.Errorf("delete %s: %v", id, err)
				failures.Add(1)
			}
			rename := func(id string) {
				if _, err := s.RenameTeam(ctx, tenant, id, "Renamed "+id); err != nil {
					t.Errorf("rename %s: %v", id, err)
				}
			}
			// The create's first transaction puts the board; an add's first joins teams.
			firstJoin := map[bool]int64{false: 2, true: 1}[add]
			start := make(chan struct{}) // the teams have been read
			var early sync.Once
			racer := watched(client, table, func(op string, n int64) {
				switch {
				case op == "TransactWriteItems" && n >= firstJoin:
					// Every join waits for these (a create's run in parallel).
					early.Do(func() {
						for _, id := range refused {
							del(id)
						}
						for _, id := range renamedEarly {
							rename(id)
						}
						close(start)
					})
					if add && n == firstJoin+1 { // the first transaction's teams have joined
						for _, id := range joinedGone {
							del(id)
						}
						for _, id := range renamedLate {
							rename(id)
						}
					}
				case op == "UpdateItem" && !add && n == 1: // every team joined, the board not yet live
					for _, id := range joinedGone {
						del(id)
					}
					for _, id := range renamedLate {
						rename(id)
					}
				}
			})
			var wg sync.WaitGroup
			for _, id := range random {
				wg.Go(func() {
					<-start
					time.Sleep(time.Duration(rand.N(randomWithin)))
					del(id)
				})
			}
			var answer []string
			var err error
			if add {
				err = racer.AddTeams(ctx, tenant, board, joining)
			} else {
				var b store.Leaderboard
				b, err = racer.CreateLeaderboard(ctx, tenant, "Board", store.Settings{}, joining)
				board, answer = b.ID, b.Teams
			}
			wg.Wait()
			if failures.Load() > 0 {
				t.FailNow()
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			members, err := s.CheckMembershipsForTest(ctx, tenant, board)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range slices.Concat(refused, joinedGone, random) {
				if _, ok := deleted.Load(id); !ok {
					t.Fatalf("team %s was not deleted", id)
				}
				if _, found := slices.BinarySearch(members, id); found {
					t.Fatalf("deleted team %s is a member", id)
				}
			}
			want := len(joining) - len(refused) - len(joinedGone) - len(random)
			if add {
				want += 3 // the board's own
			}
			if len(members) != want {
				t.Fatalf("%d members, want %d", len(members), want)
			}
			if !add {
				// The answer lists every member, and no team its create refused; a team
				// deleted after it joined may be listed, as if deleted just after.
				for _, id := range members {
					if !slices.Contains(answer, id) {
						t.Fatalf("member %s is not in the answer", id)
					}
				}
				for _, id := range refused {
					if slices.Contains(answer, id) {
						t.Fatalf("refused team %s is in the answer", id)
					}
				}
				for _, id := range answer {
					if _, found := slices.BinarySearch(members, id); !found {
						if _, ok := deleted.Load(id); !ok {
							t.Fatalf("answer lists %s, neither a member nor deleted", id)
						}
					}
				}
			}
		})
	}
}

func TestCreateFailingHalfWayNeverAppears(t *testing.T) {
	s, client, table := newStore(t)
	ctx := context.Background()
	teams := makeTeams(t, s, "tenant-h", 200) // the board, then 5 transactions of teams
	boom := errors.New("injected: connection reset")
	idRE := regexp.MustCompile(`leaderboard ([0-9A-Z]{26}) abandoned`)

	// The third transaction fails; the undo works.
	_, err := injectedFrom(client, table, "TransactWriteItems", 3, 3, boom).CreateLeaderboard(ctx, "tenant-h", "Half", store.Settings{}, teams)
	if !errors.Is(err, boom) {
		t.Fatalf("create: %v", err)
	}
	m := idRE.FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("the error does not name the abandoned board: %v", err)
	}
	abandoned := m[1]
	if list, _, err := s.ListLeaderboards(ctx, "tenant-h", 10, ""); err != nil || len(list) != 0 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if _, err := s.GetLeaderboard(ctx, "tenant-h", abandoned); !errors.Is(err, store.ErrLeaderboardNotFound) {
		t.Fatalf("get abandoned board: %v", err)
	}
	// A team that joined it is deleted cleanly, and DELETE with the id clears the rest.
	if _, err := s.DeleteTeam(ctx, "tenant-h", teams[0]); err != nil {
		t.Fatal(err)
	}
	if done, err := s.DeleteLeaderboard(ctx, "tenant-h", abandoned); err != nil || !done {
		t.Fatalf("delete abandoned board: %v, %v", done, err)
	}
	if m, err := s.MembershipsForTest(ctx, "tenant-h", abandoned); err != nil || len(m) != 0 {
		t.Fatalf("%d member items left (%v)", len(m), err)
	}

	// The connection is lost for good from the third transaction on: the undo fails
	// too, and the board stays being created. It reads as missing, and its memberships
	// stay whole: a member team deleted leaves it.
	_, err = dead(client, table, "TransactWriteItems", 3, boom).CreateLeaderboard(ctx, "tenant-h", "Stuck", store.Settings{}, teams[1:])
	if err == nil {
		t.Fatal("create with a dead connection succeeded")
	}
	if list, _, err := s.ListLeaderboards(ctx, "tenant-h", 10, ""); err != nil || len(list) != 0 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	stuck := regexp.MustCompile(`leaderboard ([0-9A-Z]{26}) left half-created`).FindStringSubmatch(err.Error())
	if stuck == nil {
		t.Fatalf("the error does not name the stuck board: %v", err)
	}
	before, err := s.MembershipsForTest(ctx, "tenant-h", stuck[1])
	if err != nil || len(before) == 0 {
		t.Fatalf("%d members before (%v), want the first transaction's", len(before), err)
	}
	if _, err := s.DeleteTeam(ctx, "tenant-h", before[0]); err != nil {
		t.Fatal(err)
	}
	if after, err := s.MembershipsForTest(ctx, "tenant-h", stuck[1]); err != nil || len(after) != len(before)-1 || slices.Contains(after, before[0]) {
		t.Fatalf("%d members after a member team's delete (%v), want %d", len(after), err, len(before)-1)
	}

	// The teams left make a board all right.
	live := slices.DeleteFunc(slices.Clone(teams[1:]), func(id string) bool { return id == before[0] })
	b, err := s.CreateLeaderboard(ctx, "tenant-h", "Whole", store.Settings{}, live)
	if err != nil || len(b.Teams) != len(live) {
		t.Fatalf("create = %d teams, %v", len(b.Teams), err)
	}
	if _, err := s.CheckMembershipsForTest(ctx, "tenant-h", b.ID); err != nil {
		t.Fatal(err)
	}
}

func TestAddFailingHalfWayIsAnErrorAndARepeatFinishes(t *testing.T) {
	s, client, table := newStore(t)
	ctx := context.Background()
	teams := makeTeams(t, s, "tenant-f", 150) // 4 transactions
	b, err := s.CreateLeaderboard(ctx, "tenant-f", "Board", store.Settings{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	slow := &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}

	// Throttled at once: nothing was written, and the error says so.
	err = injected(client, table, "TransactWriteItems", 1, slow).AddTeams(ctx, "tenant-f", b.ID, teams)
	if !store.Throttled(err) {
		t.Fatalf("add throttled at once: %v", err)
	}
	if m, _ := s.MembershipsForTest(ctx, "tenant-f", b.ID); len(m) != 0 {
		t.Fatalf("%d members after a refused add", len(m))
	}

	// Throttled half-way: an error, but not one that says nothing was written.
	err = injected(client, table, "TransactWriteItems", 2, slow).AddTeams(ctx, "tenant-f", b.ID, teams)
	if err == nil || store.Throttled(err) {
		t.Fatalf("add throttled half-way: %v", err)
	}
	if members, err := s.CheckMembershipsForTest(ctx, "tenant-f", b.ID); err != nil || len(members) != 49 {
		t.Fatalf("after a half-way add: %d members, %v", len(members), err)
	}
	if err := s.AddTeams(ctx, "tenant-f", b.ID, teams); err != nil {
		t.Fatal(err)
	}
	if members, err := s.CheckMembershipsForTest(ctx, "tenant-f", b.ID); err != nil || len(members) != 150 {
		t.Fatalf("after the repeat: %d members, %v", len(members), err)
	}
}

func TestAddToADeletedBoard(t *testing.T) {
	s, client, table := newStore(t)
	ctx := context.Background()
	teams := makeTeams(t, s, "tenant-d", 100)
	b, err := s.CreateLeaderboard(ctx, "tenant-d", "Board", store.Settings{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The board is deleted after the add's first transaction.
	racer := watched(client, table, func(op string, n int64) {
		if op == "TransactWriteItems" && n == 2 {
			if _, err := s.DeleteLeaderboard(ctx, "tenant-d", b.ID); err != nil {
				t.Error(err)
			}
		}
	})
	if err := racer.AddTeams(ctx, "tenant-d", b.ID, teams); !errors.Is(err, store.ErrLeaderboardNotFound) {
		t.Fatalf("add to a board deleted meanwhile: %v", err)
	}
	// Its first teams' boards sets may keep the id (harmless); the teams delete cleanly.
	for _, id := range teams {
		if _, err := s.DeleteTeam(ctx, "tenant-d", id); err != nil {
			t.Fatal(err)
		}
	}
}
