package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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

// AddTeams puts teams on a live board. Teams already on it are left as they are;
// unknown teams give *UnknownTeamsError and add nothing. Repeated ids count once.
//
// The teams join joinsPerTransaction to a transaction, in order (see join.go); a team
// deleted meanwhile is dropped, as if deleted just after. An error half-way leaves the
// teams of the transactions that committed on the board, and is then never one that
// says nothing was written: adding is idempotent, so the same request again converges
// on every team being a member.
func (s *Store) AddTeams(ctx context.Context, tenant, boardID string, ids []string) error {
	ids = distinct(ids)
	if len(ids) > MaxTeamsPerWrite {
		return fmt.Errorf("add teams: %d teams, at most %d", len(ids), MaxTeamsPerWrite)
	}
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
	// Which are members already: a hint, like the teams read; the member put's
	// condition decides.
	members, err := s.getMembers(ctx, boardPK(tenant, boardID), ids)
	if err != nil {
		return err
	}
	teams = slices.DeleteFunc(teams, func(t teamItem) bool { return members[t.TeamID] != nil })
	now := s.now()
	joined, err := s.joinAll(ctx, tenant, boardID, teams, func(n int) ([]types.TransactWriteItem, error) {
		if n == 0 {
			return nil, nil
		}
		return []types.TransactWriteItem{s.memberCountUpdate(tenant, boardID, n, now, leaderboardLive)}, nil
	}, 1, now, joinMargin)
	switch {
	case errors.Is(err, errBoardRefused):
		return ErrLeaderboardNotFound // deleted meanwhile
	case err != nil && len(joined) > 0:
		// %v, not %w: the cause may be one that says nothing was written (throttling).
		return fmt.Errorf("add teams to %s: %d of %d teams joined, then: %v", boardID, len(joined), len(teams), err)
	case err != nil:
		return fmt.Errorf("add teams: %w", err)
	}
	return nil
}

// memberCountUpdate keeps the board's member count, on condition (leaderboardLive or
// boardHoldsMembers) that the board is there.
func (s *Store) memberCountUpdate(tenant, boardID string, delta int, now time.Time, condition string) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:           &s.table,
		Key:                 key(tenantPK(tenant), leaderboardSK(boardID)),
		UpdateExpression:    aws.String("ADD memberCount :d SET modifiedAt = :now"),
		ConditionExpression: aws.String(condition),
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
// deleted), there is only the team's record of the board left to drop. A board being
// created counts (memberBoard): a team deleted while it joins one must leave it.
func (s *Store) leave(ctx context.Context, tenant, boardID, team string, mustBeMember bool) error {
	var b board
	var err error
	if mustBeMember {
		b, err = s.board(ctx, tenant, boardID)
	} else {
		b, err = s.memberBoard(ctx, tenant, boardID)
	}
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
				s.memberCountUpdate(tenant, boardID, -1, s.now(), boardHoldsMembers),
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
// lock (which counts on its members' ver) is never overtaken. Boards being created
// count (memberBoard): they go live with the names their members have.
func (s *Store) renameOnBoards(ctx context.Context, tenant, team, name string, boards []string) error {
	for _, boardID := range boards {
		b, err := s.memberBoard(ctx, tenant, boardID)
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
		// A board still being created stops being so: its creator then gives up.
		{Update: &types.Update{
			TableName:                 &s.table,
			Key:                       key(tenantPK(tenant), leaderboardSK(boardID)),
			UpdateExpression:          aws.String("SET deleting = :true REMOVE creating"),
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
