// Package store owns the single DynamoDB table: every item shape, every key, and every
// read and write the API makes. docs/data-model.md lists its access patterns.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/ranktree"
	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// Expected outcomes. Callers test them with errors.Is.
var (
	ErrNotFound            = errors.New("not found")
	ErrTeamNotFound        = fmt.Errorf("team %w", ErrNotFound)
	ErrLeaderboardNotFound = fmt.Errorf("leaderboard %w", ErrNotFound)
	ErrClientNotFound      = fmt.Errorf("client %w", ErrNotFound)
	ErrConflict            = errors.New("conflict")
	// ErrUnfinished says a delete stopped half-way: what it deletes already reads as
	// deleted, and repeating the delete finishes it.
	ErrUnfinished = errors.New("delete not finished")
)

// UnknownTeamsError says which of the team ids given are not teams of the tenant.
type UnknownTeamsError struct{ IDs []string }

func (e *UnknownTeamsError) Error() string {
	return "unknown teams: " + strings.Join(e.IDs, ", ")
}

// Store reads and writes the table. It is safe for concurrent use.
type Store struct {
	db    *dynamodb.Client
	table string
	now   func() time.Time
	shape ranktree.Shape
	cache *nodeCache
	// settings caches boards' settings by tenant and id (see board).
	settings sync.Map
	hooks    hooks
}

// hooks let tests stop the protocol between two of its steps and run something there.
// Production leaves them nil.
type hooks struct {
	afterHead    func(ctx context.Context, pk string) // a view or commit has read HEAD
	beforeCommit func(ctx context.Context, pk string) // a commit is built, not yet sent
}

// New returns a Store on table through db. now is the clock for timestamps and ids.
func New(db *dynamodb.Client, table string, now func() time.Time) *Store {
	return &Store{db: db, table: table, now: now, shape: ranktree.DefaultShape, cache: &nodeCache{}}
}

// SetTreeShape changes when rank tree nodes split: a leaf past leafSplitAt entries, an
// inner node past nodeSplitAt children (defaults 64 and 64). Small values let tests
// reach deep trees with a few teams; production keeps the defaults, which
// docs/ranking.md's costs assume.
func (s *Store) SetTreeShape(leafSplitAt, nodeSplitAt int64) {
	s.shape = ranktree.Shape{MaxKeys: int(leafSplitAt), MaxChildren: int(nodeSplitAt)}
}

// Ping checks that the table exists and is usable. It costs no capacity units.
func (s *Store) Ping(ctx context.Context) error {
	out, err := s.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &s.table})
	if err != nil {
		return fmt.Errorf("describe table %s: %w", s.table, err)
	}
	switch out.Table.TableStatus {
	case types.TableStatusActive, types.TableStatusUpdating:
		return nil
	default:
		return fmt.Errorf("table %s is %s", s.table, out.Table.TableStatus)
	}
}

// stamp is how every timestamp is stored and shown: RFC 3339, UTC, milliseconds.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func parseStamp(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// conditionFailed reports whether err is a failed condition on a single-item write.
func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// reasonConditionFailed is the cancellation reason code of a transaction item whose
// condition did not hold.
const reasonConditionFailed = "ConditionalCheckFailed"

// cancelReasons returns the per-item reason codes of a cancelled transaction, in the
// order the items were sent, or nil if err is not a cancellation.
func cancelReasons(err error) []string {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	codes := make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		codes[i] = aws.ToString(r.Code)
	}
	return codes
}

const total = types.ReturnConsumedCapacityTotal

func (s *Store) getItem(ctx context.Context, pk, sk string) (map[string]types.AttributeValue, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:              &s.table,
		Key:                    key(pk, sk),
		ConsistentRead:         aws.Bool(true),
		ReturnConsumedCapacity: total,
	})
	if err != nil {
		return nil, err
	}
	reqlog.AddRead(ctx, capacity(out.ConsumedCapacity)...)
	return out.Item, nil
}

// conflictRetries is how many times a transaction that lost only to concurrent
// transactions on the same items is tried again. The SDK does not retry these.
const conflictRetries = 3

func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) error {
	for attempt := 0; ; attempt++ {
		out, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems:          items,
			ReturnConsumedCapacity: total,
		})
		if err == nil {
			reqlog.AddWrite(ctx, out.ConsumedCapacity...)
			return nil
		}
		if attempt == conflictRetries || !onlyConflicts(cancelReasons(err)) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(10<<attempt) * time.Millisecond):
		}
	}
}

// onlyConflicts reports whether a transaction was cancelled by nothing but conflicts with
// other transactions, so that trying again may succeed.
func onlyConflicts(reasons []string) bool {
	conflict := false
	for _, r := range reasons {
		switch r {
		case "TransactionConflict":
			conflict = true
		case "", "None":
		default:
			return false
		}
	}
	return conflict
}

func capacity(c *types.ConsumedCapacity) []types.ConsumedCapacity {
	if c == nil {
		return nil
	}
	return []types.ConsumedCapacity{*c}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pk},
		"SK": &types.AttributeValueMemberS{Value: sk},
	}
}
