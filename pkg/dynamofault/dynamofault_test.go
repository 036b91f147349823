package dynamofault_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/leaderboardapi/leaderboard/internal/testdb"
	"github.com/leaderboardapi/leaderboard/pkg/dynamofault"
)

func TestMain(m *testing.M) { testdb.Main(m) }

type item = map[string]types.AttributeValue

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
func key(pk, sk string) item            { return item{"PK": str(pk), "SK": str(sk)} }

func attempts(n int) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) { o.RetryMaxAttempts = n }
}

func newLayer(t *testing.T, opts dynamofault.Options) (*dynamofault.Layer, *dynamodb.Client, string) {
	t.Helper()
	plain, table := testdb.Table(t)
	return dynamofault.Wrap(plain, opts), plain, table
}

func put(t *testing.T, c *dynamodb.Client, table string, it item) {
	t.Helper()
	if _, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &table, Item: it}); err != nil {
		t.Fatal(err)
	}
}

// counter reads attribute n of an item through the plain client, strongly consistent.
func counter(t *testing.T, plain *dynamodb.Client, table string, k item, attr string) string {
	t.Helper()
	out, err := plain.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &table, Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := out.Item[attr].(*types.AttributeValueMemberN); ok {
		return v.Value
	}
	return ""
}

func add(table string, k item, attr, by string) *types.Update {
	return &types.Update{
		TableName:                 &table,
		Key:                       k,
		UpdateExpression:          aws.String("ADD #a :d"),
		ExpressionAttributeNames:  map[string]string{"#a": attr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": num(by)},
	}
}

// inFlight waits until the layer has begun the nth attempt of op, plus a margin for it to
// register, so the test can act while that call is in flight.
func inFlight(t *testing.T, l *dynamofault.Layer, op string, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for l.Stats().Attempts[op] < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s attempt %d never started", op, n)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
}

func reasons(err error) []string {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	var codes []string
	for _, r := range tce.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	return codes
}

func TestOverlappingTransactionsConflict(t *testing.T) {
	l, plain, table := newLayer(t, dynamofault.Options{
		Transactions: true,
		Latency:      dynamofault.Latencies{Transact: dynamofault.Delay{Mean: 600 * time.Millisecond}},
	})
	c, ctx := l.Client(), context.Background()
	put(t, c, table, item{"PK": str("p"), "SK": str("x"), "n": num("0")})

	first := make(chan error, 1)
	go func() {
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: []types.TransactWriteItem{{Update: add(table, key("p", "x"), "n", "1")}},
		})
		first <- err
	}()
	inFlight(t, l, "TransactWriteItems", 1)

	second := &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &table, Item: item{"PK": str("p"), "SK": str("y")}}},
		{Update: add(table, key("p", "x"), "n", "10")},
	}}
	_, err := c.TransactWriteItems(ctx, second)
	if got := reasons(err); !slices.Equal(got, []string{"None", "TransactionConflict"}) {
		t.Errorf("overlapping transaction: reasons %v, err %v", got, err)
	}
	var conflict *types.TransactionConflictException
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: key("p", "x")}); !errors.As(err, &conflict) {
		t.Errorf("PutItem on an in-flight item: %v, want TransactionConflictException", err)
	}
	_, err = c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
		{Get: &types.Get{TableName: &table, Key: key("p", "y")}},
		{Get: &types.Get{TableName: &table, Key: key("p", "x")}},
	}})
	if got := reasons(err); !slices.Equal(got, []string{"None", "TransactionConflict"}) {
		t.Errorf("TransactGetItems: reasons %v, err %v", got, err)
	}
	// BatchWriteItem leaves the in-flight item unprocessed and writes the others.
	bw, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: {
		{PutRequest: &types.PutRequest{Item: key("p", "x")}},
		{PutRequest: &types.PutRequest{Item: key("p", "z")}},
	}}})
	if err != nil || len(bw.UnprocessedItems[table]) != 1 || bw.UnprocessedItems[table][0].PutRequest.Item["SK"].(*types.AttributeValueMemberS).Value != "x" {
		t.Errorf("BatchWriteItem: %+v, %v; want x unprocessed", bw, err)
	}
	// GetItem does not conflict: it sees the item as it was before the transaction.
	if out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("p", "x"), ConsistentRead: aws.Bool(true)}); err != nil || out.Item["n"].(*types.AttributeValueMemberN).Value != "0" {
		t.Errorf("GetItem during the transaction: %v, %v; want n = 0", out, err)
	}

	if err := <-first; err != nil {
		t.Fatalf("first transaction: %v", err)
	}
	if _, err := c.TransactWriteItems(ctx, second); err != nil {
		t.Fatalf("the same transaction once the first is done: %v", err)
	}
	if n := counter(t, plain, table, key("p", "x"), "n"); n != "11" {
		t.Errorf("n = %s, want 11: both transactions applied once", n)
	}
	if got := l.Stats().Faults[dynamofault.Conflict]; got != 4 {
		t.Errorf("conflicts = %d, want 4", got)
	}
}

// TestQueryDuringMove runs a transaction that moves an item (delete SK a, put SK b) while
// reading the partition in every way the store does. Each seed fixes the order in which
// the two writes turn visible, and so whether readers see both items or neither between.
func TestQueryDuringMove(t *testing.T) {
	for _, tc := range []struct {
		name    string
		seed    uint64 // draws the moments the delete and the put turn visible
		between string // what readers see after one turned visible and before the other
		other   string
	}{
		{"put visible first shows both", 30, "a,b", ""},
		{"delete visible first shows neither", 1, "", "a,b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, plain, table := newLayer(t, dynamofault.Options{
				Seed:         tc.seed,
				Transactions: true,
				// Long enough that a loaded machine (make test runs every package at once,
				// with the race detector) still reads several times between the two moments.
				Latency: dynamofault.Latencies{Transact: dynamofault.Delay{Mean: 2 * time.Second}},
			})
			c, ctx := l.Client(), context.Background()
			put(t, plain, table, item{"PK": str("p"), "SK": str("a"), "v": num("1")})
			put(t, plain, table, item{"PK": str("q"), "SK": str("a")}) // another partition, untouched

			query := func(in dynamodb.QueryInput) (sks []string, count int32) {
				t.Helper()
				in.TableName = &table
				in.ConsistentRead = aws.Bool(true)
				if in.KeyConditionExpression == nil {
					in.KeyConditionExpression = aws.String("PK = :pk")
					in.ExpressionAttributeValues = item{":pk": str("p")}
				}
				pages := dynamodb.NewQueryPaginator(c, &in)
				for pages.HasMorePages() {
					out, err := pages.NextPage(ctx)
					if err != nil {
						t.Fatal(err)
					}
					count += out.Count
					for _, it := range out.Items {
						sks = append(sks, it["SK"].(*types.AttributeValueMemberS).Value)
					}
				}
				return sks, count
			}
			state := func() string { s, _ := query(dynamodb.QueryInput{}); return strings.Join(s, ",") }
			get := func(sk string) bool {
				out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("p", sk), ConsistentRead: aws.Bool(true)})
				if err != nil {
					t.Fatal(err)
				}
				return out.Item != nil
			}

			done := make(chan error, 1)
			go func() {
				_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
					{Delete: &types.Delete{TableName: &table, Key: key("p", "a")}},
					{Put: &types.Put{TableName: &table, Item: item{"PK": str("p"), "SK": str("b"), "v": num("2")}}},
				}})
				done <- err
			}()
			seen := map[string]bool{}
			checked := 0
			for running := true; running; {
				select {
				case err := <-done:
					if err != nil {
						t.Fatal(err)
					}
					running = false
				default:
				}
				before := state()
				var views []string
				s, _ := query(dynamodb.QueryInput{Limit: aws.Int32(1)})
				views = append(views, strings.Join(s, ","))
				s, _ = query(dynamodb.QueryInput{ScanIndexForward: aws.Bool(false)})
				slices.Reverse(s)
				views = append(views, strings.Join(s, ","))
				s, _ = query(dynamodb.QueryInput{
					KeyConditionExpression:    aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
					FilterExpression:          aws.String("attribute_not_exists(deleting)"),
					ProjectionExpression:      aws.String("SK, v"),
					ExpressionAttributeNames:  map[string]string{"#pk": "PK", "#sk": "SK"},
					ExpressionAttributeValues: item{":pk": str("p"), ":lo": str("a"), ":hi": str("z")},
				})
				views = append(views, strings.Join(s, ","))
				s, _ = query(dynamodb.QueryInput{
					KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :b)"),
					ExpressionAttributeValues: item{":pk": str("p"), ":b": str("b")},
				})
				views = append(views, "b?"+strings.Join(s, ","))
				_, n := query(dynamodb.QueryInput{Select: types.SelectCount})
				scan, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: &table, ConsistentRead: aws.Bool(true)})
				if err != nil {
					t.Fatal(err)
				}
				var scanned []string
				for _, it := range scan.Items {
					if it["PK"].(*types.AttributeValueMemberS).Value == "p" {
						scanned = append(scanned, it["SK"].(*types.AttributeValueMemberS).Value)
					}
				}
				slices.Sort(scanned)
				views = append(views, strings.Join(scanned, ","))
				batch, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
					table: {Keys: []item{key("p", "a"), key("p", "b")}, ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("SK")},
				}})
				if err != nil {
					t.Fatal(err)
				}
				var batched []string
				for _, it := range batch.Responses[table] {
					if len(it) != 1 {
						t.Errorf("BatchGetItem projected %v, want SK only", it)
					}
					batched = append(batched, it["SK"].(*types.AttributeValueMemberS).Value)
				}
				slices.Sort(batched)
				views = append(views, strings.Join(batched, ","))
				var gets []string
				for _, sk := range []string{"a", "b"} {
					if get(sk) {
						gets = append(gets, sk)
					}
				}
				after := state()
				if before != after {
					continue // a write turned visible meanwhile: the views may differ rightly
				}
				seen[before] = true
				checked++
				wantB := "b?"
				if strings.Contains(before, "b") {
					wantB = "b?b"
				}
				if want := []string{before, before, before, wantB, before, before}; !slices.Equal(views, want) {
					t.Errorf("views %q, want %q", views, want)
				}
				if int(n) != len(strings.Split(before, ",")) && !(before == "" && n == 0) {
					t.Errorf("Select COUNT = %d while the items are %q", n, before)
				}
				if g := strings.Join(gets, ","); g != before {
					t.Errorf("GetItem sees %q while Query sees %q", g, before)
				}
			}
			if !seen[tc.between] || seen[tc.other] {
				t.Errorf("states seen %v over %d checks: want %q between, never %q", seen, checked, tc.between, tc.other)
			}
			if got := state(); got != "b" {
				t.Errorf("after the transaction: %q, want b", got)
			}
			if l.Stats().Faults[dynamofault.Invisible] == 0 {
				t.Error("no invisible item counted")
			}
		})
	}
}

func TestClientRequestToken(t *testing.T) {
	l, plain, table := newLayer(t, dynamofault.Options{
		Idempotency:  true,
		Transactions: true,
		Latency:      dynamofault.Latencies{Transact: dynamofault.Delay{Mean: 250 * time.Millisecond}},
	})
	c, ctx := l.Client(), context.Background()
	k := key("p", "counter")
	tx := func(token, by string, opts ...func(*dynamodb.Options)) error {
		in := &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Update: add(table, k, "n", by)}}}
		if token != "" {
			in.ClientRequestToken = &token
		}
		_, err := c.TransactWriteItems(ctx, in, opts...)
		return err
	}

	for range 2 {
		if err := tx("token-1", "1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := counter(t, plain, table, k, "n"); n != "1" {
		t.Fatalf("n = %s after a repeated token, want 1", n)
	}
	var mismatch *types.IdempotentParameterMismatchException
	if err := tx("token-1", "5"); !errors.As(err, &mismatch) {
		t.Errorf("same token, other parameters: %v, want IdempotentParameterMismatchException", err)
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := tx("token-2", "1"); err != nil {
			t.Error(err)
		}
	}()
	inFlight(t, l, "TransactWriteItems", 4)
	var inProgress *types.TransactionInProgressException
	if err := tx("token-2", "1", attempts(1)); !errors.As(err, &inProgress) {
		t.Errorf("repeat while in flight: %v, want TransactionInProgressException", err)
	}
	wg.Wait()
	// Without a token of the caller's, the SDK makes one per call: each call applies.
	for range 2 {
		if err := tx("", "1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := counter(t, plain, table, k, "n"); n != "4" {
		t.Errorf("n = %s, want 4", n)
	}
	f := l.Stats().Faults
	if f[dynamofault.Replay] != 1 || f[dynamofault.ParameterMismatch] != 1 || f[dynamofault.InProgress] != 1 {
		t.Errorf("faults %v", f)
	}
}

func isLost(err error) bool {
	var ise *types.InternalServerError
	var send *smithyhttp.RequestSendError
	return errors.As(err, &ise) || errors.As(err, &send)
}

func TestLostResponse(t *testing.T) {
	l, plain, table := newLayer(t, dynamofault.Options{
		Idempotency:  true,
		LostResponse: map[string]float64{"UpdateItem": 1, "TransactWriteItems": 1},
	})
	c, ctx := l.Client(), context.Background()
	k := key("p", "counter")

	// The SDK retries the lost response, and the non-idempotent ADD is applied again.
	_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &table, Key: k,
		UpdateExpression:          aws.String("ADD n :one"),
		ExpressionAttributeValues: item{":one": num("1")},
	}, attempts(2))
	if !isLost(err) {
		t.Fatalf("err = %v, want the lost response", err)
	}
	if n := counter(t, plain, table, k, "n"); n != "2" {
		t.Errorf("n = %s, want 2: applied once per attempt", n)
	}

	// A transaction retried with its token is applied once.
	_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{{Update: add(table, k, "m", "1")}},
	}, attempts(3))
	if !isLost(err) {
		t.Fatalf("err = %v, want the lost response", err)
	}
	if m := counter(t, plain, table, k, "m"); m != "1" {
		t.Errorf("m = %s, want 1: the retries were answered from the token", m)
	}
	s := l.Stats()
	if s.Calls["UpdateItem"] != 1 || s.Attempts["UpdateItem"] != 2 || s.Attempts["TransactWriteItems"] != 3 ||
		s.Faults[dynamofault.LostResponse] != 5 || s.Faults[dynamofault.Replay] != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestInternalErrorBeforeApplying(t *testing.T) {
	l, plain, table := newLayer(t, dynamofault.Options{InternalError: 1})
	_, err := l.Client().PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &table, Item: key("p", "x")}, attempts(3))
	var ise *types.InternalServerError
	if !errors.As(err, &ise) {
		t.Fatalf("err = %v, want InternalServerError", err)
	}
	out, err := plain.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &table, Key: key("p", "x"), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item != nil {
		t.Errorf("the item was written: %v, %v", out.Item, err)
	}
	if s := l.Stats(); s.Attempts["PutItem"] != 3 || s.Faults[dynamofault.InternalError] != 3 {
		t.Errorf("stats %+v: want 3 attempts, all failed", s)
	}
}

func TestThrottlingPerPartitionKey(t *testing.T) {
	frozen := time.Now()
	l, _, table := newLayer(t, dynamofault.Options{WriteUnitsPerSecond: 10, ReadUnitsPerSecond: 10, BudgetClock: func() time.Time { return frozen }})
	c, ctx := l.Client(), context.Background()
	throttled := func(err error, reason string) bool {
		var pte *types.ProvisionedThroughputExceededException
		return errors.As(err, &pte) && len(pte.ThrottlingReasons) == 1 && aws.ToString(pte.ThrottlingReasons[0].Reason) == reason
	}

	hot := 0
	for i := range 30 {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: key("hot", strings.Repeat("x", i+1))}, attempts(1))
		switch {
		case throttled(err, "TableWriteKeyRangeThroughputExceeded"):
			hot++
		case err != nil:
			t.Fatal(err)
		case i >= 10 && hot == 0:
			t.Fatalf("write %d succeeded beyond a burst of 10 units", i+1)
		}
	}
	if hot < 10 {
		t.Errorf("%d of 30 writes throttled, want at least 10", hot)
	}
	for i := range 5 {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: key("cold", strings.Repeat("x", i+1))}, attempts(1)); err != nil {
			t.Errorf("cold write %d: %v", i, err)
		}
	}
	_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &table, Item: key("cold", "t")}},
		{Put: &types.Put{TableName: &table, Item: key("hot", "t")}},
	}}, attempts(1))
	if got := reasons(err); !slices.Equal(got, []string{"None", "ThrottlingError"}) {
		t.Errorf("transaction on the hot key: reasons %v, err %v", got, err)
	}
	reads := 0
	for range 20 {
		_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("hot", "x"), ConsistentRead: aws.Bool(true)}, attempts(1))
		if throttled(err, "TableReadKeyRangeThroughputExceeded") {
			reads++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if reads < 5 {
		t.Errorf("%d of 20 reads throttled, want at least 5", reads)
	}

	s := l.Stats()
	h, cold := s.Partitions[dynamofault.Partition{Table: table, Key: "hot"}], s.Partitions[dynamofault.Partition{Table: table, Key: "cold"}]
	if h.Throttled < int64(hot+reads) || h.PeakWriteUnits < 10 || h.PeakReadUnits < 10 {
		t.Errorf("hot partition %+v", h)
	}
	if cold.Throttled != 0 || cold.WriteUnits != 5 {
		t.Errorf("cold partition %+v", cold)
	}
	if p, _, _ := s.Hottest(); p.Key != "hot" {
		t.Errorf("hottest = %v", p)
	}
}

func TestStaleEventuallyConsistentRead(t *testing.T) {
	l, _, table := newLayer(t, dynamofault.Options{StaleRead: 1, StaleWindow: 300 * time.Millisecond})
	c, ctx := l.Client(), context.Background()
	put(t, c, table, item{"PK": str("p"), "SK": str("x"), "v": num("1")})
	put(t, c, table, item{"PK": str("p"), "SK": str("x"), "v": num("2")})
	v := func(consistent bool) string {
		t.Helper()
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("p", "x"), ConsistentRead: aws.Bool(consistent)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Item == nil {
			return "absent"
		}
		return out.Item["v"].(*types.AttributeValueMemberN).Value
	}
	if got := v(false); got != "1" {
		t.Errorf("eventually consistent read: v = %s, want the previous version 1", got)
	}
	if got := v(true); got != "2" {
		t.Errorf("strongly consistent read: v = %s, want 2", got)
	}
	out, err := c.Query(ctx, &dynamodb.QueryInput{
		TableName: &table, KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: item{":pk": str("p")},
	})
	if err != nil || len(out.Items) != 1 || out.Items[0]["v"].(*types.AttributeValueMemberN).Value != "1" {
		t.Errorf("eventually consistent Query: %v, %v; want v = 1", out.Items, err)
	}
	put(t, c, table, item{"PK": str("p"), "SK": str("new")})
	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("p", "new")})
	if err != nil || got.Item != nil {
		t.Errorf("a new item read eventually consistent: %v, %v; want absent", got.Item, err)
	}
	time.Sleep(350 * time.Millisecond)
	if got := v(false); got != "2" {
		t.Errorf("after the stale window: v = %s, want 2", got)
	}
	if n := l.Stats().Faults[dynamofault.StaleRead]; n != 3 {
		t.Errorf("stale reads = %d, want 3", n)
	}
}

func TestLatency(t *testing.T) {
	l, _, table := newLayer(t, dynamofault.Options{
		Latency:      dynamofault.Latencies{Write: dynamofault.Delay{Mean: 60 * time.Millisecond}},
		LatencyScale: 0.5,
	})
	start := time.Now()
	put(t, l.Client(), table, key("p", "x"))
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("PutItem took %v, want at least 30ms", d)
	}
}

func TestStatsCountCallerCallsOnly(t *testing.T) {
	opts := dynamofault.Defaults(7)
	opts.LatencyScale = 0.2
	l, _, table := newLayer(t, opts)
	c, ctx := l.Client(), context.Background()
	for i := range 3 {
		put(t, c, table, item{"PK": str("p"), "SK": str(strings.Repeat("s", i+1))})
	}
	if _, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: add(table, key("p", "s"), "n", "1")},
		{ConditionCheck: &types.ConditionCheck{TableName: &table, Key: key("p", "ss"), ConditionExpression: aws.String("attribute_exists(PK)")}},
	}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.Query(ctx, &dynamodb.QueryInput{
		TableName: &table, KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: item{":pk": str("p")}, ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Count != 3 || out.ConsumedCapacity != nil {
		t.Fatalf("query: %+v, %v; want 3 items and no ConsumedCapacity, which was not asked for", out, err)
	}
	s := l.Stats()
	// The layer's own DescribeTable and pre-image reads are not the caller's.
	want := map[string]int64{"PutItem": 3, "TransactWriteItems": 1, "Query": 1}
	if !mapsEqual(s.Calls, want) {
		t.Errorf("calls %v, want %v", s.Calls, want)
	}
	u := s.Partitions[dynamofault.Partition{Table: table, Key: "p"}]
	if u.WriteUnits < 3+4 || u.ReadUnits < 1 {
		t.Errorf("usage %+v: want 3 single writes and 2 transactional items of 2 units", u)
	}
	line := s.String()
	for _, part := range []string{"PutItem 3", "Query 1", `hottest key "p"`} {
		if !strings.Contains(line, part) || strings.Contains(line, "\n") {
			t.Errorf("String() = %q, want one line with %q", line, part)
		}
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
