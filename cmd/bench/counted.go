package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// The count-based rank is what DynamoDB users usually do without a tree: one item per
// scored team in rank order in one partition, and a Query with Select COUNT over every
// item ahead. The store keeps no such items (its tree does the work), so the bench
// writes them for comparison, in a partition of their own, and counts them the same way.

// countedPK is the partition of a board's rank-ordered items.
func countedPK(board string) string { return "COUNTED#" + board }

// countedSK orders by score, best first, then by team id: the board's order.
func countedSK(score int64, team string) string {
	return fmt.Sprintf("%014x%s", maxScore-score, team)
}

// writeCounted writes the rank-ordered items of a seeded board, unmeasured.
func writeCounted(ctx context.Context, db *dynamodb.Client, table string, b board) error {
	var reqs []types.WriteRequest
	for i, team := range b.teams {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			"PK":     &types.AttributeValueMemberS{Value: countedPK(b.id)},
			"SK":     &types.AttributeValueMemberS{Value: countedSK(b.scores[i], team)},
			"teamId": &types.AttributeValueMemberS{Value: team},
			"score":  &types.AttributeValueMemberN{Value: fmt.Sprint(b.scores[i])},
		}}})
	}
	batches := make(chan []types.WriteRequest)
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for batch := range batches {
				for len(batch) > 0 {
					out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: batch}})
					if err != nil {
						errs <- err
						return
					}
					batch = out.UnprocessedItems[table]
				}
			}
		})
	}
	for i := 0; i < len(reqs); i += 25 {
		batches <- reqs[i:min(i+25, len(reqs))]
	}
	close(batches)
	wg.Wait()
	close(errs)
	return <-errs
}

// countedRank counts the items up to the team's own.
func countedRank(ctx context.Context, db *dynamodb.Client, table string, b board, team string) (int64, error) {
	i := -1
	for j, t := range b.teams {
		if t == team {
			i = j
		}
	}
	in := &dynamodb.QueryInput{
		TableName:              &table,
		KeyConditionExpression: aws.String("PK = :pk AND SK <= :k"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: countedPK(b.id)},
			":k":  &types.AttributeValueMemberS{Value: countedSK(b.scores[i], team)},
		},
		Select: types.SelectCount, ConsistentRead: aws.Bool(true), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	var n int64
	for {
		out, err := db.Query(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("count: %w", err)
		}
		if out.ConsumedCapacity != nil {
			reqlog.AddRead(ctx, *out.ConsumedCapacity)
		}
		n += int64(out.Count)
		if out.LastEvaluatedKey == nil {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
