package store

import (
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

// memberItem is a team's place on a board: its name (copied here and beside its key in
// the rank tree, so that rankings can show it), and its score and when it reached it, once it has one. Ver changes with
// every write, so that writes conditioned on it never act on a stale read.
type memberItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	TeamID    string `dynamodbav:"teamId"`
	TeamName  string `dynamodbav:"teamName"`
	JoinedAt  string `dynamodbav:"joinedAt"`
	Score     *int64 `dynamodbav:"score,omitempty"`
	ReachedAt int64  `dynamodbav:"reachedAt,omitempty"`
	UpdatedAt string `dynamodbav:"updatedAt,omitempty"`
	Ver       int64  `dynamodbav:"ver"`
}

// joinItems are the two transaction items per team that put it on a board: the team's
// boards set gains the board, on condition that the team is live and still has the name
// copied onto the member item, and the board gains the member item.
func (s *Store) joinItems(tenant, boardID string, teams []teamItem, now time.Time) ([]types.TransactWriteItem, error) {
	items := make([]types.TransactWriteItem, 0, 2*len(teams))
	for _, t := range teams {
		member, err := attributevalue.MarshalMap(memberItem{
			PK: memberPK(boardPK(tenant, boardID), t.TeamID), SK: memberSK(t.TeamID), Type: "member", TeamID: t.TeamID, TeamName: t.Name, JoinedAt: stamp(now),
		})
		if err != nil {
			return nil, fmt.Errorf("marshal member: %w", err)
		}
		items = append(items,
			types.TransactWriteItem{Update: &types.Update{
				TableName:           &s.table,
				Key:                 key(tenantPK(tenant), teamSK(t.TeamID)),
				UpdateExpression:    aws.String("ADD boards :board"),
				ConditionExpression: aws.String(teamLive + " AND teamName = :name"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":board": &types.AttributeValueMemberSS{Value: []string{boardID}},
					":name":  &types.AttributeValueMemberS{Value: t.Name},
				},
			}},
			types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: member, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		)
	}
	return items, nil
}

// liveTeams reads the given teams; ids that are not live teams of the tenant come back
// in unknown.
func (s *Store) liveTeams(ctx context.Context, tenant string, ids []string) (teams []teamItem, unknown []string, err error) {
	for _, id := range ids {
		it, err := s.getTeamItem(ctx, tenant, id)
		switch {
		case err == nil:
			teams = append(teams, it)
		case errors.Is(err, ErrTeamNotFound):
			unknown = append(unknown, id)
		default:
			return nil, nil, err
		}
	}
	return teams, unknown, nil
}

// AddTeams puts teams on a board. Teams already on it are left as they are; unknown
// teams give *UnknownTeamsError and add nothing. ids must be free of duplicates.
func (s *Store) AddTeams(ctx context.Context, tenant, boardID string, ids []string) error {
	if len(ids) > MaxTeamsPerWrite {
		return fmt.Errorf("add teams: %d teams, at most %d", len(ids), MaxTeamsPerWrite)
	}
	for attempt := 0; ; attempt++ {
		if _, err := s.getLeaderboardItem(ctx, tenant, boardID); err != nil {
			return err
		}
		teams, unknown, err := s.liveTeams(ctx, tenant, ids)
		if err != nil {
			return err
		}
		if len(unknown) > 0 {
			return &UnknownTeamsError{IDs: unknown}
		}
		var joining []teamItem
		for _, t := range teams {
			if _, err := s.getMember(ctx, boardPK(tenant, boardID), t.TeamID); errors.Is(err, ErrTeamNotFound) {
				joining = append(joining, t)
			} else if err != nil {
				return err
			}
		}
		if len(joining) == 0 {
			return nil
		}
		now := s.now()
		joins, err := s.joinItems(tenant, boardID, joining, now)
		if err != nil {
			return err
		}
		items := append([]types.TransactWriteItem{s.memberCountUpdate(tenant, boardID, len(joining), now)}, joins...)
		err = s.transact(ctx, items)
		if cancelReasons(err) == nil || attempt+1 == maxAttempts {
			if err != nil {
				return fmt.Errorf("add teams: %w", err)
			}
			return nil
		}
		// A team was renamed, deleted or added meanwhile, or the board went: look again.
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// memberCountUpdate keeps the board's member count, on condition that the board is live.
func (s *Store) memberCountUpdate(tenant, boardID string, delta int, now time.Time) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:           &s.table,
		Key:                 key(tenantPK(tenant), leaderboardSK(boardID)),
		UpdateExpression:    aws.String("ADD memberCount :d SET modifiedAt = :now"),
		ConditionExpression: aws.String("attribute_exists(PK) AND attribute_not_exists(deleting)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":d": number(int64(delta)), ":now": &types.AttributeValueMemberS{Value: stamp(now)},
		},
	}}
}

// RemoveTeam takes a team off a board; its score leaves the rankings.
func (s *Store) RemoveTeam(ctx context.Context, tenant, boardID, team string) error {
	return s.leave(ctx, tenant, boardID, team, true)
}

// maxAttempts bounds how often a write that names teams is tried again when a team is
// renamed or deleted between the read and the write.
const maxAttempts = 100

// leave removes a member and its place in the rank tree, lowers the board's
// member count and drops the board from the team's boards set, in one board commit.
// With mustBeMember a missing board or member is an error; without (a team being
// deleted), there is only the team's record of the board left to drop.
func (s *Store) leave(ctx context.Context, tenant, boardID, team string, mustBeMember bool) error {
	b, err := s.board(ctx, tenant, boardID)
	if err == nil {
		_, err = s.commitBoard(ctx, b, func(ctx context.Context, c *commit) error {
			m, err := s.getMember(ctx, b.pk, team)
			if err != nil {
				return err
			}
			c.add(
				types.TransactWriteItem{Delete: &types.Delete{
					TableName: &s.table, Key: key(memberPK(b.pk, team), memberSK(team)),
					ConditionExpression:       aws.String("ver = :ver"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":ver": number(m.Ver)},
				}},
				types.TransactWriteItem{Update: &types.Update{
					TableName: &s.table, Key: key(tenantPK(tenant), teamSK(team)),
					UpdateExpression:          aws.String("DELETE boards :board"),
					ConditionExpression:       aws.String("attribute_exists(PK)"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":board": &types.AttributeValueMemberSS{Value: []string{boardID}}},
				}},
				s.memberCountUpdate(tenant, boardID, -1, s.now()),
			)
			if m.Score != nil {
				k := b.key(m)
				if err := c.tree.Delete(ctx, treeKey(k)); err != nil {
					return fmt.Errorf("team %s leaves %s: %w", team, k, s.treeError(ctx, c, team, m.Ver, err))
				}
			}
			return nil
		})
	}
	if errors.Is(err, ErrNotFound) && !mustBeMember {
		return s.forgetBoard(ctx, tenant, team, boardID)
	}
	if err != nil {
		return fmt.Errorf("remove team %s from %s: %w", team, boardID, err)
	}
	return nil
}

func (s *Store) forgetBoard(ctx context.Context, tenant, team, boardID string) error {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(tenantPK(tenant), teamSK(team)),
		UpdateExpression:          aws.String("DELETE boards :board"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":board": &types.AttributeValueMemberSS{Value: []string{boardID}}},
		ReturnConsumedCapacity:    total,
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("forget board %s: %w", boardID, err)
	}
	if err == nil {
		reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	}
	return nil
}

// renameOnBoards copies a team's new name onto its member items, board by board, so
// rankings show it. Each board is one board commit, so that a batch holding a board's
// lock (which counts on its members' ver) is never overtaken.
func (s *Store) renameOnBoards(ctx context.Context, tenant, team, name string, boards []string) error {
	for _, boardID := range boards {
		b, err := s.board(ctx, tenant, boardID)
		if errors.Is(err, ErrLeaderboardNotFound) {
			continue // the board is gone
		}
		if err != nil {
			return err
		}
		_, err = s.commitBoardAs(ctx, b, func(ctx context.Context, c *commit) error {
			m, err := s.getMember(ctx, b.pk, team)
			if err != nil || m.TeamName == name {
				return err
			}
			c.add(types.TransactWriteItem{Update: &types.Update{
				TableName: &s.table, Key: key(memberPK(b.pk, team), memberSK(team)),
				UpdateExpression:    aws.String("SET teamName = :name ADD ver :one"),
				ConditionExpression: aws.String("ver = :ver"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":name": &types.AttributeValueMemberS{Value: name}, ":one": number(1), ":ver": number(m.Ver),
				},
			}})
			if m.Score != nil {
				return c.tree.Set(ctx, treeKey(b.key(m)), name)
			}
			return nil
		}, false)
		if errors.Is(err, ErrNotFound) {
			continue // the board or the membership went meanwhile
		}
		if err != nil {
			return fmt.Errorf("rename on board %s: %w", boardID, err)
		}
	}
	return nil
}

// deleteMargin is the time DeleteLeaderboard keeps in hand before the request's deadline.
const deleteMargin = 2 * time.Second

// DeleteLeaderboard deletes a board and everything of it: HEAD, memberships, rank tree,
// queued submits (idempotency records expire on their own). One transaction first marks the leaderboard
// and its HEAD as deleting, so the board reads as missing from then on and no board
// commit can succeed after it (each is conditioned on HEAD). Then strongly consistent
// Queries sweep the partition until it is empty, and the leaderboard item goes last.
// A board too big to clear before ctx's deadline, or a sweep that fails, leaves the
// board marked and done false: calling again carries on. Teams' boards sets may keep
// the id; it is harmless and dropped when the team leaves or is deleted.
func (s *Store) DeleteLeaderboard(ctx context.Context, tenant, boardID string) (done bool, err error) {
	if !ValidID(boardID) {
		return false, ErrLeaderboardNotFound
	}
	pk := boardPK(tenant, boardID)
	err = s.writeTransaction(ctx, []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                 &s.table,
			Key:                       key(tenantPK(tenant), leaderboardSK(boardID)),
			UpdateExpression:          aws.String("SET deleting = :true"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":true": &types.AttributeValueMemberBOOL{Value: true}},
		}},
		// Unconditional: a repeat after the sweep removed HEAD puts back a marked one,
		// which the sweep removes again.
		{Update: &types.Update{
			TableName:                 &s.table,
			Key:                       key(pk, headSK()),
			UpdateExpression:          aws.String("SET deleting = :true ADD ver :one"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":true": &types.AttributeValueMemberBOOL{Value: true}, ":one": number(1)},
		}},
	}, newToken())
	if reasons := cancelReasons(err); len(reasons) > 0 && reasons[0] == reasonConditionFailed {
		return false, ErrLeaderboardNotFound
	}
	if err != nil {
		return false, fmt.Errorf("mark leaderboard %s deleting: %w", boardID, err)
	}
	// The board's own partition, then its members', tree's and inbox's. Idempotency
	// records, one partition each, are left to their TTL.
	parts := []string{pk}
	for i := range memberShards {
		parts = append(parts, memberShardPK(pk, i))
	}
	for i := range treeShards {
		parts = append(parts, treeShardPK(pk, i))
	}
	for i := range inboxShards {
		parts = append(parts, inboxPK(pk, i))
	}
	for _, part := range parts {
		for {
			if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < deleteMargin {
				return false, nil
			}
			page, err := s.db.Query(ctx, &dynamodb.QueryInput{
				TableName:                 &s.table,
				KeyConditionExpression:    aws.String("PK = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: part}},
				ProjectionExpression:      aws.String("PK, SK"),
				ConsistentRead:            aws.Bool(true),
				Limit:                     aws.Int32(250),
				ReturnConsumedCapacity:    total,
			})
			if err != nil {
				return false, fmt.Errorf("%w: list board items: %w", ErrUnfinished, err)
			}
			reqlog.AddRead(ctx, capacity(page.ConsumedCapacity)...)
			if len(page.Items) == 0 {
				break
			}
			if err := s.deleteAll(ctx, page.Items); err != nil {
				return false, fmt.Errorf("%w: %w", ErrUnfinished, err)
			}
		}
	}
	del, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table, Key: key(tenantPK(tenant), leaderboardSK(boardID)), ReturnConsumedCapacity: total,
	})
	if err != nil {
		return false, fmt.Errorf("%w: delete leaderboard %s: %w", ErrUnfinished, boardID, err)
	}
	reqlog.AddWrite(ctx, capacity(del.ConsumedCapacity)...)
	return true, nil
}

// deleteAll deletes items by key, 25 to a BatchWriteItem.
func (s *Store) deleteAll(ctx context.Context, keys []map[string]types.AttributeValue) error {
	for i := 0; i < len(keys); i += 25 {
		var reqs []types.WriteRequest
		for _, k := range keys[i:min(i+25, len(keys))] {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
		}
		if err := s.batchWrite(ctx, reqs); err != nil {
			return fmt.Errorf("delete board items: %w", err)
		}
	}
	return nil
}
