package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/leaderboardapi/leaderboard/internal/testdb"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func newStore(t *testing.T) (*store.Store, *dynamodb.Client, string) {
	t.Helper()
	client, table := testdb.Table(t)
	return store.New(client, table, time.Now), client, table
}

// injected returns a store whose DynamoDB client fails the nth call (1-based) of
// operation op with err, and passes every other call to the real DynamoDB Local.
func injected(client *dynamodb.Client, table, op string, nth int64, err error) *store.Store {
	return injectedFrom(client, table, op, nth, nth, err)
}

// dead returns a store whose calls of op fail with err from the nth on, as if the
// function running it had lost its connection for good.
func dead(client *dynamodb.Client, table, op string, nth int64, err error) *store.Store {
	return injectedFrom(client, table, op, nth, 1<<62, err)
}

func injectedFrom(client *dynamodb.Client, table, op string, from, through int64, err error) *store.Store {
	var calls atomic.Int64
	return store.New(passedThrough(client, func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if awsmiddleware.GetOperationName(ctx) == op {
			if n := calls.Add(1); n >= from && n <= through {
				return middleware.InitializeOutput{}, middleware.Metadata{}, err
			}
		}
		return next.HandleInitialize(ctx, in)
	}), table, time.Now)
}

// passedThrough returns a client of DynamoDB Local whose every call goes through
// handle first, which makes the real call, if at all, with next.
func passedThrough(client *dynamodb.Client, handle func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error)) *dynamodb.Client {
	return dynamodb.New(client.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("test", handle), middleware.Before)
		})
	})
}

func TestTeamLifecycle(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()

	created, err := s.CreateTeam(ctx, "tenant-a", "A Team")
	if err != nil {
		t.Fatal(err)
	}
	if !store.ValidID(created.ID) || created.Name != "A Team" || !created.CreatedAt.Equal(created.ModifiedAt) {
		t.Fatalf("created = %+v", created)
	}
	got, err := s.GetTeam(ctx, "tenant-a", created.ID)
	if err != nil || got.Name != "A Team" || got.CreatedAt.UnixMilli() != created.CreatedAt.UnixMilli() {
		t.Fatalf("get = %+v, %v", got, err)
	}
	time.Sleep(2 * time.Millisecond)
	renamed, err := s.RenameTeam(ctx, "tenant-a", created.ID, "B Team")
	if err != nil || renamed.Name != "B Team" || !renamed.ModifiedAt.After(renamed.CreatedAt) {
		t.Fatalf("rename = %+v, %v", renamed, err)
	}
	if _, err := s.DeleteTeam(ctx, "tenant-a", created.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetTeam(ctx, "tenant-a", created.ID); !errors.Is(err, store.ErrTeamNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err := s.DeleteTeam(ctx, "tenant-a", created.ID); !errors.Is(err, store.ErrTeamNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestTeamNotFound(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	other, err := s.CreateTeam(ctx, "tenant-b", "Theirs")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, tenant, id string }{
		{"missing id", "tenant-a", "01J00000000000000000000000"},
		{"malformed id", "tenant-a", "../../etc"},
		{"empty id", "tenant-a", ""},
		{"other tenant's team", "tenant-a", other.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.GetTeam(ctx, tc.tenant, tc.id); !errors.Is(err, store.ErrTeamNotFound) {
				t.Errorf("get: %v", err)
			}
			if _, err := s.RenameTeam(ctx, tc.tenant, tc.id, "x"); !errors.Is(err, store.ErrTeamNotFound) {
				t.Errorf("rename: %v", err)
			}
			if _, err := s.DeleteTeam(ctx, tc.tenant, tc.id); !errors.Is(err, store.ErrTeamNotFound) {
				t.Errorf("delete: %v", err)
			}
		})
	}
	if got, err := s.GetTeam(ctx, "tenant-b", other.ID); err != nil || got.Name != "Theirs" {
		t.Fatalf("the other tenant's team was touched: %+v, %v", got, err)
	}
}

func TestCreateLeaderboardUnknownTeams(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	mine, _ := s.CreateTeam(ctx, "tenant-a", "Mine")
	theirs, _ := s.CreateTeam(ctx, "tenant-b", "Theirs")
	gone, _ := s.CreateTeam(ctx, "tenant-a", "Gone")
	if _, err := s.DeleteTeam(ctx, "tenant-a", gone.ID); err != nil {
		t.Fatal(err)
	}
	missing := "01J00000000000000000000000"

	// Every id that is not a live team of the tenant is named, malformed or not.
	_, err := s.CreateLeaderboard(ctx, "tenant-a", "S1", store.Settings{}, []string{mine.ID, theirs.ID, missing, "bad id", gone.ID})
	var unknown *store.UnknownTeamsError
	if !errors.As(err, &unknown) {
		t.Fatalf("err = %v, want UnknownTeamsError", err)
	}
	if want := []string{theirs.ID, missing, "bad id", gone.ID}; !slices.Equal(unknown.IDs, want) {
		t.Fatalf("unknown = %v, want %v", unknown.IDs, want)
	}

	// Nothing of the failed create was written: the team can still be deleted cleanly
	// and a good create works.
	board, err := s.CreateLeaderboard(ctx, "tenant-a", "S1", store.Settings{}, []string{mine.ID})
	if err != nil || !slices.Equal(board.Teams, []string{mine.ID}) {
		t.Fatalf("create = %+v, %v", board, err)
	}
}

func memberCount(t *testing.T, client *dynamodb.Client, table, tenant, board string) int {
	t.Helper()
	n := 0
	for shard := range 16 {
		out, err := client.Query(context.Background(), &dynamodb.QueryInput{
			TableName:              &table,
			KeyConditionExpression: aws.String("PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("MEMBERS#%s#%s#%d", tenant, board, shard)},
			},
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			t.Fatal(err)
		}
		n += int(out.Count)
	}
	return n
}

func TestDeleteTeamLeavesEveryBoard(t *testing.T) {
	s, client, table := newStore(t)
	ctx := context.Background()
	team, _ := s.CreateTeam(ctx, "tenant-a", "Busy")
	other, _ := s.CreateTeam(ctx, "tenant-a", "Other")
	// More boards than one delete transaction holds, so the delete takes several steps.
	var boards []string
	for range 130 {
		b, err := s.CreateLeaderboard(ctx, "tenant-a", "Board", store.Settings{}, []string{team.ID, other.ID})
		if err != nil {
			t.Fatal(err)
		}
		boards = append(boards, b.ID)
	}
	if _, err := s.DeleteTeam(ctx, "tenant-a", team.ID); err != nil {
		t.Fatal(err)
	}
	for _, b := range boards {
		if n := memberCount(t, client, table, "tenant-a", b); n != 1 {
			t.Fatalf("board %s has %d members after delete, want 1", b, n)
		}
	}
}

func TestDeleteTeamInterruptedThenRetried(t *testing.T) {
	s, client, table := newStore(t)
	ctx := context.Background()
	team, _ := s.CreateTeam(ctx, "tenant-a", "Busy")
	var boards []string
	for range 120 {
		b, err := s.CreateLeaderboard(ctx, "tenant-a", "Board", store.Settings{}, []string{team.ID})
		if err != nil {
			t.Fatal(err)
		}
		boards = append(boards, b.ID)
	}
	// The connection is lost for good after the first board, as a Lambda timeout would leave it.
	broken := dead(client, table, "TransactWriteItems", 2, errors.New("injected: connection reset"))
	if _, err := broken.DeleteTeam(ctx, "tenant-a", team.ID); !errors.Is(err, store.ErrUnfinished) {
		t.Fatalf("interrupted delete: %v, want ErrUnfinished (202: repeat to finish)", err)
	}
	// A board the delete has not reached yet refuses the half-deleted team's scores.
	var notMembers *store.NotMembersError
	if _, err := s.SubmitScores(ctx, "tenant-a", boards[len(boards)-1], []store.Submission{{TeamID: team.ID, Score: 1}}, ""); !errors.As(err, &notMembers) {
		t.Fatalf("a score for a half-deleted team: %v, want refused", err)
	}
	if _, err := s.GetTeam(ctx, "tenant-a", team.ID); !errors.Is(err, store.ErrTeamNotFound) {
		t.Fatalf("a half-deleted team must read as missing, got %v", err)
	}
	if _, err := s.CreateLeaderboard(ctx, "tenant-a", "New", store.Settings{}, []string{team.ID}); err == nil {
		t.Fatal("a half-deleted team was added to a new board")
	}
	if _, err := s.RenameTeam(ctx, "tenant-a", team.ID, "x"); !errors.Is(err, store.ErrTeamNotFound) {
		t.Fatalf("rename of a half-deleted team: %v", err)
	}
	if _, err := s.DeleteTeam(ctx, "tenant-a", team.ID); err != nil {
		t.Fatalf("retried delete: %v", err)
	}
	for _, b := range boards {
		if n := memberCount(t, client, table, "tenant-a", b); n != 0 {
			t.Fatalf("board %s still has %d members", b, n)
		}
	}
}

func TestTransactionConflictsAreRetried(t *testing.T) {
	_, client, table := newStore(t)
	ctx := context.Background()
	conflict := &types.TransactionCanceledException{
		Message:             aws.String("Transaction cancelled"),
		CancellationReasons: []types.CancellationReason{{Code: aws.String("None")}, {Code: aws.String("TransactionConflict")}},
	}
	s := injected(client, table, "TransactWriteItems", 1, conflict)
	team, _ := s.CreateTeam(ctx, "tenant-a", "A")
	if _, err := s.CreateLeaderboard(ctx, "tenant-a", "S1", store.Settings{}, []string{team.ID}); err != nil {
		t.Fatalf("one conflict should be retried away: %v", err)
	}

	throttled := injected(client, table, "TransactWriteItems", 1, &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")})
	_, err := throttled.CreateLeaderboard(ctx, "tenant-a", "S2", store.Settings{}, []string{team.ID})
	var unknown *store.UnknownTeamsError
	if err == nil || errors.As(err, &unknown) {
		t.Fatalf("a throttled write must fail as an error of ours, got %v", err)
	}
}

func TestClients(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	creds := auth.NewCredentials()
	tenant, err := s.CreateTenant(ctx, creds)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.GetClient(ctx, creds.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if c.TenantID != tenant || c.Revoked || !auth.DigestMatches(creds.ClientSecret, c.SecretDigest) || !auth.DigestMatches(creds.APIKey, c.APIKeyDigest) {
		t.Fatalf("client = %+v", c)
	}
	if err := s.RevokeClient(ctx, creds.ClientID); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.GetClient(ctx, creds.ClientID); !c.Revoked {
		t.Fatal("client not revoked")
	}
	if _, err := s.GetClient(ctx, auth.NewCredentials().ClientID); !errors.Is(err, store.ErrClientNotFound) {
		t.Fatalf("unknown client: %v", err)
	}
	if err := s.RevokeClient(ctx, "lb_cid_nope"); !errors.Is(err, store.ErrClientNotFound) {
		t.Fatalf("revoke unknown client: %v", err)
	}
}

func TestSigningKeys(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	key, err := auth.KeyFromSeed([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // publishing twice, as two cold starts do, is fine
		if err := s.PublishSigningKey(ctx, key.Public()); err != nil {
			t.Fatal(err)
		}
	}
	pub, err := s.PublicKey(ctx, key.ID)
	if err != nil || !pub.Equal(key.Public()) {
		t.Fatalf("public key = %x, %v", pub, err)
	}
	if _, err := s.PublicKey(ctx, "AAAAAAAAAAAAAAAA"); !errors.Is(err, auth.ErrUnknownKey) {
		t.Fatalf("unknown kid: %v", err)
	}
}

func TestPing(t *testing.T) {
	s, client, _ := newStore(t)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	missing := store.New(client, "no-such-table", time.Now)
	if err := missing.Ping(context.Background()); err == nil {
		t.Fatal("ping of a missing table succeeded")
	}
}

func TestCapacityIsRecorded(t *testing.T) {
	s, _, _ := newStore(t)
	ctx, entry := reqlog.Start(context.Background())
	team, err := s.CreateTeam(ctx, "tenant-a", "A")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetTeam(ctx, "tenant-a", team.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateLeaderboard(ctx, "tenant-a", "S1", store.Settings{}, []string{team.ID}); err != nil {
		t.Fatal(err)
	}
	read, write := entry.Capacity()
	// Two strongly consistent reads (the get, and the create reading its team); a put (1)
	// plus a transaction. DynamoDB Local reports less for a transaction than DynamoDB
	// charges (2 units here, not 3 items x 2), so the write check is only that the
	// transaction was counted at all.
	if read != 2 || write < 2 {
		t.Fatalf("capacity read=%v write=%v", read, write)
	}
}

func TestIDs(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for i := range 1000 {
		id := store.NewIDForTest(time.UnixMilli(int64(1700000000000 + i)))
		if !store.ValidID(id) || seen[id] || id <= prev {
			t.Fatalf("id %q (after %q): valid=%v dup=%v", id, prev, store.ValidID(id), seen[id])
		}
		seen[id] = true
		prev = id
	}
	for _, bad := range []string{"", "01J0000000000000000000000", "01J000000000000000000000000", "01J0000000000000000000000I", "81J00000000000000000000000", "01j00000000000000000000000"} {
		if store.ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

// Ids made in one millisecond still sort in the order they were made.
func TestIDsSortWithinAMillisecond(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	prev := store.NewIDForTest(now)
	for range 1000 {
		id := store.NewIDForTest(now)
		if id <= prev {
			t.Fatalf("%s made after %s sorts before it", id, prev)
		}
		prev = id
	}
}
