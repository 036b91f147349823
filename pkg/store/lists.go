package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/cursor"
	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// ListTeams returns up to limit of the tenant's teams in creation order, starting after
// the team with id after ("" for the first page). next is the id to pass as after for
// the following page, or "" when there are no more teams.
func (s *Store) ListTeams(ctx context.Context, tenant string, limit int, after string) (teams []Team, next string, err error) {
	raw, more, err := s.listPage(ctx, tenantPK(tenant), teamSKPrefix(), teamSK, limit, after)
	if err != nil {
		return nil, "", fmt.Errorf("list teams: %w", err)
	}
	teams = make([]Team, 0, len(raw))
	for _, r := range raw {
		var it teamItem
		if err := attributevalue.UnmarshalMap(r, &it); err != nil {
			return nil, "", fmt.Errorf("unmarshal team: %w", err)
		}
		teams = append(teams, it.team())
	}
	if more {
		next = teams[len(teams)-1].ID
	}
	return teams, next, nil
}

// ListLeaderboards returns up to limit of the tenant's leaderboards in creation order,
// starting after the leaderboard with id after ("" for the first page). next is the id
// to pass as after for the following page, or "" when there are no more.
func (s *Store) ListLeaderboards(ctx context.Context, tenant string, limit int, after string) (boards []Leaderboard, next string, err error) {
	raw, more, err := s.listPage(ctx, tenantPK(tenant), leaderboardSKPrefix(), leaderboardSK, limit, after)
	if err != nil {
		return nil, "", fmt.Errorf("list leaderboards: %w", err)
	}
	boards = make([]Leaderboard, 0, len(raw))
	for _, r := range raw {
		it, err := unmarshalLeaderboard(r)
		if err != nil {
			return nil, "", fmt.Errorf("unmarshal leaderboard: %w", err)
		}
		boards = append(boards, it.leaderboard())
	}
	if more {
		next = boards[len(boards)-1].ID
	}
	return boards, next, nil
}

// listPage queries partition pk for up to limit live items whose sort key begins with
// prefix, in sort-key order, after the item whose sort key is sk(after). more says
// whether another live item follows them.
//
// Items being deleted are filtered out after DynamoDB reads them, so a page of Limit
// items may hold fewer live ones: it asks for limit+1 items at a time and reads on
// until it has them or the partition ends. The extra one is how it knows there are
// more without promising a next page that turns out empty.
func (s *Store) listPage(ctx context.Context, pk, prefix string, sk func(string) string, limit int, after string) (items []map[string]types.AttributeValue, more bool, err error) {
	if limit < 1 {
		return nil, false, fmt.Errorf("limit %d: must be at least 1", limit)
	}
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		FilterExpression:       aws.String("attribute_not_exists(deleting)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: pk},
			":prefix": &types.AttributeValueMemberS{Value: prefix},
		},
		Limit:                  aws.Int32(int32(min(limit+1, 1000))),
		ConsistentRead:         aws.Bool(true),
		ReturnConsumedCapacity: total,
	}
	if after != "" {
		// Checked even though the API only passes positions it sealed itself: nothing
		// that is not an id of ours becomes part of a key.
		if !ValidID(after) {
			return nil, false, fmt.Errorf("list after %q: %w", after, errInvalidPosition)
		}
		in.ExclusiveStartKey = key(pk, sk(after))
	}
	pages := dynamodb.NewQueryPaginator(s.db, in)
	for pages.HasMorePages() && len(items) <= limit {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, false, err
		}
		reqlog.AddRead(ctx, capacity(page.ConsumedCapacity)...)
		items = append(items, page.Items...)
	}
	if len(items) > limit {
		return items[:limit], true, nil
	}
	return items, false, nil
}

var errInvalidPosition = errors.New("not an id")

type cursorKeyItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	Key       []byte `dynamodbav:"key"`
	CreatedAt string `dynamodbav:"createdAt"`
}

// CursorKey returns the secret key that seals pagination cursors, creating it on first
// use. It lives in the table rather than in Secrets Manager so that every listing
// function can read it without being able to read the token signing secret. Functions
// read it once, at cold start. Concurrent first uses agree: the first write wins and
// the others read it back.
func (s *Store) CursorKey(ctx context.Context) ([]byte, error) {
	k, err := s.readCursorKey(ctx)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return k, err
	}
	k = make([]byte, cursor.KeySize)
	rand.Read(k)
	item, err := attributevalue.MarshalMap(cursorKeyItem{
		PK: cursorKeyPK(), SK: cursorKeySK(), Type: "cursorKey", Key: k, CreatedAt: stamp(s.now()),
	})
	if err != nil {
		return nil, fmt.Errorf("marshal cursor key: %w", err)
	}
	out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:              &s.table,
		Item:                   item,
		ConditionExpression:    aws.String("attribute_not_exists(PK)"),
		ReturnConsumedCapacity: total,
	})
	if conditionFailed(err) {
		return s.readCursorKey(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("create cursor key: %w", err)
	}
	reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	return k, nil
}

func (s *Store) readCursorKey(ctx context.Context) ([]byte, error) {
	raw, err := s.getItem(ctx, cursorKeyPK(), cursorKeySK())
	if err != nil {
		return nil, fmt.Errorf("get cursor key: %w", err)
	}
	if raw == nil {
		return nil, fmt.Errorf("cursor key %w", ErrNotFound)
	}
	var it cursorKeyItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return nil, fmt.Errorf("unmarshal cursor key: %w", err)
	}
	if len(it.Key) != cursor.KeySize {
		return nil, fmt.Errorf("cursor key is %d bytes, want %d", len(it.Key), cursor.KeySize)
	}
	return it.Key, nil
}
