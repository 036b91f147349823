package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// Team is a tenant's team.
type Team struct {
	ID         string
	Name       string
	CreatedAt  time.Time
	ModifiedAt time.Time
}

// teamItem is a team as stored. Boards is the set of leaderboards the team is on: the
// strongly consistent index that DeleteTeam walks, kept in the same transactions that
// add and remove memberships. Deleting marks a team whose delete has begun.
type teamItem struct {
	PK         string   `dynamodbav:"PK"`
	SK         string   `dynamodbav:"SK"`
	Type       string   `dynamodbav:"type"`
	TeamID     string   `dynamodbav:"teamId"`
	Name       string   `dynamodbav:"teamName"`
	CreatedAt  string   `dynamodbav:"createdAt"`
	ModifiedAt string   `dynamodbav:"modifiedAt"`
	Boards     []string `dynamodbav:"boards,stringset,omitempty"`
	Deleting   bool     `dynamodbav:"deleting,omitempty"`
}

func (it teamItem) team() Team {
	return Team{ID: it.TeamID, Name: it.Name, CreatedAt: parseStamp(it.CreatedAt), ModifiedAt: parseStamp(it.ModifiedAt)}
}

// teamLive is the condition for any write that needs the team to exist and not be
// on its way out.
const teamLive = "attribute_exists(PK) AND attribute_not_exists(deleting)"

// CreateTeam stores a new team named name.
func (s *Store) CreateTeam(ctx context.Context, tenant, name string) (Team, error) {
	now := s.now()
	id := newID(now)
	item, err := attributevalue.MarshalMap(teamItem{
		PK: tenantPK(tenant), SK: teamSK(id), Type: "team", TeamID: id, Name: name,
		CreatedAt: stamp(now), ModifiedAt: stamp(now),
	})
	if err != nil {
		return Team{}, fmt.Errorf("marshal team: %w", err)
	}
	out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:              &s.table,
		Item:                   item,
		ConditionExpression:    aws.String("attribute_not_exists(PK)"),
		ReturnConsumedCapacity: total,
	})
	if conditionFailed(err) {
		// Either the id was taken (80 random bits: never in practice), or this very put
		// was applied, its answer lost, and the SDK's repeat found the item.
		if it, gerr := s.getTeamItem(ctx, tenant, id); gerr == nil && it.CreatedAt == stamp(now) && it.Name == name {
			return it.team(), nil
		}
		return Team{}, fmt.Errorf("create team %s: %w", id, ErrConflict)
	}
	if err != nil {
		return Team{}, fmt.Errorf("create team: %w", err)
	}
	reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	return Team{ID: id, Name: name, CreatedAt: now, ModifiedAt: now}, nil
}

// GetTeam returns a team of the tenant, or ErrTeamNotFound.
func (s *Store) GetTeam(ctx context.Context, tenant, id string) (Team, error) {
	it, err := s.getTeamItem(ctx, tenant, id)
	if err != nil {
		return Team{}, err
	}
	return it.team(), nil
}

func (s *Store) getTeamItem(ctx context.Context, tenant, id string) (teamItem, error) {
	if !ValidID(id) {
		return teamItem{}, ErrTeamNotFound
	}
	raw, err := s.getItem(ctx, tenantPK(tenant), teamSK(id))
	if err != nil {
		return teamItem{}, fmt.Errorf("get team %s: %w", id, err)
	}
	var it teamItem
	if raw == nil {
		return teamItem{}, ErrTeamNotFound
	}
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return teamItem{}, fmt.Errorf("unmarshal team %s: %w", id, err)
	}
	if it.Deleting {
		return teamItem{}, ErrTeamNotFound
	}
	return it, nil
}

// RenameTeam sets a team's name, on the team and on every board it is on, so that
// rankings show it. It never creates a team.
func (s *Store) RenameTeam(ctx context.Context, tenant, id, name string) (Team, error) {
	if !ValidID(id) {
		return Team{}, ErrTeamNotFound
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 key(tenantPK(tenant), teamSK(id)),
		UpdateExpression:    aws.String("SET teamName = :name, modifiedAt = :now"),
		ConditionExpression: aws.String(teamLive),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":name": &types.AttributeValueMemberS{Value: name},
			":now":  &types.AttributeValueMemberS{Value: stamp(s.now())},
		},
		ReturnValues:           types.ReturnValueAllNew,
		ReturnConsumedCapacity: total,
	})
	if conditionFailed(err) {
		return Team{}, ErrTeamNotFound
	}
	if err != nil {
		return Team{}, fmt.Errorf("rename team %s: %w", id, err)
	}
	reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	var it teamItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return Team{}, fmt.Errorf("unmarshal team %s: %w", id, err)
	}
	if err := s.renameOnBoards(ctx, tenant, id, name, it.Boards); err != nil {
		return Team{}, err
	}
	return it.team(), nil
}

// DeleteTeam deletes a team and takes it off every leaderboard it is on.
//
// It first marks the team as deleting, which every membership write is conditioned
// against, so no new membership can appear behind it, and which makes submits refuse
// the team's scores on the boards it has not left yet; then it leaves its boards one
// board commit each; then it deletes the team. A delete that cannot finish before ctx's
// deadline returns done false, and one that fails half-way an error: either way the
// team reads as missing, and repeating the delete finishes it.
func (s *Store) DeleteTeam(ctx context.Context, tenant, id string) (done bool, err error) {
	if !ValidID(id) {
		return false, ErrTeamNotFound
	}
	k := key(tenantPK(tenant), teamSK(id))
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       k,
		UpdateExpression:          aws.String("SET deleting = :true"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":true": &types.AttributeValueMemberBOOL{Value: true}},
		ReturnValues:              types.ReturnValueAllNew,
		ReturnConsumedCapacity:    total,
	})
	if conditionFailed(err) {
		return false, ErrTeamNotFound
	}
	if err != nil {
		return false, fmt.Errorf("mark team %s deleting: %w", id, err)
	}
	reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	var it teamItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return false, fmt.Errorf("unmarshal team %s: %w", id, err)
	}

	for _, b := range it.Boards {
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < deleteMargin {
			return false, nil
		}
		if err := s.leave(ctx, tenant, b, id, false); err != nil {
			return false, fmt.Errorf("%w: delete team %s: %w", ErrUnfinished, id, err)
		}
	}

	del, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table,
		Key:       k,
		// Memberships cannot be added to a marked team, so boards is gone by now; the
		// condition keeps it that way if that ever stops being true.
		ConditionExpression:    aws.String("attribute_not_exists(boards)"),
		ReturnConsumedCapacity: total,
	})
	if err != nil {
		return false, fmt.Errorf("%w: delete team %s: %w", ErrUnfinished, id, err)
	}
	reqlog.AddWrite(ctx, capacity(del.ConsumedCapacity)...)
	return true, nil
}
