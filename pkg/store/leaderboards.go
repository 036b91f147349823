package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// MaxTeamsPerWrite is the most teams one request may put on a leaderboard. Each team
// costs two items (its membership and its own boards set) in a transaction that holds
// at most 100 items and also writes the leaderboard.
const MaxTeamsPerWrite = 49

// Leaderboard is a tenant's leaderboard.
type Leaderboard struct {
	ID         string
	Name       string
	Teams      []string
	CreatedAt  time.Time
	ModifiedAt time.Time
}

type leaderboardItem struct {
	PK            string `dynamodbav:"PK"`
	SK            string `dynamodbav:"SK"`
	Type          string `dynamodbav:"type"`
	LeaderboardID string `dynamodbav:"leaderboardId"`
	Name          string `dynamodbav:"name"`
	CreatedAt     string `dynamodbav:"createdAt"`
	ModifiedAt    string `dynamodbav:"modifiedAt"`
}

type memberItem struct {
	PK       string `dynamodbav:"PK"`
	SK       string `dynamodbav:"SK"`
	Type     string `dynamodbav:"type"`
	TeamID   string `dynamodbav:"teamId"`
	JoinedAt string `dynamodbav:"joinedAt"`
}

// CreateLeaderboard stores a new leaderboard with the given member teams, all in one
// transaction: each team must exist (and not be being deleted) at the moment the
// leaderboard is written, so a concurrent team delete can never leave a dangling
// member. teams must be free of duplicates. Unknown teams give *UnknownTeamsError.
func (s *Store) CreateLeaderboard(ctx context.Context, tenant, name string, teams []string) (Leaderboard, error) {
	if len(teams) > MaxTeamsPerWrite {
		return Leaderboard{}, fmt.Errorf("create leaderboard: %d teams, at most %d", len(teams), MaxTeamsPerWrite)
	}
	var unknown []string
	for _, t := range teams {
		if !ValidID(t) {
			unknown = append(unknown, t)
		}
	}
	if len(unknown) > 0 {
		return Leaderboard{}, &UnknownTeamsError{IDs: unknown}
	}

	now := s.now()
	id := newID(now)
	board, err := attributevalue.MarshalMap(leaderboardItem{
		PK: tenantPK(tenant), SK: leaderboardSK(id), Type: "leaderboard", LeaderboardID: id, Name: name,
		CreatedAt: stamp(now), ModifiedAt: stamp(now),
	})
	if err != nil {
		return Leaderboard{}, fmt.Errorf("marshal leaderboard: %w", err)
	}
	items := []types.TransactWriteItem{{Put: &types.Put{
		TableName:           &s.table,
		Item:                board,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}}
	joins, err := s.joinItems(tenant, id, teams, now)
	if err != nil {
		return Leaderboard{}, err
	}
	items = append(items, joins...)

	err = s.transact(ctx, items)
	if reasons := cancelReasons(err); reasons != nil {
		if unknown := failedTeams(reasons[1:], teams); len(unknown) > 0 {
			return Leaderboard{}, &UnknownTeamsError{IDs: unknown}
		}
	}
	if err != nil {
		return Leaderboard{}, fmt.Errorf("create leaderboard: %w", err)
	}
	return Leaderboard{ID: id, Name: name, Teams: teams, CreatedAt: now, ModifiedAt: now}, nil
}

// joinItems are the two transaction items per team that put it on a board: the
// team's boards set gains the board (on condition that the team is live), and the
// board gains a member item.
func (s *Store) joinItems(tenant, board string, teams []string, now time.Time) ([]types.TransactWriteItem, error) {
	items := make([]types.TransactWriteItem, 0, 2*len(teams))
	for _, t := range teams {
		member, err := attributevalue.MarshalMap(memberItem{
			PK: boardPK(tenant, board), SK: memberSK(t), Type: "member", TeamID: t, JoinedAt: stamp(now),
		})
		if err != nil {
			return nil, fmt.Errorf("marshal member: %w", err)
		}
		items = append(items,
			types.TransactWriteItem{Update: &types.Update{
				TableName:                 &s.table,
				Key:                       key(tenantPK(tenant), teamSK(t)),
				UpdateExpression:          aws.String("ADD boards :board"),
				ConditionExpression:       aws.String(teamLive),
				ExpressionAttributeValues: map[string]types.AttributeValue{":board": &types.AttributeValueMemberSS{Value: []string{board}}},
			}},
			types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: member}},
		)
	}
	return items, nil
}

// failedTeams maps the cancellation reasons of joinItems (two per team, team update
// first) back to the teams whose condition failed.
func failedTeams(reasons []string, teams []string) []string {
	var failed []string
	for i, t := range teams {
		if 2*i < len(reasons) && reasons[2*i] == reasonConditionFailed {
			failed = append(failed, t)
		}
	}
	return failed
}
