package main

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/dynamofault"
)

// item is one DynamoDB item as the SDK carries it.
type item = map[string]types.AttributeValue

// itemSize is an item's size by DynamoDB's rules, the size that capacity units are
// charged on; the AWS-behaviour layer meters partitions with the same rules.
func itemSize(it item) int { return dynamofault.ItemSize(it) }

// units is how many units of unit bytes a size costs: at least one.
func units(size, unit int) float64 {
	return float64(max(1, (size+unit-1)/unit))
}
