package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// DynamoDB Local does not price writes as DynamoDB does (it reports 2 units for a
// TransactWriteItems of 3 small items, which DynamoDB charges 6), so the bench prices
// every write itself from the sizes of the items it touches:
//
//   - TransactWriteItems: 2 units per started KB of each item; a Put's size is the item
//     sent, an Update's the larger of the item before and after, a Delete's or a
//     ConditionCheck's the item as it is;
//   - PutItem, UpdateItem, DeleteItem and each request of a BatchWriteItem: 1 unit per
//     started KB, sized the same way.
//
// Reads are priced from what DynamoDB Local reports; with check set, the meter also
// computes them from item sizes (1 unit per started 4 KB a GetItem or a Query page
// reads, half for an eventually consistent read, at least one such unit), to compare.
const (
	writeUnit = 1024
	readUnit  = 4096
)

// meter gathers the priced units of the calls made under one context, and the time
// its own look-ups took, which the caller leaves out of its latency.
type meter struct {
	check bool

	mu        sync.Mutex
	write     float64
	read      float64 // computed, with check only
	overhead  time.Duration
	countDiff bool // a COUNT re-read saw a different number of items
}

func (m *meter) add(write, read float64, overhead time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.write += write
	m.read += read
	m.overhead += overhead
}

func (m *meter) totals() (write, read float64, overhead time.Duration, countDiff bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.write, m.read, m.overhead, m.countDiff
}

type meterKey struct{}

func withMeter(ctx context.Context, m *meter) context.Context {
	return context.WithValue(ctx, meterKey{}, m)
}

func meterFrom(ctx context.Context) *meter {
	m, _ := ctx.Value(meterKey{}).(*meter)
	return m
}

// pricer prices the calls of an instrumented client, reading current items through
// plain, an uninstrumented client of the same DynamoDB.
type pricer struct{ plain *dynamodb.Client }

// instrument returns a client like plain whose calls under a meter's context are priced.
func instrument(plain *dynamodb.Client) *dynamodb.Client {
	p := &pricer{plain: plain}
	return dynamodb.New(plain.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("bench-price", p.handle), middleware.After)
		})
	})
}

func (p *pricer) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	m := meterFrom(ctx)
	if m == nil {
		return next.HandleInitialize(ctx, in)
	}
	// Writes are sized before the call: after it, a deleted item is gone.
	start := time.Now()
	write, batchSizes, err := p.writePrice(ctx, in.Parameters)
	looked := time.Since(start)
	if err != nil {
		return middleware.InitializeOutput{}, middleware.Metadata{}, fmt.Errorf("bench: price write: %w", err)
	}
	out, md, err := next.HandleInitialize(ctx, in)
	if err != nil {
		// A cancelled transaction is charged too; the bench makes no concurrent writes,
		// so this is only for completeness.
		m.add(write, 0, looked)
		return out, md, err
	}
	if bw, ok := out.Result.(*dynamodb.BatchWriteItemOutput); ok {
		// Unprocessed requests are not charged; they come back in a later call.
		for _, rs := range bw.UnprocessedItems {
			for _, r := range rs {
				write -= units(batchSizes[requestKey(r)], writeUnit)
			}
		}
	}
	var read float64
	if m.check {
		start := time.Now()
		read, err = p.readPrice(ctx, m, in.Parameters, out.Result)
		looked += time.Since(start)
		if err != nil {
			return out, md, fmt.Errorf("bench: price read: %w", err)
		}
	}
	m.add(write, read, looked)
	return out, md, nil
}

// writePrice is what DynamoDB charges for the write request params, 0 for a read. For a
// BatchWriteItem it also returns the size of each request's item, by requestKey.
func (p *pricer) writePrice(ctx context.Context, params any) (float64, map[string]int, error) {
	switch in := params.(type) {
	case *dynamodb.TransactWriteItemsInput:
		var keys []item
		for _, t := range in.TransactItems {
			switch {
			case t.Update != nil:
				keys = append(keys, t.Update.Key)
			case t.Delete != nil:
				keys = append(keys, t.Delete.Key)
			case t.ConditionCheck != nil:
				keys = append(keys, t.ConditionCheck.Key)
			}
		}
		table := ""
		if len(in.TransactItems) > 0 {
			table = tableOf(in.TransactItems[0])
		}
		current, err := p.current(ctx, table, keys)
		if err != nil {
			return 0, nil, err
		}
		var price float64
		for _, t := range in.TransactItems {
			var size int
			switch {
			case t.Put != nil:
				size = itemSize(t.Put.Item)
			case t.Update != nil:
				before := current[keyString(t.Update.Key)]
				after := afterUpdate(before, t.Update.Key, aws.ToString(t.Update.UpdateExpression), t.Update.ExpressionAttributeNames, t.Update.ExpressionAttributeValues)
				size = max(itemSize(before), itemSize(after))
			case t.Delete != nil:
				size = itemSize(current[keyString(t.Delete.Key)])
			case t.ConditionCheck != nil:
				size = itemSize(current[keyString(t.ConditionCheck.Key)])
			}
			price += 2 * units(size, writeUnit)
		}
		return price, nil, nil
	case *dynamodb.PutItemInput:
		return units(itemSize(in.Item), writeUnit), nil, nil
	case *dynamodb.UpdateItemInput:
		cur, err := p.current(ctx, aws.ToString(in.TableName), []item{in.Key})
		if err != nil {
			return 0, nil, err
		}
		before := cur[keyString(in.Key)]
		after := afterUpdate(before, in.Key, aws.ToString(in.UpdateExpression), in.ExpressionAttributeNames, in.ExpressionAttributeValues)
		return units(max(itemSize(before), itemSize(after)), writeUnit), nil, nil
	case *dynamodb.DeleteItemInput:
		cur, err := p.current(ctx, aws.ToString(in.TableName), []item{in.Key})
		if err != nil {
			return 0, nil, err
		}
		return units(itemSize(cur[keyString(in.Key)]), writeUnit), nil, nil
	case *dynamodb.BatchWriteItemInput:
		var price float64
		sizes := map[string]int{}
		for table, reqs := range in.RequestItems {
			var keys []item
			for _, r := range reqs {
				if r.DeleteRequest != nil {
					keys = append(keys, r.DeleteRequest.Key)
				}
			}
			cur, err := p.current(ctx, table, keys)
			if err != nil {
				return 0, nil, err
			}
			for _, r := range reqs {
				size := 0
				if r.PutRequest != nil {
					size = itemSize(r.PutRequest.Item)
				} else if r.DeleteRequest != nil {
					size = itemSize(cur[keyString(r.DeleteRequest.Key)])
				}
				sizes[requestKey(r)] = size
				price += units(size, writeUnit)
			}
		}
		return price, sizes, nil
	}
	return 0, nil, nil
}

func requestKey(r types.WriteRequest) string {
	if r.PutRequest != nil {
		return keyString(r.PutRequest.Item)
	}
	if r.DeleteRequest != nil {
		return keyString(r.DeleteRequest.Key)
	}
	return ""
}

func tableOf(t types.TransactWriteItem) string {
	switch {
	case t.Put != nil:
		return aws.ToString(t.Put.TableName)
	case t.Update != nil:
		return aws.ToString(t.Update.TableName)
	case t.Delete != nil:
		return aws.ToString(t.Delete.TableName)
	case t.ConditionCheck != nil:
		return aws.ToString(t.ConditionCheck.TableName)
	}
	return ""
}

// current reads the items with the given keys as they are now, in one BatchGetItem.
func (p *pricer) current(ctx context.Context, table string, keys []item) (map[string]item, error) {
	found := map[string]item{}
	if len(keys) == 0 {
		return found, nil
	}
	req := map[string]types.KeysAndAttributes{table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for len(req) > 0 {
		out, err := p.plain.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, err
		}
		for _, it := range out.Responses[table] {
			found[keyString(it)] = it
		}
		req = out.UnprocessedKeys
	}
	return found, nil
}

// keyString identifies an item by the table's key, PK and SK.
func keyString(it item) string {
	s := func(name string) string {
		if v, ok := it[name].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	return s("PK") + "\x00" + s("SK")
}

// readPrice computes the read units of a GetItem or a Query page from the sizes of the
// items it read. A COUNT query returns no items, so its page is read again, whole,
// through the plain client.
func (p *pricer) readPrice(ctx context.Context, m *meter, params, result any) (float64, error) {
	factor := func(consistent *bool) float64 {
		if aws.ToBool(consistent) {
			return 1
		}
		return 0.5
	}
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		out := result.(*dynamodb.GetItemOutput)
		return factor(in.ConsistentRead) * units(itemSize(out.Item), readUnit), nil
	case *dynamodb.QueryInput:
		out := result.(*dynamodb.QueryOutput)
		items := out.Items
		if in.Select == types.SelectCount {
			again := *in
			again.Select, again.ReturnConsumedCapacity = "", ""
			full, err := p.plain.Query(ctx, &again)
			if err != nil {
				return 0, err
			}
			items = full.Items
			if int32(len(items)) != out.Count {
				m.mu.Lock()
				m.countDiff = true
				m.mu.Unlock()
			}
		}
		size := 0
		for _, it := range items {
			size += itemSize(it)
		}
		return factor(in.ConsistentRead) * units(size, readUnit), nil
	}
	return 0, nil
}
