package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/quota"
	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// quotaItem is a tenant's token bucket for one class of routes (package quota). Rate
// and Burst, when an operator sets them, override the defaults for this tenant.
type quotaItem struct {
	Tokens float64  `dynamodbav:"tokens"`
	At     int64    `dynamodbav:"at"` // epoch milliseconds
	Ver    int64    `dynamodbav:"ver"`
	Rate   *float64 `dynamodbav:"rate,omitempty"`
	Burst  *float64 `dynamodbav:"burst,omitempty"`
}

// QuotaBucket implements quota.Store.
func (s *Store) QuotaBucket(ctx context.Context, tenant string, class quota.Class) (quota.Bucket, error) {
	raw, err := s.getItem(ctx, quotaPK(tenant), quotaSK(string(class)))
	if err != nil {
		return quota.Bucket{}, err
	}
	var it quotaItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return quota.Bucket{}, fmt.Errorf("unmarshal quota: %w", err)
	}
	b := quota.Bucket{Tokens: it.Tokens, At: time.UnixMilli(it.At), Version: it.Ver}
	if it.Rate != nil && it.Burst != nil && *it.Rate > 0 && *it.Burst >= 1 {
		b.Override = &quota.Limits{Rate: *it.Rate, Burst: *it.Burst}
	}
	return b, nil
}

// TakeQuota implements quota.Store: a write conditioned on the version read.
func (s *Store) TakeQuota(ctx context.Context, tenant string, class quota.Class, version int64, tokens float64, at time.Time) (bool, error) {
	values := map[string]types.AttributeValue{
		":tokens": &types.AttributeValueMemberN{Value: fmt.Sprint(tokens)},
		":at":     number(at.UnixMilli()), ":new": number(version + 1),
	}
	cond := "attribute_not_exists(ver)"
	if version > 0 {
		cond, values[":old"] = "ver = :old", number(version)
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 key(quotaPK(tenant), quotaSK(string(class))),
		UpdateExpression:    aws.String("SET tokens = :tokens, #at = :at, ver = :new"),
		ConditionExpression: aws.String(cond),
		// AT is not reserved, but names keep the expression safe if it ever is.
		ExpressionAttributeNames:  map[string]string{"#at": "at"},
		ExpressionAttributeValues: values,
		ReturnConsumedCapacity:    total,
	})
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("take quota: %w", err)
	}
	reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	return true, nil
}

// SetQuota gives a tenant its own limits for a class (the operator's tool); nil
// limits go back to the defaults.
func (s *Store) SetQuota(ctx context.Context, tenant string, class quota.Class, limits *quota.Limits) error {
	in := &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(quotaPK(tenant), quotaSK(string(class))),
		UpdateExpression: aws.String("REMOVE rate, burst"),
	}
	if limits != nil {
		in.UpdateExpression = aws.String("SET rate = :rate, burst = :burst")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{
			":rate": &types.AttributeValueMemberN{Value: fmt.Sprint(limits.Rate)}, ":burst": &types.AttributeValueMemberN{Value: fmt.Sprint(limits.Burst)},
		}
	}
	if _, err := s.db.UpdateItem(ctx, in); err != nil {
		return fmt.Errorf("set quota: %w", err)
	}
	return nil
}

var _ quota.Store = (*Store)(nil)
