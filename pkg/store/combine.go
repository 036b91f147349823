package store

// Group commit for busy boards. Board commits happen one after another (board.go), so
// when many clients submit to one board at once, each submit in its own commit would
// mostly lose its race and retry. Instead, a submit that finds the board contended
// queues its request in the board's inbox and waits; one waiting submit at a time holds
// the board's LEASE and acts as the combiner: it reads every queued request and applies
// as many as one transaction holds in a single board commit, which also marks each of
// those inbox items done with its answer. Throughput then grows with the number of
// clients instead of collapsing.
//
// Why nothing is lost or applied twice:
//   - A request is applied exactly when its inbox item goes from pending to done: the
//     item's update is in the commit's transaction, conditioned on state = pending.
//     The inbox Query (read-committed) may show a stale pending item; its condition then
//     fails and the commit is tried again from fresh reads.
//   - The lease only decides who does the work. Correctness rests on the commit's
//     conditions (HEAD's version, members' ver, the inbox item's state), so a combiner
//     that outlives its lease can only lose races, never double-apply.
//   - A submit that gives up waiting withdraws its item with a delete conditioned on
//     state = pending: either the delete wins (nothing was applied: 503, safe to retry)
//     or the item is done and its answer is read.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

const (
	// inboxShards spreads a board's queued requests over this many partition keys, so
	// that a busy board's inbox writes stay far below one key's write budget.
	inboxShards = 8
	// maxQueuedTeams is the most distinct teams a request may name to be queued; bigger
	// requests are applied on their own (see submit).
	maxQueuedTeams = 8
	// maxCombined bounds the requests one combined commit takes.
	maxCombined = 32
	// leaseTTL is how long a combiner may go silent before a waiter takes over.
	leaseTTL = 1500 * time.Millisecond
	// combineFor is how long a combiner goes on serving others once its own request is
	// done, so that it answers its own client soon.
	combineFor = 250 * time.Millisecond
	// inboxTTL lets DynamoDB's TTL clear inbox items nobody came back for.
	inboxTTL = time.Hour
)

// queued is a request in a board's inbox.
type queued struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	Type        string `dynamodbav:"type"`
	Subs        string `dynamodbav:"subs"`
	IdemHash    string `dynamodbav:"idemHash,omitempty"`
	IdemRequest string `dynamodbav:"idemRequest,omitempty"`
	State       string `dynamodbav:"state"` // "pending" or "done"
	Handover    bool   `dynamodbav:"handover,omitempty"`
	Answer      string `dynamodbav:"answer,omitempty"`
	Refusal     string `dynamodbav:"refusal,omitempty"`
	ExpiresAt   int64  `dynamodbav:"expiresAt"`
}

const (
	statePending = "pending"
	stateDone    = "done"
)

// refusal is a request the combiner refused, as stored in its inbox item.
type refusal struct {
	Kind   string   `json:"kind"` // "notMembers", "outOfRange", "idempotencyKeyReused", "tooBig", "failed"
	IDs    []string `json:"ids,omitempty"`
	TeamID string   `json:"teamId,omitempty"`
	Score  int64    `json:"score,omitempty"`
	Min    int64    `json:"min,omitempty"`
	Max    int64    `json:"max,omitempty"`
}

// errTooBigToQueue says a queued request needs a commit of its own: its submitter
// applies it directly.
var errTooBigToQueue = errors.New("request too big for a combined commit")

func refusalOf(err error) (refusal, bool) {
	var nm *NotMembersError
	var oor *OutOfRangeError
	switch {
	case errors.As(err, &nm):
		return refusal{Kind: "notMembers", IDs: nm.IDs}, true
	case errors.As(err, &oor):
		return refusal{Kind: "outOfRange", TeamID: oor.TeamID, Score: oor.Score, Min: oor.Min, Max: oor.Max}, true
	case errors.Is(err, ErrIdempotencyKeyReused):
		return refusal{Kind: "idempotencyKeyReused"}, true
	case errors.Is(err, errTooBig):
		return refusal{Kind: "tooBig"}, true
	}
	return refusal{}, false
}

func (r refusal) err() error {
	switch r.Kind {
	case "notMembers":
		return &NotMembersError{IDs: r.IDs}
	case "outOfRange":
		return &OutOfRangeError{TeamID: r.TeamID, Score: r.Score, Min: r.Min, Max: r.Max}
	case "idempotencyKeyReused":
		return ErrIdempotencyKeyReused
	case "failed":
		return fmt.Errorf("the request could not be applied: %w", ErrDrift)
	default:
		return errTooBigToQueue
	}
}

// leaseItem says which submit is combining a board's inbox, and until when.
type leaseItem struct {
	Holder string `dynamodbav:"holder"`
	Until  int64  `dynamodbav:"until"`
}

// submitQueued applies a small request: directly if nobody is combining and the board
// takes it at the first try, else through the inbox.
func (s *Store) submitQueued(ctx context.Context, b board, subs []Submission, idem *idempotency) ([]Ranked, error) {
	lease, err := s.readLease(ctx, b.pk)
	if err != nil {
		return nil, err
	}
	if !lease.live() {
		var answer []Ranked
		_, err := s.tryCommit(ctx, b, func(ctx context.Context, c *commit) error {
			var err error
			answer, err = s.buildSingle(ctx, c, subs, idem)
			return err
		}, true)
		if err == nil || !retryable(err) {
			return answer, err
		}
	}
	return s.enqueue(ctx, b, subs, idem)
}

// buildSingle is the commit of one request that fits in one transaction.
func (s *Store) buildSingle(ctx context.Context, c *commit, subs []Submission, idem *idempotency) ([]Ranked, error) {
	members, err := s.getMembers(ctx, c.b.pk, teams(subs))
	if err != nil {
		return nil, err
	}
	p := newPlanner(c.b, members, s.now())
	if err := p.add(subs); err != nil {
		return nil, err
	}
	answer, rest, err := s.writePlan(ctx, c, p, subs, idem)
	if err == nil && rest != nil {
		err = errTooBigToQueue // a batch of several commits: submit applies it
	}
	return answer, err
}

func (l leaseItem) live() bool { return l.Holder != "" && time.Now().UnixMilli() < l.Until }

func (s *Store) readLease(ctx context.Context, pk string) (leaseItem, error) {
	raw, err := s.getItem(ctx, pk, leaseSK())
	if err != nil {
		return leaseItem{}, fmt.Errorf("read lease: %w", err)
	}
	var l leaseItem
	if raw != nil {
		if err := attributevalue.UnmarshalMap(raw, &l); err != nil {
			return leaseItem{}, fmt.Errorf("unmarshal lease: %w", err)
		}
	}
	return l, nil
}

// takeLease makes holder the board's combiner if nobody else is, or renews its lease.
func (s *Store) takeLease(ctx context.Context, pk, holder string) (bool, error) {
	now := time.Now()
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(pk, leaseSK()),
		UpdateExpression:         aws.String("SET holder = :me, #until = :until, #type = :type, expiresAt = :expires"),
		ConditionExpression:      aws.String("attribute_not_exists(holder) OR holder = :me OR #until < :now"),
		ExpressionAttributeNames: map[string]string{"#until": "until", "#type": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":me": &types.AttributeValueMemberS{Value: holder}, ":until": number(now.Add(leaseTTL).UnixMilli()),
			":now": number(now.UnixMilli()), ":type": &types.AttributeValueMemberS{Value: "lease"},
			":expires": number(now.Add(inboxTTL).Unix()),
		},
		ReturnConsumedCapacity: total,
	})
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		if transient(err) {
			return false, nil // a commit holds the item, or capacity: try again later
		}
		return false, fmt.Errorf("take lease: %w", err)
	}
	reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	return true, nil
}

func (s *Store) dropLease(ctx context.Context, pk, holder string) {
	out, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table, Key: key(pk, leaseSK()),
		ConditionExpression:       aws.String("holder = :me"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":me": &types.AttributeValueMemberS{Value: holder}},
		ReturnConsumedCapacity:    total,
	})
	if err == nil {
		reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	}
	// Otherwise the lease simply expires (and the item, by TTL, if the board is gone).
}

// enqueue puts a request in the board's inbox and waits for its answer, combining for
// everyone while it holds the lease.
func (s *Store) enqueue(ctx context.Context, b board, subs []Submission, idem *idempotency) ([]Ranked, error) {
	body, err := json.Marshal(subs)
	if err != nil {
		return nil, err
	}
	now := s.now()
	item := queued{
		PK: inboxPK(b.pk, rand.IntN(inboxShards)), SK: newID(time.Now()), Type: "queued", Subs: string(body),
		State: statePending, ExpiresAt: now.Add(inboxTTL).Unix(),
	}
	if idem != nil {
		item.IdemHash, item.IdemRequest = idem.hash, idem.request
	}
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return nil, err
	}
	// The item is new and ours alone, so putting it again after an error is harmless.
	for try := 0; ; try++ {
		out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: av, ReturnConsumedCapacity: total})
		if err == nil {
			reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
			break
		}
		if !transient(err) || try == 5 {
			return nil, fmt.Errorf("queue request: %w", err)
		}
		if err := backoff(ctx, try+2); err != nil {
			return nil, err
		}
	}

	deadline := time.Now().Add(commitBudget)
	w := waiter{item: item, deadline: deadline}
	for ; ; w.polls++ {
		answer, done, err := s.waitQueued(ctx, b, &w)
		if done {
			return answer, err
		}
		if err != nil {
			// Whatever went wrong, the request must not stay behind to be applied later
			// while its client hears it was not: take it back, or read its outcome.
			if answer, werr := s.withdraw(context.WithoutCancel(ctx), item); !errors.Is(werr, ErrBusy) {
				return answer, werr
			}
			return nil, err
		}
	}
}

// waiter is a submit waiting on its queued request.
type waiter struct {
	item     queued
	deadline time.Time
	polls    int
	handed   bool // it took the lease handed over to it once already
}

// waitQueued looks once at a queued request: done says whether it is answered (or, past
// the deadline, withdrawn). If the lease was handed to it, or nobody holds it, it becomes
// the combiner. Then it waits about 100 ms, and reads the lease only every third time:
// each look is a paid read, and on a board busy enough to queue, a request waits for a
// few combined commits anyway. (make bench's hot board: polling every 10 to 50 ms gave
// 4x one client's throughput, every 100 ms nearly 6x, every 150 ms no better.)
func (s *Store) waitQueued(ctx context.Context, b board, w *waiter) ([]Ranked, bool, error) {
	got, err := s.readQueued(ctx, w.item.PK, w.item.SK)
	if err != nil {
		return nil, false, err
	}
	if got.State == stateDone {
		answer, err := s.finishQueued(ctx, got)
		return answer, true, err
	}
	if time.Now().After(w.deadline) {
		answer, err := s.withdraw(ctx, w.item)
		return answer, true, err
	}
	// A combiner that fails has still left every request it did not commit pending:
	// this one is looked at again next time round.
	if got.Handover && !w.handed {
		w.handed = true
		_ = s.combine(ctx, b, w.item.SK)
		return nil, false, nil
	}
	if w.polls%3 == 0 {
		lease, err := s.readLease(ctx, b.pk)
		if err != nil {
			return nil, false, err
		}
		if !lease.live() {
			if ok, err := s.takeLease(ctx, b.pk, w.item.SK); err != nil || ok {
				if ok {
					_ = s.combine(ctx, b, w.item.SK)
				}
				return nil, false, err
			}
		}
	}
	pause := time.Duration(100+10*min(w.polls, 3)) * time.Millisecond
	return nil, false, sleep(ctx, pause/2+rand.N(pause))
}

func (s *Store) readQueued(ctx context.Context, pk, sk string) (queued, error) {
	raw, err := s.getItem(ctx, pk, sk)
	if err != nil {
		return queued{}, fmt.Errorf("read queued request: %w", err)
	}
	if raw == nil {
		return queued{}, fmt.Errorf("queued request %s is gone", sk)
	}
	var q queued
	if err := attributevalue.UnmarshalMap(raw, &q); err != nil {
		return queued{}, fmt.Errorf("unmarshal queued request: %w", err)
	}
	return q, nil
}

// finishQueued reads a done request's outcome and removes its item.
func (s *Store) finishQueued(ctx context.Context, q queued) ([]Ranked, error) {
	if out, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(q.PK, q.SK), ReturnConsumedCapacity: total}); err == nil {
		reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	} // else TTL removes it
	if q.Refusal != "" {
		var r refusal
		if err := json.Unmarshal([]byte(q.Refusal), &r); err != nil {
			return nil, fmt.Errorf("stored refusal: %w", err)
		}
		return nil, r.err()
	}
	var answer []Ranked
	if err := json.Unmarshal([]byte(q.Answer), &answer); err != nil {
		return nil, fmt.Errorf("stored answer: %w", err)
	}
	return answer, nil
}

// withdraw takes back a request that waited too long: if it is still pending, it was not
// applied and never will be.
func (s *Store) withdraw(ctx context.Context, q queued) ([]Ranked, error) {
	out, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table, Key: key(q.PK, q.SK),
		ConditionExpression:       aws.String("#state = :pending"),
		ExpressionAttributeNames:  map[string]string{"#state": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pending": &types.AttributeValueMemberS{Value: statePending}},
		ReturnConsumedCapacity:    total,
	})
	if conditionFailed(err) {
		raw, err := s.getItem(ctx, q.PK, q.SK)
		if err != nil {
			return nil, fmt.Errorf("read queued request: %w", err)
		}
		if raw == nil {
			// Our own delete, applied with its response lost and repeated by the SDK.
			return nil, fmt.Errorf("queued request not applied in time: %w", ErrBusy)
		}
		var got queued
		if err := attributevalue.UnmarshalMap(raw, &got); err != nil {
			return nil, err
		}
		return s.finishQueued(ctx, got)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: withdraw queued request: %w", ErrOutcomeUnknown, err)
	}
	reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	return nil, fmt.Errorf("queued request not applied in time: %w", ErrBusy)
}

// combine applies queued requests, as many per commit as fit, while it holds the lease,
// until the inbox is empty or it has served long enough after its own request (own)
// was done.
func (s *Store) combine(ctx context.Context, b board, own string) error {
	var ownDone time.Time
	for {
		if ok, err := s.takeLease(ctx, b.pk, own); err != nil || !ok {
			return err
		}
		done, next, err := s.commitCombined(ctx, b)
		if err != nil || len(done) == 0 {
			s.dropLease(context.WithoutCancel(ctx), b.pk, own)
			return err
		}
		if ownDone.IsZero() && slices.Contains(done, own) {
			ownDone = time.Now()
		}
		if !ownDone.IsZero() && time.Since(ownDone) > combineFor {
			if next == nil || !s.handOver(context.WithoutCancel(ctx), b.pk, own, *next) {
				s.dropLease(context.WithoutCancel(ctx), b.pk, own)
			}
			return nil
		}
	}
}

// handOver passes the lease to the submit of a request still queued, and tells it so in
// its inbox item, which it reads anyway, so that combining goes on without a pause.
func (s *Store) handOver(ctx context.Context, pk, holder string, next queued) bool {
	now := time.Now()
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(pk, leaseSK()),
		UpdateExpression:         aws.String("SET holder = :next, #until = :until"),
		ConditionExpression:      aws.String("holder = :me"),
		ExpressionAttributeNames: map[string]string{"#until": "until"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":next": &types.AttributeValueMemberS{Value: next.SK}, ":me": &types.AttributeValueMemberS{Value: holder},
			":until": number(now.Add(leaseTTL).UnixMilli()),
		},
	})
	if err != nil {
		return false
	}
	// If the request is no longer pending, its submit will not combine: the lease lapses
	// after leaseTTL and a waiter takes it then.
	s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(next.PK, next.SK),
		UpdateExpression:          aws.String("SET handover = :true"),
		ConditionExpression:       aws.String("#state = :pending"),
		ExpressionAttributeNames:  map[string]string{"#state": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":true": &types.AttributeValueMemberBOOL{Value: true}, ":pending": &types.AttributeValueMemberS{Value: statePending}},
	})
	return true
}

// pendingRequests reads the pending requests of every inbox shard, oldest first. A
// Query's Limit counts the items it reads before its filter, so each shard is read page
// by page until it has given its share, or is done.
func (s *Store) pendingRequests(ctx context.Context, pk string) ([]queued, error) {
	var mu sync.Mutex
	var all []queued
	errs := make(chan error, inboxShards)
	now := s.now().Unix()
	for shard := range inboxShards {
		go func() {
			in := &dynamodb.QueryInput{
				TableName:                &s.table,
				KeyConditionExpression:   aws.String("PK = :pk"),
				FilterExpression:         aws.String("#state = :pending AND expiresAt > :now"),
				ExpressionAttributeNames: map[string]string{"#state": "state"},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":pk": &types.AttributeValueMemberS{Value: inboxPK(pk, shard)}, ":pending": &types.AttributeValueMemberS{Value: statePending},
					":now": number(now),
				},
				ConsistentRead: aws.Bool(true), Limit: aws.Int32(maxCombined), ReturnConsumedCapacity: total,
			}
			var mine []queued
			var err error
			for page := 0; page < 8 && len(mine) < maxCombined; page++ {
				var out *dynamodb.QueryOutput
				if out, err = s.db.Query(ctx, in); err != nil {
					break
				}
				reqlog.AddRead(ctx, capacity(out.ConsumedCapacity)...)
				var items []queued
				if err = attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
					break
				}
				mine = append(mine, items...)
				if in.ExclusiveStartKey = out.LastEvaluatedKey; in.ExclusiveStartKey == nil {
					break
				}
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
			errs <- err
		}()
	}
	var first error
	for range inboxShards {
		if err := <-errs; err != nil && first == nil {
			first = fmt.Errorf("read inbox: %w", err)
		}
	}
	slices.SortFunc(all, func(a, b queued) int { return compareStrings(a.SK, b.SK) })
	return all[:min(len(all), maxCombined)], first
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// commitCombined applies as many of the pending requests, oldest first, as one board
// commit holds, and returns the SKs of the requests it marked done (none if the inbox
// is empty). The inbox is read afresh for every attempt: a request another combiner
// answered meanwhile is no longer pending.
func (s *Store) commitCombined(ctx context.Context, b board) (done []string, next *queued, err error) {
	_, err = s.commitBoard(ctx, b, func(ctx context.Context, c *commit) error {
		pending, err := s.pendingRequests(ctx, b.pk)
		if err != nil {
			return err
		}
		done, next = nil, nil
		if len(pending) == 0 {
			return nil
		}
		if done, err = s.buildCombined(ctx, c, pending); err != nil {
			return err
		}
		for _, q := range pending {
			if !slices.Contains(done, q.SK) {
				next = &q
				break
			}
		}
		return nil
	})
	return done, next, err
}

func (s *Store) buildCombined(ctx context.Context, c *commit, pending []queued) ([]string, error) {
	reqs := make([][]Submission, len(pending))
	var ids []string
	for i, q := range pending {
		if err := json.Unmarshal([]byte(q.Subs), &reqs[i]); err != nil {
			return nil, fmt.Errorf("queued request %s: %w", q.SK, err)
		}
		ids = append(ids, teams(reqs[i])...)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	members, err := s.getMembers(ctx, c.b.pk, ids)
	if err != nil {
		return nil, err
	}
	stored, err := s.idempotencyRecords(ctx, c.b.pk, pending)
	if err != nil {
		return nil, err
	}
	// Take requests oldest first while the commit fits in one transaction. A team whose
	// key the tree refuses (drift) fails the requests that name it, not the others.
	failed := map[int]bool{}
	for n := len(pending); n > 0; {
		c.items = c.items[:0]
		done, err := s.tryCombined(ctx, c, pending[:n], reqs[:n], members, stored, failed)
		var drift *driftError
		switch {
		case errors.As(err, &drift):
			before := len(failed)
			for i, subs := range reqs[:n] {
				if slices.Contains(teams(subs), drift.team) {
					failed[i] = true
				}
			}
			if len(failed) == before {
				return nil, err
			}
		case errors.Is(err, errTooBig):
			n = n * 2 / 3
		default:
			return done, err
		}
	}
	// The oldest request alone does not fit: its submitter must apply it directly.
	c.items = c.items[:0]
	if err := s.resetTree(c.view); err != nil {
		return nil, err
	}
	r, _ := json.Marshal(refusal{Kind: "tooBig"})
	c.add(s.markDone(pending[0], "", string(r)))
	return []string{pending[0].SK}, nil
}

// tryCombined plans the given requests onto one commit; errTooBig if they do not fit.
func (s *Store) tryCombined(ctx context.Context, c *commit, pending []queued, reqs [][]Submission, members map[string]*memberItem, stored map[string]idempotencyRecord, failed map[int]bool) ([]string, error) {
	p := newPlanner(c.b, members, s.now())
	type outcome struct {
		refusal string
		applied bool
		skip    bool   // left pending: its key's batch is still being applied
		stored  string // an answer an earlier request with the same key left
	}
	outcomes := make([]outcome, len(pending))
	firstWithKey := map[string]int{}
	for i, q := range pending {
		if failed[i] {
			r, _ := json.Marshal(refusal{Kind: "failed"})
			outcomes[i].refusal = string(r)
			continue
		}
		if q.IdemHash != "" {
			if rec, ok := stored[q.IdemHash]; ok && rec.ExpiresAt >= s.now().Unix() {
				switch {
				case rec.Request != q.IdemRequest:
					r, _ := json.Marshal(refusal{Kind: "idempotencyKeyReused"})
					outcomes[i].refusal = string(r)
				case rec.Answer == "":
					outcomes[i].skip = true
				default:
					outcomes[i].stored = rec.Answer
				}
				continue
			}
			if j, ok := firstWithKey[q.IdemHash]; ok {
				if pending[j].IdemRequest != q.IdemRequest {
					r, _ := json.Marshal(refusal{Kind: "idempotencyKeyReused"})
					outcomes[i].refusal = string(r)
				} else {
					outcomes[i].stored = "same:" + fmt.Sprint(j)
				}
				continue
			}
		}
		if err := p.add(reqs[i]); err != nil {
			r, ok := refusalOf(err)
			if !ok {
				r = refusal{Kind: "failed"}
			}
			body, _ := json.Marshal(r)
			outcomes[i].refusal = string(body)
			continue
		}
		outcomes[i].applied = true
		if q.IdemHash != "" {
			firstWithKey[q.IdemHash] = i
		}
	}
	n, err := s.applyUpdates(ctx, c, p.updates(), len(pending)+len(firstWithKey))
	if err != nil {
		return nil, err
	}
	if n < len(p.updates()) {
		return nil, errTooBig
	}
	answers := make([]string, len(pending))
	var done []string
	for i, q := range pending {
		o := outcomes[i]
		switch {
		case o.skip:
			continue
		case o.refusal != "":
			c.add(s.markDone(q, "", o.refusal))
		case o.applied:
			answer, err := c.answer(ctx, reqs[i], p.state)
			if err != nil {
				return nil, err
			}
			body, _ := json.Marshal(answer)
			answers[i] = string(body)
			c.add(s.markDone(q, answers[i], ""))
			if q.IdemHash != "" {
				c.add(s.idempotencyPut(c.b.pk, &idempotency{hash: q.IdemHash, request: q.IdemRequest}, answer))
			}
		default:
			stored := o.stored
			if j, ok := firstWithKey[q.IdemHash]; ok && stored == "same:"+fmt.Sprint(j) {
				stored = answers[j]
			}
			c.add(s.markDone(q, stored, ""))
		}
		done = append(done, q.SK)
	}
	return done, nil
}

// markDone is the write that records a queued request's outcome, on condition that it is
// still pending.
func (s *Store) markDone(q queued, answer, refusal string) types.TransactWriteItem {
	update := "SET #state = :done"
	values := map[string]types.AttributeValue{
		":done": &types.AttributeValueMemberS{Value: stateDone}, ":pending": &types.AttributeValueMemberS{Value: statePending},
	}
	if answer != "" {
		update += ", answer = :answer"
		values[":answer"] = &types.AttributeValueMemberS{Value: answer}
	}
	if refusal != "" {
		update += ", refusal = :refusal"
		values[":refusal"] = &types.AttributeValueMemberS{Value: refusal}
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key(q.PK, q.SK),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("#state = :pending"),
		ExpressionAttributeNames:  map[string]string{"#state": "state"},
		ExpressionAttributeValues: values,
	}}
}

// idempotencyRecords reads the stored records of the pending requests' keys.
func (s *Store) idempotencyRecords(ctx context.Context, pk string, pending []queued) (map[string]idempotencyRecord, error) {
	var keys []map[string]types.AttributeValue
	seen := map[string]bool{}
	for _, q := range pending {
		if q.IdemHash != "" && !seen[q.IdemHash] {
			seen[q.IdemHash] = true
			keys = append(keys, key(idempotencyPK(pk, q.IdemHash), idempotencySK()))
		}
	}
	items, err := s.batchGet(ctx, keys, true, "")
	if err != nil {
		return nil, fmt.Errorf("read idempotency records: %w", err)
	}
	out := map[string]idempotencyRecord{}
	for _, it := range items {
		var rec idempotencyRecord
		if err := attributevalue.UnmarshalMap(it, &rec); err != nil {
			return nil, err
		}
		out[strings.TrimPrefix(rec.PK, idempotencyPK(pk, ""))] = rec
	}
	return out, nil
}
