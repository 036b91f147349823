package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/ranktree"
	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// ImportedScore is one team of a board being imported.
type ImportedScore struct {
	TeamName string
	Score    int64
}

// ImportBoard creates a new board holding new teams with the given scores, in bulk: the
// teams, their memberships and the rank tree are written with batch
// writes, not one transaction per team, so a board of 100,000 teams loads in a minute
// rather than hours. It is for migrating a board from elsewhere (and for benchmarks). The
// leaderboard item is written last, so the board is invisible until it is complete;
// a failed import leaves unreachable items behind, not a broken board.
func (s *Store) ImportBoard(ctx context.Context, tenant, name string, settings Settings, scores []ImportedScore) (Leaderboard, []string, error) {
	now := s.now()
	boardID := newID(now)
	pk := boardPK(tenant, boardID)
	teamIDs := make([]string, len(scores))
	var items []map[string]types.AttributeValue
	keys := make([]string, len(scores))
	for i, sc := range scores {
		id := newID(now)
		teamIDs[i] = id
		score := sc.Score
		m := memberItem{
			PK: memberPK(pk, id), SK: memberSK(id), Type: "member", TeamID: id, TeamName: sc.TeamName, JoinedAt: stamp(now),
			Score: &score, ReachedAt: now.UnixMilli(), UpdatedAt: stamp(now),
		}
		keys[i] = rankKey(settings.SortOrder, score, m.ReachedAt, id)
		for _, v := range []any{
			teamItem{PK: tenantPK(tenant), SK: teamSK(id), Type: "team", TeamID: id, Name: sc.TeamName,
				CreatedAt: stamp(now), ModifiedAt: stamp(now), Boards: []string{boardID}},
			m,
		} {
			av, err := attributevalue.MarshalMap(v)
			if err != nil {
				return Leaderboard{}, nil, fmt.Errorf("marshal import: %w", err)
			}
			items = append(items, av)
		}
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	packed := make([]string, len(keys))
	for i, k := range keys {
		packed[i] = treeKey(k)
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(packed[a], packed[b]) })
	sortedKeys, names := make([]string, len(keys)), make([]string, len(keys))
	for i, j := range order {
		sortedKeys[i], names[i] = packed[j], scores[j].TeamName
	}
	root, tree := ranktree.Build(sortedKeys, names, 1, s.shape)
	for id, n := range tree {
		items = append(items, nodeItem(pk, id, n))
	}
	head, err := attributevalue.MarshalMap(headItem{PK: pk, SK: headSK(), Type: "head", Ver: 1, Root: ranktree.Encode(root.Node), Next: int64(root.Next)})
	if err != nil {
		return Leaderboard{}, nil, err
	}
	items = append(items, head)
	if err := s.putAll(ctx, items); err != nil {
		return Leaderboard{}, nil, err
	}
	board, err := attributevalue.MarshalMap(leaderboardItem{
		PK: tenantPK(tenant), SK: leaderboardSK(boardID), Type: "leaderboard", LeaderboardID: boardID, Name: name,
		SortOrder: settings.SortOrder, ScoreOperator: settings.ScoreOperator, RankMode: settings.RankMode,
		MinScore: settings.MinScore, MaxScore: settings.MaxScore, MemberCount: len(scores),
		CreatedAt: stamp(now), ModifiedAt: stamp(now),
	})
	if err != nil {
		return Leaderboard{}, nil, err
	}
	out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: board, ConditionExpression: aws.String("attribute_not_exists(PK)"), ReturnConsumedCapacity: total,
	})
	if err != nil {
		return Leaderboard{}, nil, fmt.Errorf("import leaderboard: %w", err)
	}
	reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	return Leaderboard{ID: boardID, Name: name, Settings: settings, MemberCount: len(scores), CreatedAt: now, ModifiedAt: now}, teamIDs, nil
}

// putAll writes items 25 to a BatchWriteItem, a few batches at a time, retrying what
// DynamoDB leaves unprocessed.
func (s *Store) putAll(ctx context.Context, items []map[string]types.AttributeValue) error {
	const workers = 4
	batches := make(chan []map[string]types.AttributeValue)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for batch := range batches {
				if err := s.writeBatch(ctx, batch); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var err error
	for i := 0; i < len(items) && err == nil; i += 25 {
		select {
		case batches <- items[i:min(i+25, len(items))]:
		case err = <-errs:
		}
	}
	close(batches)
	wg.Wait()
	close(errs)
	if err != nil {
		return err
	}
	return <-errs
}

func (s *Store) writeBatch(ctx context.Context, batch []map[string]types.AttributeValue) error {
	reqs := make([]types.WriteRequest, len(batch))
	for i, it := range batch {
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	}
	return s.batchWrite(ctx, reqs)
}

// batchWrite sends at most 25 write requests in one BatchWriteItem, retrying what
// DynamoDB leaves unprocessed.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for attempt := 0; len(reqs) > 0; attempt++ {
		out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems:           map[string][]types.WriteRequest{s.table: reqs},
			ReturnConsumedCapacity: total,
		})
		if err != nil {
			return fmt.Errorf("batch write: %w", err)
		}
		reqlog.AddWrite(ctx, out.ConsumedCapacity...)
		reqs = out.UnprocessedItems[s.table]
		if len(reqs) > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
	}
	return nil
}
