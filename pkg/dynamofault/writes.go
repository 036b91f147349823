package dynamofault

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func (l *Layer) staleOn() bool { return l.opts.StaleRead > 0 && l.opts.StaleWindow > 0 }

// writeItem is PutItem, UpdateItem and DeleteItem; put is the item PutItem writes.
func (l *Layer) writeItem(ctx context.Context, t *try, table *string, key, put item) (any, error) {
	sch, err := l.schema(ctx, aws.ToString(table))
	if err != nil {
		return t.send(ctx)
	}
	k, ok := sch.key(key)
	if !ok {
		return t.send(ctx)
	}
	d := l.draw(t.op, l.opts.Latency.Write, 0)
	done := time.Now().Add(d.latency)
	if d.internal {
		l.fault(InternalError)
		return nil, failAt(ctx, done, internalServerError())
	}
	estimate := 1.0
	if put != nil {
		estimate = writeUnits(itemSize(put))
	}
	l.mu.Lock()
	it := l.itemLocked(k, key[sch.pk])
	var refusal error
	switch {
	case l.opts.Transactions && it.flight != nil:
		refusal = transactionConflict()
		l.faultLocked(Conflict)
	case !l.admitLocked(it.part, true, estimate, time.Now()):
		refusal = throughputExceeded(sch.arn, true)
		l.faultLocked(Throttle)
	default:
		it.writers++
	}
	if refusal != nil {
		l.tidyLocked(it, time.Now())
	}
	l.mu.Unlock()
	if refusal != nil {
		return nil, failAt(ctx, done, refusal)
	}
	release := func() {
		l.mu.Lock()
		it.writers--
		l.tidyLocked(it, time.Now())
		l.mu.Unlock()
	}

	var pre item
	if l.staleOn() {
		pres, err := l.fetch(ctx, map[itemKey]item{k: sch.keyOf(key)}, map[string]*schema{sch.table: sch})
		if err != nil {
			release()
			return nil, err
		}
		pre = pres[k]
	}
	res, err := t.send(ctx)
	l.mu.Lock()
	now := time.Now()
	units := estimate
	if u, ok := capacity(consumed(res)); ok && err == nil {
		units = u
	}
	var failed *types.ConditionalCheckFailedException
	if err == nil || errors.As(err, &failed) {
		// A failed condition consumes write capacity too.
		l.chargeLocked(it.part, true, units, now)
	}
	if err == nil && l.staleOn() {
		l.recordLocked(it, pre, now)
	}
	l.mu.Unlock()
	serr := sleepUntil(ctx, done)
	release()
	switch {
	case err != nil:
		return res, err
	case serr != nil:
		return nil, serr
	case d.lost:
		l.fault(LostResponse)
		return nil, lostResponse(l.endpoint, d.lostTimeout)
	}
	return res, nil
}

func consumed(res any) *types.ConsumedCapacity {
	switch r := res.(type) {
	case *dynamodb.PutItemOutput:
		return r.ConsumedCapacity
	case *dynamodb.UpdateItemOutput:
		return r.ConsumedCapacity
	case *dynamodb.DeleteItemOutput:
		return r.ConsumedCapacity
	}
	return nil
}

func (l *Layer) batchWriteItem(ctx context.Context, t *try, in *dynamodb.BatchWriteItemInput) (any, error) {
	type request struct {
		table string
		sch   *schema
		k     itemKey
		key   item
		put   item
		wr    types.WriteRequest
		it    *itemState
	}
	var reqs []*request
	schemas := map[string]*schema{}
	for table, wrs := range in.RequestItems {
		sch, err := l.schema(ctx, table)
		if err != nil {
			return t.send(ctx)
		}
		schemas[table] = sch
		for _, wr := range wrs {
			r := &request{table: table, sch: sch, wr: wr}
			switch {
			case wr.PutRequest != nil:
				r.key, r.put = wr.PutRequest.Item, wr.PutRequest.Item
			case wr.DeleteRequest != nil:
				r.key = wr.DeleteRequest.Key
			}
			k, ok := sch.key(r.key)
			if !ok {
				return t.send(ctx)
			}
			r.k, r.key = k, sch.keyOf(r.key)
			reqs = append(reqs, r)
		}
	}
	d := l.draw(t.op, l.opts.Latency.Write, 0)
	done := time.Now().Add(d.latency)
	if d.internal {
		l.fault(InternalError)
		return nil, failAt(ctx, done, internalServerError())
	}

	// Items of an in-flight transaction and of throttled partition keys come back
	// unprocessed; only if every item is throttled does the whole call fail.
	var sent, held []*request
	throttled := 0
	l.mu.Lock()
	now := time.Now()
	need := map[*partition]float64{}
	for _, r := range reqs {
		r.it = l.itemLocked(r.k, r.key[r.sch.pk])
		if r.put != nil {
			need[r.it.part] += writeUnits(itemSize(r.put))
		} else {
			need[r.it.part]++
		}
	}
	refused := map[*partition]bool{}
	for p, units := range need {
		refused[p] = !l.admitLocked(p, true, units, now)
	}
	for _, r := range reqs {
		switch {
		case l.opts.Transactions && r.it.flight != nil:
			held = append(held, r)
			l.faultLocked(Conflict)
		case refused[r.it.part]:
			held = append(held, r)
			throttled++
		default:
			sent = append(sent, r)
			r.it.writers++
		}
	}
	if throttled > 0 {
		l.faultLocked(Throttle)
	}
	for _, r := range held {
		l.tidyLocked(r.it, now)
	}
	l.mu.Unlock()
	unprocessed := func(out *dynamodb.BatchWriteItemOutput) {
		for _, r := range held {
			if out.UnprocessedItems == nil {
				out.UnprocessedItems = map[string][]types.WriteRequest{}
			}
			out.UnprocessedItems[r.table] = append(out.UnprocessedItems[r.table], r.wr)
		}
	}
	if len(sent) == 0 {
		if throttled == len(reqs) {
			return nil, failAt(ctx, done, throughputExceeded(reqs[0].sch.arn, true))
		}
		out := &dynamodb.BatchWriteItemOutput{}
		unprocessed(out)
		return out, sleepUntil(ctx, done)
	}
	release := func() {
		l.mu.Lock()
		for _, r := range sent {
			r.it.writers--
			l.tidyLocked(r.it, time.Now())
		}
		l.mu.Unlock()
	}

	var pres map[itemKey]item
	if l.staleOn() || l.opts.WriteUnitsPerSecond > 0 {
		keys := map[itemKey]item{}
		for _, r := range sent {
			keys[r.k] = r.key
		}
		var err error
		if pres, err = l.fetch(ctx, keys, schemas); err != nil {
			release()
			return nil, err
		}
	}
	var res any
	var err error
	if len(held) == 0 {
		res, err = t.send(ctx)
	} else {
		q := *in
		q.RequestItems = map[string][]types.WriteRequest{}
		for _, r := range sent {
			q.RequestItems[r.table] = append(q.RequestItems[r.table], r.wr)
		}
		res, err = l.plain.BatchWriteItem(ctx, &q)
	}
	if err != nil {
		release()
		return res, failAt(ctx, done, err)
	}
	out := res.(*dynamodb.BatchWriteItemOutput)
	notDone := map[itemKey]bool{}
	for table, wrs := range out.UnprocessedItems {
		for _, wr := range wrs {
			key := wr.DeleteRequest
			if wr.PutRequest != nil {
				if k, ok := schemas[table].key(wr.PutRequest.Item); ok {
					notDone[k] = true
				}
			} else if key != nil {
				if k, ok := schemas[table].key(key.Key); ok {
					notDone[k] = true
				}
			}
		}
	}
	l.mu.Lock()
	now = time.Now()
	for _, r := range sent {
		if notDone[r.k] {
			continue
		}
		l.chargeLocked(r.it.part, true, writeUnits(max(itemSize(r.put), itemSize(pres[r.k]))), now)
		if l.staleOn() {
			l.recordLocked(r.it, pres[r.k], now)
		}
	}
	l.mu.Unlock()
	unprocessed(out)
	serr := sleepUntil(ctx, done)
	release()
	switch {
	case serr != nil:
		return nil, serr
	case d.lost:
		l.fault(LostResponse)
		return nil, lostResponse(l.endpoint, d.lostTimeout)
	}
	return out, nil
}

func (l *Layer) transactWriteItems(ctx context.Context, t *try, in *dynamodb.TransactWriteItemsInput) (any, error) {
	type action struct {
		sch   *schema
		k     itemKey
		key   item
		put   item
		write bool // false for ConditionCheck
	}
	actions := make([]action, len(in.TransactItems))
	seen := map[itemKey]bool{}
	schemas := map[string]*schema{}
	writes := 0
	for i, ti := range in.TransactItems {
		var table *string
		a := action{write: true}
		switch {
		case ti.Put != nil:
			table, a.key, a.put = ti.Put.TableName, ti.Put.Item, ti.Put.Item
		case ti.Update != nil:
			table, a.key = ti.Update.TableName, ti.Update.Key
		case ti.Delete != nil:
			table, a.key = ti.Delete.TableName, ti.Delete.Key
		case ti.ConditionCheck != nil:
			table, a.key, a.write = ti.ConditionCheck.TableName, ti.ConditionCheck.Key, false
		default:
			return t.send(ctx)
		}
		sch, err := l.schema(ctx, aws.ToString(table))
		if err != nil {
			return t.send(ctx)
		}
		k, ok := sch.key(a.key)
		if !ok || seen[k] {
			return t.send(ctx) // DynamoDB Local rejects it
		}
		seen[k], schemas[sch.table] = true, sch
		a.sch, a.k, a.key = sch, k, sch.keyOf(a.key)
		actions[i] = a
		if a.write {
			writes++
		}
	}
	d := l.draw(t.op, l.opts.Latency.Transact, writes)
	start := time.Now()
	end := start.Add(d.latency)
	refused := start.Add(l.refusal(l.opts.Latency.Write))
	if d.internal {
		l.fault(InternalError)
		return nil, failAt(ctx, refused, internalServerError())
	}
	partOf := func(i int) *partition {
		return l.partLocked(actions[i].k.partKey, actions[i].key[actions[i].sch.pk])
	}

	l.mu.Lock()
	if t.token != "" {
		l.expireTokensLocked(start)
		if st := l.tokens[t.token]; st != nil {
			var refusal error
			switch {
			case st.fingerprint != t.fingerprint:
				refusal = idempotentParameterMismatch()
				l.faultLocked(ParameterMismatch)
			case !st.done:
				refusal = transactionInProgress()
				l.faultLocked(InProgress)
			}
			if refusal != nil {
				l.mu.Unlock()
				return nil, failAt(ctx, refused, refusal)
			}
			// A repeat returns success without applying again, and costs the reads of
			// its items.
			l.faultLocked(Replay)
			out := &dynamodb.TransactWriteItemsOutput{}
			for table, n := range st.items {
				out.ConsumedCapacity = append(out.ConsumedCapacity, types.ConsumedCapacity{
					TableName: aws.String(table), CapacityUnits: aws.Float64(float64(n)), ReadCapacityUnits: aws.Float64(float64(n)),
				})
			}
			for i := range actions {
				l.chargeLocked(partOf(i), false, 1, start)
			}
			l.mu.Unlock()
			if err := sleepUntil(ctx, end); err != nil {
				return nil, err
			}
			if d.lost {
				l.fault(LostResponse)
				return nil, lostResponse(l.endpoint, d.lostTimeout)
			}
			return out, nil
		}
	}
	var codes []string
	if l.opts.Transactions {
		for i, a := range actions {
			if it := l.peekLocked(a.k); it != nil && it.flight != nil {
				if codes == nil {
					codes = make([]string, len(actions))
					for j := range codes {
						codes[j] = reasonNone
					}
				}
				codes[i] = reasonConflict
			}
		}
		if codes != nil {
			l.faultLocked(Conflict)
		}
	}
	if codes == nil {
		// Transactions cost two units per item: one to prepare, one to commit.
		codes = l.admitTransactLocked(len(actions), func(i int) (*partition, float64) {
			if actions[i].put != nil {
				return partOf(i), 2 * writeUnits(itemSize(actions[i].put))
			}
			return partOf(i), 2
		}, true)
		if codes != nil {
			l.faultLocked(Throttle)
		}
	}
	if codes != nil {
		l.mu.Unlock()
		return nil, failAt(ctx, refused, transactionCanceled(codes))
	}
	tx := &txn{token: t.token}
	w := 0
	for _, a := range actions {
		it := l.itemLocked(a.k, a.key[a.sch.pk])
		tx.items = append(tx.items, it)
		if !l.opts.Transactions {
			continue
		}
		f := &flight{tx: tx, write: a.write, visibleAt: start}
		if a.write && w < len(d.visible) {
			f.visibleAt = start.Add(time.Duration(d.visible[w] * float64(d.latency)))
			w++
		}
		it.flight = f
	}
	if t.token != "" {
		st := &tokenState{fingerprint: t.fingerprint, items: map[string]int{}}
		for _, a := range actions {
			st.items[a.sch.table]++
		}
		l.tokens[t.token] = st
	}
	l.mu.Unlock()
	finish := func(ok bool) {
		l.mu.Lock()
		l.finishLocked(tx, ok, time.Now())
		l.mu.Unlock()
	}

	keys := map[itemKey]item{}
	for _, a := range actions {
		keys[a.k] = a.key
	}
	var pres map[itemKey]item
	if l.opts.Transactions || l.staleOn() || l.opts.WriteUnitsPerSecond > 0 {
		var err error
		if pres, err = l.fetch(ctx, keys, schemas); err != nil {
			finish(false)
			return nil, err
		}
		l.mu.Lock()
		for i, it := range tx.items {
			if f := it.flight; f != nil && f.tx == tx {
				f.pre, f.loaded = pres[actions[i].k], true
			}
		}
		l.mu.Unlock()
	}
	res, err := t.send(ctx)
	if err != nil {
		l.mu.Lock()
		now := time.Now()
		for i := range actions {
			l.chargeLocked(tx.items[i].part, true, 2, now)
		}
		l.mu.Unlock()
		finish(false)
		return res, failAt(ctx, end, err)
	}
	// The window opens when DynamoDB Local has applied the transaction, not when the
	// layer began on it: reading pre-images took part of it, and readers must still
	// get the chance to meet the transaction half visible.
	if shift := time.Since(start); shift > 0 {
		l.mu.Lock()
		for _, it := range tx.items {
			if f := it.flight; f != nil && f.tx == tx {
				f.visibleAt = f.visibleAt.Add(shift)
			}
		}
		l.mu.Unlock()
		end = end.Add(shift)
	}
	// An update's new size is known only once applied; it is read back to meter it.
	var posts map[itemKey]item
	if l.opts.WriteUnitsPerSecond > 0 {
		updated := map[itemKey]item{}
		for i, ti := range in.TransactItems {
			if ti.Update != nil {
				updated[actions[i].k] = actions[i].key
			}
		}
		if len(updated) > 0 {
			if posts, err = l.fetch(ctx, updated, schemas); err != nil {
				finish(true)
				return nil, err
			}
		}
	}
	l.mu.Lock()
	now := time.Now()
	for _, a := range actions {
		// Looked up again: without Transactions nothing pins the item while it is sent.
		it := l.itemLocked(a.k, a.key[a.sch.pk])
		size := max(itemSize(pres[a.k]), itemSize(a.put), itemSize(posts[a.k]))
		l.chargeLocked(it.part, true, 2*writeUnits(size), now)
		if a.write && l.staleOn() {
			at := now
			if f := it.flight; f != nil && f.tx == tx {
				at = f.visibleAt
			}
			l.recordLocked(it, pres[a.k], at)
		}
		l.tidyLocked(it, now)
	}
	l.mu.Unlock()
	if err := sleepUntil(ctx, end); err != nil {
		// The caller gave up; the transaction still leaves flight at the end of its window.
		time.AfterFunc(time.Until(end), func() { finish(true) })
		return nil, err
	}
	finish(true)
	if d.lost {
		l.fault(LostResponse)
		return nil, lostResponse(l.endpoint, d.lostTimeout)
	}
	return res, nil
}

// finishLocked takes a transaction out of flight, and remembers its token if it succeeded.
func (l *Layer) finishLocked(tx *txn, ok bool, now time.Time) {
	if tx.finished {
		return
	}
	tx.finished = true
	for _, it := range tx.items {
		if it.flight != nil && it.flight.tx == tx {
			it.flight = nil
		}
		l.tidyLocked(it, now)
	}
	if tx.token == "" {
		return
	}
	if !ok {
		// A request that failed is not remembered: its repeat is a new request.
		delete(l.tokens, tx.token)
		return
	}
	if st := l.tokens[tx.token]; st != nil {
		st.done, st.doneAt = true, now
		l.expiry = append(l.expiry, tx.token)
	}
}
