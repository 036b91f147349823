// Package dynamofault makes DynamoDB Local behave as the DynamoDB service may, so that
// code tested against it is correct on the service's documented guarantees and not on
// DynamoDB Local's stronger ones: Wrap a client of DynamoDB Local and hand Layer.Client
// to the code under test. It adds latency, and keeps each TransactWriteItems in flight for
// its latency: meanwhile other transactions, TransactGetItems and single-item writes on
// its items fail with TransactionConflict ("Transaction conflict handling in DynamoDB"),
// and each item it writes turns visible at its own moment, so GetItem sees an item whole
// before or after while Query, Scan and BatchGetItem may show part of the transaction
// ("Isolation levels for DynamoDB transactions"). It deduplicates TransactWriteItems by
// ClientRequestToken for ten minutes ("Idempotency" in the TransactWriteItems API
// reference); fails requests with InternalServerError before applying them and loses
// responses after applying them, inside the SDK's retry loop, so a retried write is
// applied twice unless it is idempotent ("Error handling with DynamoDB"); throttles
// each partition key beyond 1,000 write and 3,000 read units per second with
// ProvisionedThroughputExceededException, reason KeyRangeThroughputExceeded ("Best
// practices for designing and using partition keys effectively", "DynamoDB throttling
// resolution guide"); and lets eventually consistent reads return an item's previous
// version shortly after a write ("Read consistency"). Only tests and benchmarks build it.
package dynamofault

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// Delay is a latency drawn uniformly from [Mean-Jitter, Mean+Jitter].
type Delay struct {
	Mean, Jitter time.Duration
}

// Latencies are the service-side latencies of each kind of call.
type Latencies struct {
	Read     Delay // GetItem, BatchGetItem
	Query    Delay // Query, Scan
	Write    Delay // PutItem, UpdateItem, DeleteItem, BatchWriteItem
	Transact Delay // TransactWriteItems and TransactGetItems: how long a transaction is in flight
}

// Options says which behaviours of the service the layer adds. The zero value adds none:
// the layer then only counts calls.
type Options struct {
	// Seed drives every random decision, so a seed replays the same faults as far as
	// goroutine scheduling allows. A decision with probability 0 or 1 draws nothing.
	Seed uint64

	Latency Latencies
	// LatencyScale multiplies every latency, e.g. 0.2 for fast tests; zero means 1.
	LatencyScale float64

	// Transactions keeps each TransactWriteItems in flight for its latency: conflicts,
	// and items that turn visible one by one.
	Transactions bool
	// Idempotency deduplicates TransactWriteItems by ClientRequestToken in the layer.
	// Off, tokens go to DynamoDB Local as they are (3.3.1 deduplicates them too, but
	// never answers TransactionInProgressException).
	Idempotency bool

	// InternalError is the probability that a call fails with a 500 before it is applied.
	InternalError float64
	// LostResponse is, by operation name ("UpdateItem", "TransactWriteItems", ...), the
	// probability that an applied write's response is replaced by a 500 or a timeout.
	LostResponse map[string]float64

	// WriteUnitsPerSecond and ReadUnitsPerSecond are the budgets of each partition key
	// value, with a burst of one second's worth; zero does not throttle.
	WriteUnitsPerSecond, ReadUnitsPerSecond float64
	// BudgetClock, if set, is the time those budgets refill by instead of the wall
	// clock's: a test that counts what one second's budget admits freezes it, so that a
	// slow machine cannot stretch the second.
	BudgetClock func() time.Time

	// StaleRead is the probability that an eventually consistent read shows an item's
	// previous version (or its absence) if the item was written within StaleWindow.
	StaleRead   float64
	StaleWindow time.Duration
}

// Defaults are AWS-like: latencies near the service's within a Region, AWS's
// per-partition throughput, and fault rates high enough that a benchmark of a few thousand
// calls meets each fault a few times (they are not measured AWS rates).
func Defaults(seed uint64) Options {
	const lost = 0.002
	return Options{
		Seed: seed,
		Latency: Latencies{
			Read:     Delay{Mean: 3500 * time.Microsecond, Jitter: 1500 * time.Microsecond},
			Query:    Delay{Mean: 4500 * time.Microsecond, Jitter: 1500 * time.Microsecond},
			Write:    Delay{Mean: 6 * time.Millisecond, Jitter: 2 * time.Millisecond},
			Transact: Delay{Mean: 15 * time.Millisecond, Jitter: 5 * time.Millisecond},
		},
		LatencyScale:  1,
		Transactions:  true,
		Idempotency:   true,
		InternalError: 0.001,
		LostResponse: map[string]float64{
			"PutItem": lost, "UpdateItem": lost, "DeleteItem": lost,
			"BatchWriteItem": lost, "TransactWriteItems": lost,
		},
		WriteUnitsPerSecond: 1000,
		ReadUnitsPerSecond:  3000,
		StaleRead:           0.1,
		StaleWindow:         100 * time.Millisecond,
	}
}

// Layer sends every call of its client to DynamoDB Local, adding the service's behaviours.
type Layer struct {
	plain    *dynamodb.Client // the wrapped client: the layer's own reads, never faulted or counted
	client   *dynamodb.Client
	opts     Options
	endpoint string
	start    time.Time

	schemaMu sync.Mutex
	schemas  map[string]*schema

	mu       sync.Mutex // guards everything below, rng included
	rng      *rand.Rand
	parts    map[partKey]*partition
	tokens   map[string]*tokenState
	expiry   []string // done tokens, oldest first
	calls    map[string]int64
	attempts map[string]int64
	faults   map[Fault]int64
}

// tokenWindow is how long the service remembers a ClientRequestToken after its request
// finishes.
const tokenWindow = 10 * time.Minute

// Wrap returns a layer whose client sends every call to the same endpoint as client, with
// the same options, and behaves as the service may. client itself is left as it is.
func Wrap(client *dynamodb.Client, opts Options) *Layer {
	if opts.LatencyScale == 0 {
		opts.LatencyScale = 1
	}
	opts.LostResponse = maps.Clone(opts.LostResponse) // read concurrently; the caller's may change
	l := &Layer{
		plain:    client,
		opts:     opts,
		start:    time.Now(),
		schemas:  map[string]*schema{},
		rng:      rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		parts:    map[partKey]*partition{},
		tokens:   map[string]*tokenState{},
		calls:    map[string]int64{},
		attempts: map[string]int64{},
		faults:   map[Fault]int64{},
	}
	o := client.Options()
	l.endpoint = aws.ToString(o.BaseEndpoint)
	l.client = dynamodb.New(o, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, l.install)
	})
	return l
}

// Client is the faulty client: use it wherever the code under test takes a *dynamodb.Client.
func (l *Layer) Client() *dynamodb.Client { return l.client }

// install adds the layer to one operation's stack: once per call before the retry loop,
// where the call's input is still typed, and once per attempt inside it, where a fault is
// seen and retried by the SDK's retryer exactly as the service's error would be.
func (l *Layer) install(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("dynamofault.Call", l.initialize), middleware.After); err != nil {
		return err
	}
	return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("dynamofault.Attempt", l.attempt), "Retry", middleware.After)
}

type callKey struct{}

// call is one call of the caller, across the SDK's attempts.
type call struct {
	op          string
	input       any    // what is sent: a copy of the caller's input
	token       string // TransactWriteItems: the caller's ClientRequestToken as the SDK sends it
	fingerprint string // TransactWriteItems: every other parameter
}

// initialize runs after the SDK's own Initialize middlewares, the idempotency token
// filler among them. It sends a copy of the input that always asks for consumed capacity
// (the layer meters partitions with it) and, when the layer owns idempotency, carries a
// token of the layer's, so DynamoDB Local's own token handling never interferes.
func (l *Layer) initialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	c := &call{op: awsmiddleware.GetOperationName(ctx)}
	l.mu.Lock()
	l.calls[c.op]++
	l.mu.Unlock()
	sent, wantCapacity := l.prepare(c, in.Parameters)
	if sent == nil {
		return next.HandleInitialize(ctx, in)
	}
	in.Parameters, c.input = sent, sent
	out, md, err := next.HandleInitialize(context.WithValue(ctx, callKey{}, c), in)
	if !wantCapacity {
		dropCapacity(out.Result)
	}
	return out, md, err
}

func (l *Layer) prepare(c *call, params any) (sent any, wantCapacity bool) {
	force := func(r *types.ReturnConsumedCapacity) bool {
		want := *r != "" && *r != types.ReturnConsumedCapacityNone
		if !want {
			*r = types.ReturnConsumedCapacityTotal
		}
		return want
	}
	switch p := params.(type) {
	case *dynamodb.GetItemInput:
		cp := *p
		return &cp, force(&cp.ReturnConsumedCapacity)
	case *dynamodb.BatchGetItemInput:
		cp := *p
		return &cp, force(&cp.ReturnConsumedCapacity)
	case *dynamodb.QueryInput:
		cp := *p
		return &cp, force(&cp.ReturnConsumedCapacity)
	case *dynamodb.ScanInput:
		cp := *p
		return &cp, force(&cp.ReturnConsumedCapacity)
	case *dynamodb.TransactGetItemsInput:
		cp := *p
		return &cp, force(&cp.ReturnConsumedCapacity)
	case *dynamodb.PutItemInput:
		cp := *p
		return &cp, force(&cp.ReturnConsumedCapacity)
	case *dynamodb.UpdateItemInput:
		cp := *p
		return &cp, force(&cp.ReturnConsumedCapacity)
	case *dynamodb.DeleteItemInput:
		cp := *p
		return &cp, force(&cp.ReturnConsumedCapacity)
	case *dynamodb.BatchWriteItemInput:
		cp := *p
		return &cp, force(&cp.ReturnConsumedCapacity)
	case *dynamodb.TransactWriteItemsInput:
		cp := *p
		if l.opts.Idempotency && p.ClientRequestToken != nil {
			c.token = *p.ClientRequestToken
			c.fingerprint = fingerprint(p)
			// Random, not seeded: DynamoDB Local remembers tokens across layers and runs.
			cp.ClientRequestToken = aws.String(crand.Text())
		}
		return &cp, force(&cp.ReturnConsumedCapacity)
	}
	return nil, false
}

func dropCapacity(result any) {
	switch r := result.(type) {
	case *dynamodb.GetItemOutput:
		r.ConsumedCapacity = nil
	case *dynamodb.BatchGetItemOutput:
		r.ConsumedCapacity = nil
	case *dynamodb.QueryOutput:
		r.ConsumedCapacity = nil
	case *dynamodb.ScanOutput:
		r.ConsumedCapacity = nil
	case *dynamodb.TransactGetItemsOutput:
		r.ConsumedCapacity = nil
	case *dynamodb.PutItemOutput:
		r.ConsumedCapacity = nil
	case *dynamodb.UpdateItemOutput:
		r.ConsumedCapacity = nil
	case *dynamodb.DeleteItemOutput:
		r.ConsumedCapacity = nil
	case *dynamodb.BatchWriteItemOutput:
		r.ConsumedCapacity = nil
	case *dynamodb.TransactWriteItemsOutput:
		r.ConsumedCapacity = nil
	}
}

// try is one attempt of a call.
type try struct {
	*call
	send func(context.Context) (any, error) // the real request, to DynamoDB Local
	md   middleware.Metadata
}

func (l *Layer) attempt(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	c, _ := ctx.Value(callKey{}).(*call)
	if c == nil {
		return next.HandleFinalize(ctx, in)
	}
	l.mu.Lock()
	l.attempts[c.op]++
	l.mu.Unlock()
	t := &try{call: c}
	t.send = func(ctx context.Context) (any, error) {
		out, md, err := next.HandleFinalize(ctx, in)
		t.md = md
		return out.Result, err
	}
	var res any
	var err error
	switch p := c.input.(type) {
	case *dynamodb.GetItemInput:
		res, err = l.getItem(ctx, t, p)
	case *dynamodb.BatchGetItemInput:
		res, err = l.batchGetItem(ctx, t, p)
	case *dynamodb.QueryInput:
		res, err = l.query(ctx, t, p)
	case *dynamodb.ScanInput:
		res, err = l.scan(ctx, t, p)
	case *dynamodb.TransactGetItemsInput:
		res, err = l.transactGetItems(ctx, t, p)
	case *dynamodb.PutItemInput:
		res, err = l.writeItem(ctx, t, p.TableName, p.Item, p.Item)
	case *dynamodb.UpdateItemInput:
		res, err = l.writeItem(ctx, t, p.TableName, p.Key, nil)
	case *dynamodb.DeleteItemInput:
		res, err = l.writeItem(ctx, t, p.TableName, p.Key, nil)
	case *dynamodb.BatchWriteItemInput:
		res, err = l.batchWriteItem(ctx, t, p)
	case *dynamodb.TransactWriteItemsInput:
		res, err = l.transactWriteItems(ctx, t, p)
	default:
		return next.HandleFinalize(ctx, in)
	}
	return middleware.FinalizeOutput{Result: res}, t.md, err
}

// draw is every random decision of one attempt, taken together so that a seed replays them.
type draw struct {
	internal    bool
	lost        bool
	lostTimeout bool
	latency     time.Duration
	visible     []float64 // TransactWriteItems: when in its window each written item turns visible
}

func (l *Layer) draw(op string, d Delay, writes int) draw {
	l.mu.Lock()
	defer l.mu.Unlock()
	var x draw
	x.internal = l.chanceLocked(l.opts.InternalError)
	if !x.internal && l.chanceLocked(l.opts.LostResponse[op]) {
		x.lost, x.lostTimeout = true, l.rng.IntN(2) == 1
	}
	if d.Jitter > 0 {
		x.latency = d.Mean + time.Duration((2*l.rng.Float64()-1)*float64(d.Jitter))
	} else {
		x.latency = d.Mean
	}
	x.latency = max(0, time.Duration(float64(x.latency)*l.opts.LatencyScale))
	if l.opts.Transactions && x.latency > 0 {
		for range writes {
			x.visible = append(x.visible, l.rng.Float64())
		}
	}
	return x
}

// refusal is how long a transaction refused before it starts takes to answer: it never
// enters its window, so it costs what a single-item call of its kind costs on average.
func (l *Layer) refusal(d Delay) time.Duration {
	return time.Duration(float64(d.Mean) * l.opts.LatencyScale)
}

func (l *Layer) chanceLocked(p float64) bool {
	switch {
	case p <= 0:
		return false
	case p >= 1:
		return true
	}
	return l.rng.Float64() < p
}

func (l *Layer) faultLocked(f Fault) { l.faults[f]++ }

func (l *Layer) fault(f Fault) {
	l.mu.Lock()
	l.faults[f]++
	l.mu.Unlock()
}

// sleepUntil waits for the end of a call's latency; it returns what the SDK returns when
// the caller's context ends first.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return &smithy.CanceledError{Err: ctx.Err()}
	}
}

// failAt returns err once the call's latency is over.
func failAt(ctx context.Context, t time.Time, err error) error {
	if cerr := sleepUntil(ctx, t); cerr != nil {
		return cerr
	}
	return err
}

type schema struct {
	table, arn string
	pk, sk     string               // sk is "" for a table without a sort key
	indexes    map[string][2]string // index name: its partition and sort key attributes
}

func (l *Layer) schema(ctx context.Context, table string) (*schema, error) {
	l.schemaMu.Lock()
	s := l.schemas[table]
	l.schemaMu.Unlock()
	if s != nil {
		return s, nil
	}
	out, err := l.plain.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		return nil, fmt.Errorf("dynamofault: describe table %s: %w", table, err)
	}
	s = &schema{table: table, arn: aws.ToString(out.Table.TableArn), indexes: map[string][2]string{}}
	s.pk, s.sk = keyNames(out.Table.KeySchema)
	for _, ix := range out.Table.GlobalSecondaryIndexes {
		pk, sk := keyNames(ix.KeySchema)
		s.indexes[aws.ToString(ix.IndexName)] = [2]string{pk, sk}
	}
	for _, ix := range out.Table.LocalSecondaryIndexes {
		pk, sk := keyNames(ix.KeySchema)
		s.indexes[aws.ToString(ix.IndexName)] = [2]string{pk, sk}
	}
	l.schemaMu.Lock()
	l.schemas[table] = s
	l.schemaMu.Unlock()
	return s, nil
}

func keyNames(ks []types.KeySchemaElement) (pk, sk string) {
	for _, k := range ks {
		if k.KeyType == types.KeyTypeHash {
			pk = aws.ToString(k.AttributeName)
		} else {
			sk = aws.ToString(k.AttributeName)
		}
	}
	return pk, sk
}

// key identifies the item that it (an item or a key) belongs to.
func (s *schema) key(it item) (itemKey, bool) {
	pk, ok := it[s.pk]
	if !ok {
		return itemKey{}, false
	}
	k := itemKey{partKey: partKey{table: s.table, pk: canon(pk)}}
	if s.sk != "" {
		sk, ok := it[s.sk]
		if !ok {
			return itemKey{}, false
		}
		k.sk = canon(sk)
	}
	return k, true
}

// keyOf is the primary key attributes of it.
func (s *schema) keyOf(it item) item {
	k := item{s.pk: it[s.pk]}
	if s.sk != "" {
		k[s.sk] = it[s.sk]
	}
	return k
}

// keyAttributes are the attributes a read must return for the layer to know its items:
// the table's keys, and the index's when reading one.
func (s *schema) keyAttributes(index string) []string {
	names := []string{s.pk}
	if s.sk != "" {
		names = append(names, s.sk)
	}
	if ix, ok := s.indexes[index]; ok {
		for _, n := range ix {
			if n != "" && n != s.pk && n != s.sk {
				names = append(names, n)
			}
		}
	}
	return names
}
