package store

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// MaxTeamsPerWrite is the most teams one request may put on a leaderboard. Each team
// costs two items (its membership and its own boards set) in a transaction that holds
// at most 100 items and also writes the leaderboard and its HEAD.
const MaxTeamsPerWrite = 49

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

// leaderboardItem is a leaderboard as stored. Deleting marks a leaderboard whose
// delete has begun: it reads as missing and cannot be renamed.
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

// CreateLeaderboard stores a new leaderboard with the given member teams, all in one
// transaction: each team must exist (and not be being deleted, nor renamed since it was
// read) at the moment the leaderboard is written, so a concurrent team delete can never
// leave a dangling member. teams must be free of duplicates. Unknown teams give
// *UnknownTeamsError, naming all of them.
func (s *Store) CreateLeaderboard(ctx context.Context, tenant, name string, settings Settings, teams []string) (Leaderboard, error) {
	if len(teams) > MaxTeamsPerWrite {
		return Leaderboard{}, fmt.Errorf("create leaderboard: %d teams, at most %d", len(teams), MaxTeamsPerWrite)
	}
	for attempt := 0; ; attempt++ {
		live, unknown, err := s.liveTeams(ctx, tenant, teams)
		if err != nil {
			return Leaderboard{}, err
		}
		if len(unknown) > 0 {
			return Leaderboard{}, &UnknownTeamsError{IDs: unknown}
		}
		now := s.now()
		id := newID(now)
		board, err := attributevalue.MarshalMap(leaderboardItem{
			PK: tenantPK(tenant), SK: leaderboardSK(id), Type: "leaderboard", LeaderboardID: id, Name: name,
			SortOrder: settings.SortOrder, ScoreOperator: settings.ScoreOperator, RankMode: settings.RankMode,
			MinScore: settings.MinScore, MaxScore: settings.MaxScore, MemberCount: len(teams),
			CreatedAt: stamp(now), ModifiedAt: stamp(now),
		})
		if err != nil {
			return Leaderboard{}, fmt.Errorf("marshal leaderboard: %w", err)
		}
		joins, err := s.joinItems(tenant, id, live, now)
		if err != nil {
			return Leaderboard{}, err
		}
		head, err := newHead(boardPK(tenant, id))
		if err != nil {
			return Leaderboard{}, fmt.Errorf("marshal head: %w", err)
		}
		items := append([]types.TransactWriteItem{
			{Put: &types.Put{TableName: &s.table, Item: board, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
			{Put: &types.Put{TableName: &s.table, Item: head, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		}, joins...)
		err = s.transact(ctx, items)
		if cancelReasons(err) != nil && attempt+1 < maxAttempts {
			// A team was renamed or deleted since it was read: read again.
			if err := backoff(ctx, attempt); err != nil {
				return Leaderboard{}, err
			}
			continue
		}
		if err != nil {
			return Leaderboard{}, fmt.Errorf("create leaderboard: %w", err)
		}
		l := Leaderboard{ID: id, Name: name, Settings: settings, Teams: teams, MemberCount: len(teams), CreatedAt: now, ModifiedAt: now}
		return l, nil
	}
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
// one being deleted are all ErrLeaderboardNotFound.
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
