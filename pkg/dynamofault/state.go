package dynamofault

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// What the layer knows of the table, all guarded by Layer.mu. Invariants:
//   - an item is in flight for at most one transaction at a time: a transaction touching
//     an item already in flight is cancelled before it is registered;
//   - a flight's pre-image is loaded before its transaction is sent to DynamoDB Local, so
//     a reader that finds a flight not yet loaded has read the pre-image itself;
//   - a reader reads DynamoDB Local first and consults the flights afterwards, so whatever
//     it read that is not yet visible by then is replaced by what was there before;
//   - a transaction leaves flight before its caller gets the response, so the caller's
//     next call never conflicts with its own transaction.

type partKey struct{ table, pk string } // pk in canon form

type itemKey struct {
	partKey
	sk string // canon form; "" for tables without a sort key
}

type partition struct {
	key     partKey
	display string
	items   map[string]*itemState // by sort key

	read, write       bucket
	readWin, writeWin window
	usage             Usage
}

type itemState struct {
	part     *partition
	sk       string
	flight   *flight
	writers  int       // single-item writes in flight: TransactGetItems conflicts with them
	versions []version // writes within StaleWindow, oldest first
}

// flight is an item's part in an in-flight TransactWriteItems.
type flight struct {
	tx        *txn
	write     bool // false for ConditionCheck
	loaded    bool
	pre       item // the item before the transaction; nil if absent
	visibleAt time.Time
}

type version struct {
	at  time.Time
	pre item // the item before this write; nil if absent
}

type txn struct {
	items    []*itemState
	token    string
	finished bool
}

type tokenState struct {
	fingerprint string
	done        bool
	doneAt      time.Time
	items       map[string]int // items by table, for the read units a replay costs
}

func (l *Layer) partLocked(k partKey, pk types.AttributeValue) *partition {
	p := l.parts[k]
	if p == nil {
		p = &partition{key: k, display: display(pk), items: map[string]*itemState{}}
		l.parts[k] = p
	}
	return p
}

func (l *Layer) itemLocked(k itemKey, pk types.AttributeValue) *itemState {
	p := l.partLocked(k.partKey, pk)
	it := p.items[k.sk]
	if it == nil {
		it = &itemState{part: p, sk: k.sk}
		p.items[k.sk] = it
	}
	return it
}

func (l *Layer) peekLocked(k itemKey) *itemState {
	if p := l.parts[k.partKey]; p != nil {
		return p.items[k.sk]
	}
	return nil
}

// tidyLocked forgets an item the layer no longer needs to remember.
func (l *Layer) tidyLocked(it *itemState, now time.Time) {
	it.pruneLocked(now, l.opts.StaleWindow)
	if it.flight == nil && it.writers == 0 && len(it.versions) == 0 {
		delete(it.part.items, it.sk)
	}
}

func (it *itemState) pruneLocked(now time.Time, window time.Duration) {
	i := 0
	for i < len(it.versions) && now.Sub(it.versions[i].at) >= window {
		i++
	}
	it.versions = it.versions[i:]
}

// hiddenLocked says whether readers must still see the item as it was before its
// transaction, and what that was.
func (it *itemState) hiddenLocked(now time.Time) (item, bool) {
	f := it.flight
	if f == nil || !f.write || !f.loaded || !now.Before(f.visibleAt) {
		return nil, false
	}
	return f.pre, true
}

// staleLocked is the version an eventually consistent read may still return: the item
// before its latest visible write, if that write is within window.
func (it *itemState) staleLocked(now time.Time, window time.Duration) (item, bool) {
	for i := len(it.versions) - 1; i >= 0; i-- {
		v := it.versions[i]
		if v.at.After(now) {
			continue
		}
		return v.pre, now.Sub(v.at) < window
	}
	return nil, false
}

func (l *Layer) recordLocked(it *itemState, pre item, at time.Time) {
	if l.opts.StaleRead <= 0 || l.opts.StaleWindow <= 0 {
		return
	}
	it.versions = append(it.versions, version{at: at, pre: pre})
	slices.SortStableFunc(it.versions, func(a, b version) int { return a.at.Compare(b.at) })
}

// dirtyLocked says whether a read of the partition may need the layer's corrections.
func (p *partition) dirtyLocked(now time.Time, consistent bool, window time.Duration) bool {
	for _, it := range p.items {
		if _, hidden := it.hiddenLocked(now); hidden {
			return true
		}
		if !consistent {
			if _, ok := it.staleLocked(now, window); ok {
				return true
			}
		}
	}
	return false
}

// scope is the partitions a read may touch: one for a table Query, the whole table for a
// Scan or an index Query.
type scope struct {
	table string
	part  *partKey
}

func (l *Layer) dirty(s scope, consistent bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if s.part != nil {
		p := l.parts[*s.part]
		return p != nil && p.dirtyLocked(now, consistent, l.opts.StaleWindow)
	}
	for k, p := range l.parts {
		if k.table == s.table && p.dirtyLocked(now, consistent, l.opts.StaleWindow) {
			return true
		}
	}
	return false
}

// substitute is what a read shows instead of what DynamoDB Local returned for an item.
type substitute struct {
	key  itemKey
	pre  item
	kind Fault // Invisible or StaleRead
}

// substitutesLocked decides, for the items in s, which a read at now must see differently.
// Stale versions are drawn in key order, so a seed replays the same choices.
func (l *Layer) substitutesLocked(s scope, consistent bool, now time.Time, only map[itemKey]bool) map[itemKey]substitute {
	subs := map[itemKey]substitute{}
	var stale []substitute
	visit := func(p *partition) {
		for sk, it := range p.items {
			k := itemKey{partKey: p.key, sk: sk}
			if only != nil && !only[k] {
				continue
			}
			if pre, hidden := it.hiddenLocked(now); hidden {
				subs[k] = substitute{key: k, pre: pre, kind: Invisible}
			} else if !consistent {
				if pre, ok := it.staleLocked(now, l.opts.StaleWindow); ok {
					stale = append(stale, substitute{key: k, pre: pre, kind: StaleRead})
				}
			}
		}
	}
	if s.part != nil {
		if p := l.parts[*s.part]; p != nil {
			visit(p)
		}
	} else {
		for k, p := range l.parts {
			if k.table == s.table {
				visit(p)
			}
		}
	}
	slices.SortFunc(stale, func(a, b substitute) int {
		return strings.Compare(a.key.pk+"\x00"+a.key.sk, b.key.pk+"\x00"+b.key.sk)
	})
	for _, st := range stale {
		if l.chanceLocked(l.opts.StaleRead) {
			subs[st.key] = st
		}
	}
	return subs
}

// bucket is a partition key's token bucket: rate units per second, a burst of one second.
type bucket struct {
	tokens float64
	last   time.Time
	primed bool
}

func (b *bucket) level(now time.Time, rate float64) float64 {
	if !b.primed {
		b.tokens, b.last, b.primed = rate, now, true
	}
	if now.After(b.last) {
		b.tokens = min(rate, b.tokens+rate*now.Sub(b.last).Seconds())
		b.last = now
	}
	return b.tokens
}

// window sums the units of one whole second since the layer started.
type window struct {
	sec   int64
	units float64
}

// admitLocked says whether the partition has budget for units more; a request larger
// than the burst passes when the bucket is full, as a single large item does on the service.
func (l *Layer) admitLocked(p *partition, write bool, units float64, now time.Time) bool {
	now = l.budgetTime(now)
	rate, b := l.opts.ReadUnitsPerSecond, &p.read
	if write {
		rate, b = l.opts.WriteUnitsPerSecond, &p.write
	}
	if rate <= 0 {
		return true
	}
	if b.level(now, rate) >= min(units, rate) {
		return true
	}
	p.usage.Throttled++
	return false
}

// chargeLocked takes consumed units from the partition's budget and records them. The
// budget may go negative: later requests then wait until it refills.
func (l *Layer) chargeLocked(p *partition, write bool, units float64, now time.Time) {
	now = l.budgetTime(now)
	if units <= 0 {
		return
	}
	rate, b, w := l.opts.ReadUnitsPerSecond, &p.read, &p.readWin
	total, peak := &p.usage.ReadUnits, &p.usage.PeakReadUnits
	if write {
		rate, b, w = l.opts.WriteUnitsPerSecond, &p.write, &p.writeWin
		total, peak = &p.usage.WriteUnits, &p.usage.PeakWriteUnits
	}
	if rate > 0 {
		b.level(now, rate)
		b.tokens -= units
	}
	if sec := int64(now.Sub(l.start) / time.Second); sec != w.sec {
		w.sec, w.units = sec, 0
	}
	w.units += units
	*total += units
	*peak = max(*peak, w.units)
}

func capacity(cc *types.ConsumedCapacity) (float64, bool) {
	if cc == nil || cc.CapacityUnits == nil {
		return 0, false
	}
	return *cc.CapacityUnits, true
}

// fetch reads items through the plain client, strongly consistent, without faults: the
// layer's own reads of pre-images and post-images. Missing items are absent from the map.
func (l *Layer) fetch(ctx context.Context, keys map[itemKey]item, schemas map[string]*schema) (map[itemKey]item, error) {
	out := map[itemKey]item{}
	byTable := map[string][]item{}
	for k, key := range keys {
		byTable[k.table] = append(byTable[k.table], key)
	}
	for table, all := range byTable {
		for chunk := range slices.Chunk(all, 100) {
			req := map[string]types.KeysAndAttributes{table: {Keys: chunk, ConsistentRead: aws.Bool(true)}}
			for len(req) > 0 {
				res, err := l.plain.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
				if err != nil {
					return nil, fmt.Errorf("dynamofault: read items: %w", err)
				}
				for _, it := range res.Responses[table] {
					if k, ok := schemas[table].key(it); ok {
						out[k] = it
					}
				}
				req = res.UnprocessedKeys
			}
		}
	}
	return out, nil
}

func fingerprint(in *dynamodb.TransactWriteItemsInput) string {
	var b strings.Builder
	str := func(s *string) { b.WriteString(fmt.Sprintf("%q;", aws.ToString(s))) }
	names := func(m map[string]string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b.WriteString(fmt.Sprintf("%q=%q,", k, m[k]))
		}
		b.WriteString(";")
	}
	values := func(m item) { writeItemCanon(&b, "", m); b.WriteString(";") }
	b.WriteString(string(in.ReturnConsumedCapacity) + ";" + string(in.ReturnItemCollectionMetrics) + ";")
	for _, ti := range in.TransactItems {
		switch {
		case ti.Put != nil:
			b.WriteString("put;")
			str(ti.Put.TableName)
			values(ti.Put.Item)
			str(ti.Put.ConditionExpression)
			names(ti.Put.ExpressionAttributeNames)
			values(ti.Put.ExpressionAttributeValues)
			b.WriteString(string(ti.Put.ReturnValuesOnConditionCheckFailure) + ";")
		case ti.Update != nil:
			b.WriteString("update;")
			str(ti.Update.TableName)
			values(ti.Update.Key)
			str(ti.Update.UpdateExpression)
			str(ti.Update.ConditionExpression)
			names(ti.Update.ExpressionAttributeNames)
			values(ti.Update.ExpressionAttributeValues)
			b.WriteString(string(ti.Update.ReturnValuesOnConditionCheckFailure) + ";")
		case ti.Delete != nil:
			b.WriteString("delete;")
			str(ti.Delete.TableName)
			values(ti.Delete.Key)
			str(ti.Delete.ConditionExpression)
			names(ti.Delete.ExpressionAttributeNames)
			values(ti.Delete.ExpressionAttributeValues)
			b.WriteString(string(ti.Delete.ReturnValuesOnConditionCheckFailure) + ";")
		case ti.ConditionCheck != nil:
			b.WriteString("check;")
			str(ti.ConditionCheck.TableName)
			values(ti.ConditionCheck.Key)
			str(ti.ConditionCheck.ConditionExpression)
			names(ti.ConditionCheck.ExpressionAttributeNames)
			values(ti.ConditionCheck.ExpressionAttributeValues)
			b.WriteString(string(ti.ConditionCheck.ReturnValuesOnConditionCheckFailure) + ";")
		}
	}
	return b.String()
}

// expireTokensLocked forgets tokens whose ten minutes are over.
func (l *Layer) expireTokensLocked(now time.Time) {
	for len(l.expiry) > 0 {
		st := l.tokens[l.expiry[0]]
		if st != nil && st.done && now.Sub(st.doneAt) < tokenWindow {
			return
		}
		if st != nil && st.done {
			delete(l.tokens, l.expiry[0])
		}
		l.expiry = l.expiry[1:]
	}
}

// budgetTime is the time partition budgets are kept in: the wall clock's, or
// Options.BudgetClock's.
func (l *Layer) budgetTime(now time.Time) time.Time {
	if l.opts.BudgetClock != nil {
		return l.opts.BudgetClock()
	}
	return now
}
