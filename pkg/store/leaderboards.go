package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// MaxTeamsPerWrite is the most distinct teams one CreateLeaderboard or AddTeams takes.
// They are joined joinsPerTransaction to a transaction (see join.go); the bound keeps
// one request's work well inside the functions' timeout, and is above the ~2,200
// team ids that the API's 64 KiB body can hold.
const MaxTeamsPerWrite = 2500

// The values of a leaderboard's settings; the first of each is the default.
const (
	SortDescending = "desc" // higher scores rank first
	SortAscending  = "asc"  // lower scores rank first, e.g. times

	OperatorBest      = "best"      // a team keeps the better of its old and new score
	OperatorSet       = "set"       // the latest score wins
	OperatorIncrement = "increment" // scores add up

	RankOrdinal     = "ordinal"     // every entry its own rank
	RankCompetition = "competition" // equal scores share a rank: 1, 2, 2, 4
)

// Settings are how a leaderboard ranks its scores, fixed when it is created. The store
// keeps them as given, without checking them: the API does that and fills in defaults.
// An empty value reads back as the default (see unmarshalLeaderboard).
type Settings struct {
	SortOrder          string // "desc" | "asc"
	ScoreOperator      string // "best" | "set" | "increment"
	RankMode           string // "ordinal" | "competition"
	MinScore, MaxScore *int64 // nil: no bound
}

// Leaderboard is a tenant's leaderboard.
type Leaderboard struct {
	ID          string
	Name        string
	Settings    Settings
	Teams       []string // only as created by CreateLeaderboard
	MemberCount int
	CreatedAt   time.Time
	ModifiedAt  time.Time
}

// leaderboardItem is a leaderboard as stored. Deleting marks a leaderboard that reads
// as missing: one whose delete has begun, or, together with Creating, one that
// CreateLeaderboard has not finished (see createInSteps), or, together with Fence, the
// place of one whose create is known never to apply (see settleCreate).
type leaderboardItem struct {
	PK            string `dynamodbav:"PK"`
	SK            string `dynamodbav:"SK"`
	Type          string `dynamodbav:"type"`
	LeaderboardID string `dynamodbav:"leaderboardId"`
	Name          string `dynamodbav:"name"`
	SortOrder     string `dynamodbav:"sortOrder"`
	ScoreOperator string `dynamodbav:"scoreOperator"`
	RankMode      string `dynamodbav:"rankMode"`
	MinScore      *int64 `dynamodbav:"minScore,omitempty"`
	MaxScore      *int64 `dynamodbav:"maxScore,omitempty"`
	MemberCount   int    `dynamodbav:"memberCount"`
	CreatedAt     string `dynamodbav:"createdAt"`
	ModifiedAt    string `dynamodbav:"modifiedAt"`
	Deleting      bool   `dynamodbav:"deleting,omitempty"`
	Creating      bool   `dynamodbav:"creating,omitempty"`
	Fence         bool   `dynamodbav:"fence,omitempty"`
	ExpiresAt     int64  `dynamodbav:"expiresAt,omitempty"` // a fence's, for DynamoDB's TTL
}

func (it leaderboardItem) leaderboard() Leaderboard {
	return Leaderboard{
		ID: it.LeaderboardID, Name: it.Name,
		Settings: Settings{
			SortOrder: it.SortOrder, ScoreOperator: it.ScoreOperator, RankMode: it.RankMode,
			MinScore: it.MinScore, MaxScore: it.MaxScore,
		},
		MemberCount: it.MemberCount,
		CreatedAt:   parseStamp(it.CreatedAt), ModifiedAt: parseStamp(it.ModifiedAt),
	}
}

// unmarshalLeaderboard reads a stored leaderboard. Leaderboards made before settings
// existed have none stored; they read as the defaults they were ranked by.
func unmarshalLeaderboard(raw map[string]types.AttributeValue) (leaderboardItem, error) {
	var it leaderboardItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return leaderboardItem{}, err
	}
	it.SortOrder = cmp.Or(it.SortOrder, SortDescending)
	it.ScoreOperator = cmp.Or(it.ScoreOperator, OperatorBest)
	it.RankMode = cmp.Or(it.RankMode, RankOrdinal)
	return it, nil
}

// leaderboardLive is the condition for any write that needs the leaderboard to exist
// and not be on its way out.
const leaderboardLive = "attribute_exists(PK) AND attribute_not_exists(deleting)"

// boardHoldsMembers is the condition for the writes that keep memberships whole (a team
// leaving): the leaderboard is live, or being created. A board being created reads as
// missing, but its memberships are as real as a live board's: it goes live with them.
const boardHoldsMembers = "attribute_exists(PK) AND (attribute_not_exists(deleting) OR attribute_exists(creating))"

// CreateLeaderboard stores a new leaderboard with the given member teams. Unknown teams
// (not live teams of the tenant) give *UnknownTeamsError naming all of them, and nothing
// is written. Repeated ids count once.
//
// As the caller sees it, the create is all or nothing: up to joinsPerTransaction teams
// go in the very transaction that puts the leaderboard; more are joined in steps while
// the leaderboard reads as missing (createInSteps), and an error half-way leaves it
// missing for good. A team deleted while the create runs is either refused by its
// join's condition, and then left out of the answer's Teams, or joined first, and then
// its delete removes the membership (Teams may still list it). Either way the outcome
// is that of the create followed by the delete, and no membership outlives its team.
func (s *Store) CreateLeaderboard(ctx context.Context, tenant, name string, settings Settings, teams []string) (Leaderboard, error) {
	teams = distinct(teams)
	if len(teams) > MaxTeamsPerWrite {
		return Leaderboard{}, fmt.Errorf("create leaderboard: %d teams, at most %d", len(teams), MaxTeamsPerWrite)
	}
	live, unknown, err := s.liveTeams(ctx, tenant, teams)
	if err != nil {
		return Leaderboard{}, err
	}
	if len(unknown) > 0 {
		return Leaderboard{}, &UnknownTeamsError{IDs: unknown}
	}
	now := s.now()
	id := newID(now)
	it := leaderboardItem{
		PK: tenantPK(tenant), SK: leaderboardSK(id), Type: "leaderboard", LeaderboardID: id, Name: name,
		SortOrder: settings.SortOrder, ScoreOperator: settings.ScoreOperator, RankMode: settings.RankMode,
		MinScore: settings.MinScore, MaxScore: settings.MaxScore,
		CreatedAt: stamp(now), ModifiedAt: stamp(now),
	}
	var joined []string
	if len(live) <= joinsPerTransaction {
		// One transaction: the leaderboard, HEAD and every membership, atomically. It
		// ends with abandonTimeout still in hand, for settleCreate.
		txCtx, cancel := withMargin(ctx, abandonTimeout)
		joined, err = s.joinChunk(txCtx, tenant, id, live, func(n int) ([]types.TransactWriteItem, error) {
			it.MemberCount = n
			return s.newBoardItems(tenant, it)
		}, now, nil)
		cancel()
		switch {
		case errors.Is(err, errBoardRefused):
			err = ErrConflict // the new id was taken: never, with 80 random bits
		case err != nil && cancelReasons(err) == nil:
			// Not a cancelled transaction: a 500, a timeout or a lost answer, after
			// which DynamoDB may still have applied it, or may yet.
			joined, err = s.settleCreate(ctx, tenant, id, live, err)
		}
	} else {
		joined, err = s.createInSteps(ctx, tenant, it, live, now)
	}
	if err != nil {
		return Leaderboard{}, fmt.Errorf("create leaderboard: %w", err)
	}
	return Leaderboard{ID: id, Name: name, Settings: settings, Teams: joined, MemberCount: len(joined), CreatedAt: now, ModifiedAt: now}, nil
}

// fenceTTL is how long a fence stays before DynamoDB's TTL removes it: far longer than
// any request that could still apply the create it stops.
const fenceTTL = 24 * time.Hour

// settleCreate learns whether the one transaction of a create, which failed with cause
// other than a cancellation, was applied after all. It puts a fence where the
// leaderboard item would be, on condition that nothing is there (a single-item
// conditional write, serialised with the transaction's own conditional put of that
// item, which is atomic with the rest of it):
//   - the fence goes in: the transaction was not applied and now never can be, so the
//     create failed and left nothing; the fence reads as a deleted board until its TTL;
//   - the leaderboard item is there instead: the transaction was applied, whole, so the
//     create succeeded, and its members are read back (strongly consistent reads).
//
// If the fence's own answer is lost, the SDK's repeat finds the fence: the item read
// back tells the two apart by its fence mark.
func (s *Store) settleCreate(ctx context.Context, tenant, id string, teams []teamItem, cause error) ([]string, error) {
	ctx, cancel := undoContext(ctx)
	defer cancel()
	fence, err := attributevalue.MarshalMap(leaderboardItem{
		PK: tenantPK(tenant), SK: leaderboardSK(id), Type: "leaderboard", LeaderboardID: id,
		Deleting: true, Fence: true, ExpiresAt: s.now().Add(fenceTTL).Unix(),
	})
	if err != nil {
		return nil, fmt.Errorf("marshal fence: %w", err)
	}
	// While the transaction is still in flight in DynamoDB, the fence meets a
	// TransactionConflict, which the SDK does not retry: it is retried here.
	for attempt := 0; ; attempt++ {
		var out *dynamodb.PutItemOutput
		out, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: &s.table, Item: fence,
			ConditionExpression:    aws.String("attribute_not_exists(PK)"),
			ReturnConsumedCapacity: total,
		})
		if err == nil {
			reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
			return nil, fmt.Errorf("leaderboard %s not created: %w", id, cause)
		}
		if !transient(err) || backoff(ctx, attempt) != nil {
			break
		}
	}
	// From here on the board may exist: no error may say that nothing was written, so
	// the causes are %v, and the client hears a 500.
	if !conditionFailed(err) {
		return nil, fmt.Errorf("leaderboard %s may or may not be created: %v; fence: %v", id, cause, err)
	}
	raw, err := s.getItem(ctx, tenantPK(tenant), leaderboardSK(id))
	if err != nil {
		return nil, fmt.Errorf("leaderboard %s may or may not be created: %v; read back: %v", id, cause, err)
	}
	it, err := unmarshalLeaderboard(raw)
	if err != nil {
		return nil, fmt.Errorf("leaderboard %s may or may not be created: %v; read back: %v", id, cause, err)
	}
	if raw == nil || it.Fence {
		// Our own fence, put by an earlier try of the SDK's; or (nil) a board created,
		// listed, deleted and swept in the meantime, which leaves nothing either.
		return nil, fmt.Errorf("leaderboard %s not created: %w", id, cause)
	}
	ids := teamIDs(teams)
	members, err := s.getMembers(ctx, boardPK(tenant, id), ids)
	if err != nil {
		return nil, fmt.Errorf("leaderboard %s created, but its members could not be read: %v", id, err)
	}
	joined := []string{}
	for _, t := range ids {
		if members[t] != nil {
			joined = append(joined, t)
		}
	}
	return joined, nil
}

// newBoardItems are the puts of a new leaderboard item and its HEAD, each on condition
// that it does not exist yet.
func (s *Store) newBoardItems(tenant string, it leaderboardItem) ([]types.TransactWriteItem, error) {
	board, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("marshal leaderboard: %w", err)
	}
	head, err := newHead(boardPK(tenant, it.LeaderboardID))
	if err != nil {
		return nil, fmt.Errorf("marshal head: %w", err)
	}
	return []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: board, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: &s.table, Item: head, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	}, nil
}

// GetLeaderboard returns a leaderboard of the tenant, or ErrLeaderboardNotFound.
func (s *Store) GetLeaderboard(ctx context.Context, tenant, id string) (Leaderboard, error) {
	it, err := s.getLeaderboardItem(ctx, tenant, id)
	if err != nil {
		return Leaderboard{}, err
	}
	return it.leaderboard(), nil
}

// getLeaderboardItem reads a live leaderboard item: a malformed id, a missing item and
// one being deleted or still being created are all ErrLeaderboardNotFound.
func (s *Store) getLeaderboardItem(ctx context.Context, tenant, id string) (leaderboardItem, error) {
	if !ValidID(id) {
		return leaderboardItem{}, ErrLeaderboardNotFound
	}
	raw, err := s.getItem(ctx, tenantPK(tenant), leaderboardSK(id))
	if err != nil {
		return leaderboardItem{}, fmt.Errorf("get leaderboard %s: %w", id, err)
	}
	if raw == nil {
		return leaderboardItem{}, ErrLeaderboardNotFound
	}
	it, err := unmarshalLeaderboard(raw)
	if err != nil {
		return leaderboardItem{}, fmt.Errorf("unmarshal leaderboard %s: %w", id, err)
	}
	if it.Deleting {
		return leaderboardItem{}, ErrLeaderboardNotFound
	}
	return it, nil
}

// RenameLeaderboard sets a leaderboard's name. It never creates a leaderboard.
func (s *Store) RenameLeaderboard(ctx context.Context, tenant, id, name string) (Leaderboard, error) {
	if !ValidID(id) {
		return Leaderboard{}, ErrLeaderboardNotFound
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      key(tenantPK(tenant), leaderboardSK(id)),
		UpdateExpression:         aws.String("SET #name = :name, modifiedAt = :now"),
		ConditionExpression:      aws.String(leaderboardLive),
		ExpressionAttributeNames: map[string]string{"#name": "name"}, // NAME is a reserved word
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":name": &types.AttributeValueMemberS{Value: name},
			":now":  &types.AttributeValueMemberS{Value: stamp(s.now())},
		},
		ReturnValues:           types.ReturnValueAllNew,
		ReturnConsumedCapacity: total,
	})
	if conditionFailed(err) {
		return Leaderboard{}, ErrLeaderboardNotFound
	}
	if err != nil {
		return Leaderboard{}, fmt.Errorf("rename leaderboard %s: %w", id, err)
	}
	reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	it, err := unmarshalLeaderboard(out.Attributes)
	if err != nil {
		return Leaderboard{}, fmt.Errorf("unmarshal leaderboard %s: %w", id, err)
	}
	return it.leaderboard(), nil
}
