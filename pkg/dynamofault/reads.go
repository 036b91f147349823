package dynamofault

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func (l *Layer) getItem(ctx context.Context, t *try, in *dynamodb.GetItemInput) (any, error) {
	sch, err := l.schema(ctx, aws.ToString(in.TableName))
	if err != nil {
		return t.send(ctx)
	}
	k, ok := sch.key(in.Key)
	if !ok {
		return t.send(ctx)
	}
	d := l.draw(t.op, l.opts.Latency.Read, 0)
	done := time.Now().Add(d.latency)
	if d.internal {
		l.fault(InternalError)
		return nil, failAt(ctx, done, internalServerError())
	}
	consistent := aws.ToBool(in.ConsistentRead)
	l.mu.Lock()
	admitted := l.admitLocked(l.partLocked(k.partKey, in.Key[sch.pk]), false, readUnits(1, consistent), time.Now())
	if !admitted {
		l.faultLocked(Throttle)
	}
	l.mu.Unlock()
	if !admitted {
		return nil, failAt(ctx, done, throughputExceeded(sch.arn, false))
	}

	res, err := t.send(ctx)
	if err != nil {
		return res, failAt(ctx, done, err)
	}
	out := res.(*dynamodb.GetItemOutput)
	proj, projErr := readProjection(in.ProjectionExpression, in.AttributesToGet, in.ExpressionAttributeNames)
	l.mu.Lock()
	now := time.Now()
	p := l.partLocked(k.partKey, in.Key[sch.pk])
	subs := l.substitutesLocked(scope{table: sch.table, part: &k.partKey}, consistent, now, map[itemKey]bool{k: true})
	units, ok := capacity(out.ConsumedCapacity)
	if !ok {
		units = readUnits(itemSize(out.Item), consistent)
	}
	l.chargeLocked(p, false, units, now)
	if s, ok := subs[k]; ok && projErr == nil {
		shown := proj.apply(s.pre)
		if !sameItem(shown, out.Item) {
			l.faultLocked(s.kind)
		}
		out.Item = shown
	}
	l.mu.Unlock()
	if _, ok := subs[k]; ok && projErr != nil {
		return nil, projErr
	}
	return out, sleepUntil(ctx, done)
}

func sameItem(a, b item) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	var x, y = canon(&types.AttributeValueMemberM{Value: a}), canon(&types.AttributeValueMemberM{Value: b})
	return x == y
}

func readProjection(expr *string, attrs []string, names map[string]string) (projection, error) {
	if len(attrs) > 0 {
		return projection(attrs), nil
	}
	return parseProjection(expr, names)
}

// withKeys makes a read return the key attributes the layer needs to know its items,
// whatever the caller's projection; the layer projects the result back afterwards.
func withKeys(expr *string, attrs []string, names map[string]string, keys []string) (*string, []string, map[string]string, error) {
	proj, err := readProjection(expr, attrs, names)
	if err != nil || proj == nil {
		return expr, attrs, names, err
	}
	if len(attrs) > 0 {
		for _, k := range keys {
			if !proj.has(k) {
				attrs = append(slices.Clip(attrs), k)
			}
		}
		return expr, attrs, names, nil
	}
	e := *expr
	cp := make(map[string]string, len(names)+len(keys))
	for n, v := range names {
		cp[n] = v
	}
	for i, k := range keys {
		if !proj.has(k) {
			ph := fmt.Sprintf("#dynamofaultKey%d", i)
			cp[ph] = k
			e += ", " + ph
		}
	}
	return &e, attrs, cp, nil
}

func hasKeys(sel types.Select, expr *string, attrs []string, names map[string]string, keys []string) bool {
	if sel == types.SelectCount {
		return false
	}
	proj, err := readProjection(expr, attrs, names)
	if err != nil {
		return false
	}
	for _, k := range keys {
		if !proj.has(k) {
			return false
		}
	}
	return true
}

// lazyFilter parses a filter expression the first time a substitute needs it.
type lazyFilter struct {
	expr   *string
	legacy bool
	names  map[string]string
	values map[string]types.AttributeValue
	c      cond
	err    error
}

func (f *lazyFilter) holds(it item) (bool, error) {
	if f.c == nil && f.err == nil {
		if f.legacy {
			f.err = fmt.Errorf("dynamofault: legacy QueryFilter and ScanFilter are not supported; use a FilterExpression")
		} else {
			f.c, f.err = parseCondition(aws.ToString(f.expr), f.names, f.values)
		}
	}
	if f.err != nil {
		return false, f.err
	}
	return f.c.holds(it), nil
}

// page is one page of a Query or Scan, to be corrected for what DynamoDB Local shows but
// the service would not yet, or not any more.
type page struct {
	sch      *schema
	items    []item
	count    int32
	scanned  int32
	last     item
	keyCond  cond // Query: what a substitute must match
	addBack  bool // on the table, not an index: pre-images DynamoDB Local no longer has may be added back
	scan     bool
	forward  bool
	start    item
	limit    *int32
	filter   *lazyFilter
	proj     projection
	selCount bool
}

// fix replaces or drops the items subs covers and adds back pre-images DynamoDB Local no
// longer has that fall within the page: for a Query, between its ExclusiveStartKey and
// its LastEvaluatedKey; for a Scan, among the items of their partition key on the page
// (a pre-image whose partition key has no item on any page is not shown). Limit is kept
// by ending the page earlier; a page may also hold fewer items than Limit where an item
// was dropped, as a filtered page may on the service.
func (l *Layer) fix(pg *page, subs map[itemKey]substitute) error {
	shown := make([]item, 0, len(pg.items))
	seen := map[itemKey]bool{}
	for _, it := range pg.items {
		k, ok := pg.sch.key(it)
		s, sub := subs[k]
		if !ok || !sub {
			shown = append(shown, it)
			continue
		}
		seen[k] = true
		keep, err := pg.matches(s.pre)
		if err != nil {
			return err
		}
		if keep {
			shown = append(shown, s.pre)
		}
		if !keep || !sameItem(pg.proj.apply(s.pre), pg.proj.apply(it)) {
			l.fault(s.kind)
		}
	}
	added := 0
	if pg.addBack {
		runs := pg.runs()
		keys := slices.SortedFunc(maps.Keys(subs), func(a, b itemKey) int {
			return strings.Compare(a.pk+"\x00"+a.sk, b.pk+"\x00"+b.sk)
		})
		for _, k := range keys {
			s := subs[k]
			if seen[k] || s.pre == nil || !pg.inPage(k, s.pre, runs) {
				continue
			}
			keep, err := pg.matches(s.pre)
			if err != nil {
				return err
			}
			if keep {
				shown = append(shown, s.pre)
				added++
				l.fault(s.kind)
			}
		}
		if added > 0 {
			pg.sort(shown, runs)
		}
	}
	if pg.limit != nil && len(shown) > int(*pg.limit) {
		shown = shown[:*pg.limit]
		pg.last = pg.sch.keyOf(shown[len(shown)-1])
	}
	pg.items = shown
	pg.count = int32(len(shown))
	pg.scanned = max(pg.scanned+int32(added), pg.count)
	return nil
}

// run is where a partition key's items lie on a page; they are contiguous in a Scan.
type run struct{ order, first, last int }

func (pg *page) runs() map[partKey]run {
	runs := map[partKey]run{}
	for i, it := range pg.items {
		k, ok := pg.sch.key(it)
		if !ok {
			continue
		}
		r, seen := runs[k.partKey]
		if !seen {
			r = run{order: len(runs), first: i}
		}
		r.last = i
		runs[k.partKey] = r
	}
	return runs
}

// inPage says whether a pre-image the layer adds back belongs on this page.
func (pg *page) inPage(k itemKey, it item, runs map[partKey]run) bool {
	sk := pg.sch.sk
	after := func(a, b types.AttributeValue) bool {
		c, _ := compareScalars(a, b)
		if pg.forward {
			return c > 0
		}
		return c < 0
	}
	samePart := func(edge item) bool {
		e, ok := pg.sch.key(edge)
		return ok && e.partKey == k.partKey
	}
	startsHere, endsHere := true, true
	if pg.scan {
		r, ok := runs[k.partKey]
		if !ok {
			return false
		}
		startsHere, endsHere = r.first == 0, r.last == len(pg.items)-1
	}
	if sk == "" {
		return true
	}
	if startsHere && pg.start != nil && samePart(pg.start) && !after(it[sk], pg.start[sk]) {
		return false
	}
	if endsHere && pg.last != nil && samePart(pg.last) && after(it[sk], pg.last[sk]) {
		return false
	}
	return true
}

// sort puts added pre-images in their places: by sort key within a partition key, and
// partition keys in the order the page had them.
func (pg *page) sort(items []item, runs map[partKey]run) {
	sk := pg.sch.sk
	slices.SortStableFunc(items, func(a, b item) int {
		ka, _ := pg.sch.key(a)
		kb, _ := pg.sch.key(b)
		if c := runs[ka.partKey].order - runs[kb.partKey].order; c != 0 {
			return c
		}
		if sk == "" {
			return 0
		}
		c, _ := compareScalars(a[sk], b[sk])
		if !pg.forward {
			c = -c
		}
		return c
	})
}

func (pg *page) matches(it item) (bool, error) {
	if it == nil {
		return false, nil
	}
	if pg.keyCond != nil && !pg.keyCond.holds(it) {
		return false, nil
	}
	return pg.filter.holds(it)
}

// shape gives the items the shape the caller asked for.
func (pg *page) shape() []item {
	if pg.selCount {
		return nil
	}
	out := make([]item, len(pg.items))
	for i, it := range pg.items {
		out[i] = pg.proj.apply(it)
	}
	return out
}

func (l *Layer) query(ctx context.Context, t *try, in *dynamodb.QueryInput) (any, error) {
	sch, err := l.schema(ctx, aws.ToString(in.TableName))
	if err != nil || in.KeyConditionExpression == nil {
		return t.send(ctx) // legacy KeyConditions: passed through untouched
	}
	index := aws.ToString(in.IndexName)
	pkName := sch.pk
	if index != "" {
		pkName = sch.indexes[index][0]
	}
	kc, err := parseCondition(*in.KeyConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	if err != nil {
		return nil, err
	}
	pkValue, ok := partitionValue(kc, pkName)
	if !ok {
		return t.send(ctx) // DynamoDB Local rejects it
	}
	budget := partKey{table: sch.table, pk: canon(pkValue)}
	sc := scope{table: sch.table, part: &budget}
	if index != "" {
		// An index partition spreads over the table's: its reads are metered apart, and
		// corrected by looking at the whole table.
		budget.table = sch.table + "/" + index
		sc.part = nil
	}
	d := l.draw(t.op, l.opts.Latency.Query, 0)
	done := time.Now().Add(d.latency)
	if d.internal {
		l.fault(InternalError)
		return nil, failAt(ctx, done, internalServerError())
	}
	consistent := aws.ToBool(in.ConsistentRead)
	l.mu.Lock()
	p := l.partLocked(budget, pkValue)
	admitted := l.admitLocked(p, false, readUnits(1, consistent), time.Now())
	if !admitted {
		l.faultLocked(Throttle)
	}
	l.mu.Unlock()
	if !admitted {
		return nil, failAt(ctx, done, throughputExceeded(sch.arn, false))
	}

	keys := sch.keyAttributes(index)
	var out *dynamodb.QueryOutput
	dirty := l.dirty(sc, consistent)
	if !dirty {
		res, err := t.send(ctx)
		if err != nil {
			return res, failAt(ctx, done, err)
		}
		out = res.(*dynamodb.QueryOutput)
		dirty = l.dirty(sc, consistent)
	}
	if dirty && (out == nil || !hasKeys(in.Select, in.ProjectionExpression, in.AttributesToGet, in.ExpressionAttributeNames, keys)) {
		q := *in
		if q.Select == types.SelectCount {
			q.Select = ""
		}
		if q.ProjectionExpression, q.AttributesToGet, q.ExpressionAttributeNames, err = withKeys(in.ProjectionExpression, in.AttributesToGet, in.ExpressionAttributeNames, keys); err != nil {
			return nil, err
		}
		if out, err = l.plain.Query(ctx, &q); err != nil {
			return nil, failAt(ctx, done, err)
		}
	}
	units, ok := capacity(out.ConsumedCapacity)
	if !ok {
		units = 1
	}
	l.mu.Lock()
	l.chargeLocked(p, false, units, time.Now())
	var subs map[itemKey]substitute
	if dirty {
		subs = l.substitutesLocked(sc, consistent, time.Now(), nil)
	}
	l.mu.Unlock()
	if len(subs) > 0 {
		proj, err := readProjection(in.ProjectionExpression, in.AttributesToGet, in.ExpressionAttributeNames)
		if err != nil {
			return nil, err
		}
		pg := &page{
			sch: sch, items: out.Items, count: out.Count, scanned: out.ScannedCount,
			last: out.LastEvaluatedKey, start: in.ExclusiveStartKey, limit: in.Limit, proj: proj, selCount: in.Select == types.SelectCount,
			keyCond: kc, addBack: index == "", forward: in.ScanIndexForward == nil || *in.ScanIndexForward,
			filter: &lazyFilter{expr: in.FilterExpression, legacy: len(in.QueryFilter) > 0,
				names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues},
		}
		if err := l.fix(pg, subs); err != nil {
			return nil, err
		}
		out.Items, out.Count, out.ScannedCount, out.LastEvaluatedKey = pg.shape(), pg.count, pg.scanned, pg.last
	} else if dirty {
		// Corrected nothing, but the items were read with the keys added: shape them back.
		proj, _ := readProjection(in.ProjectionExpression, in.AttributesToGet, in.ExpressionAttributeNames)
		pg := &page{items: out.Items, proj: proj, selCount: in.Select == types.SelectCount}
		out.Items = pg.shape()
	}
	return out, sleepUntil(ctx, done)
}

func (l *Layer) scan(ctx context.Context, t *try, in *dynamodb.ScanInput) (any, error) {
	sch, err := l.schema(ctx, aws.ToString(in.TableName))
	if err != nil {
		return t.send(ctx)
	}
	index := aws.ToString(in.IndexName)
	d := l.draw(t.op, l.opts.Latency.Query, 0)
	done := time.Now().Add(d.latency)
	if d.internal {
		l.fault(InternalError)
		return nil, failAt(ctx, done, internalServerError())
	}
	consistent := aws.ToBool(in.ConsistentRead)
	sc := scope{table: sch.table}
	keys := sch.keyAttributes(index)
	var out *dynamodb.ScanOutput
	dirty := l.dirty(sc, consistent)
	if !dirty {
		res, err := t.send(ctx)
		if err != nil {
			return res, failAt(ctx, done, err)
		}
		out = res.(*dynamodb.ScanOutput)
		dirty = l.dirty(sc, consistent)
	}
	if dirty && (out == nil || !hasKeys(in.Select, in.ProjectionExpression, in.AttributesToGet, in.ExpressionAttributeNames, keys)) {
		q := *in
		if q.Select == types.SelectCount {
			q.Select = ""
		}
		if q.ProjectionExpression, q.AttributesToGet, q.ExpressionAttributeNames, err = withKeys(in.ProjectionExpression, in.AttributesToGet, in.ExpressionAttributeNames, keys); err != nil {
			return nil, err
		}
		if out, err = l.plain.Scan(ctx, &q); err != nil {
			return nil, failAt(ctx, done, err)
		}
	}
	// A Scan spans partition keys: each is metered for the items it returned.
	l.mu.Lock()
	now := time.Now()
	for _, it := range out.Items {
		if k, ok := sch.key(it); ok && index == "" {
			l.chargeLocked(l.partLocked(k.partKey, it[sch.pk]), false, readUnits(itemSize(it), consistent), now)
		}
	}
	var subs map[itemKey]substitute
	if dirty {
		subs = l.substitutesLocked(sc, consistent, now, nil)
	}
	l.mu.Unlock()
	if dirty {
		proj, err := readProjection(in.ProjectionExpression, in.AttributesToGet, in.ExpressionAttributeNames)
		if err != nil {
			return nil, err
		}
		pg := &page{
			sch: sch, items: out.Items, count: out.Count, scanned: out.ScannedCount,
			last: out.LastEvaluatedKey, start: in.ExclusiveStartKey, limit: in.Limit, proj: proj,
			selCount: in.Select == types.SelectCount, scan: true, addBack: index == "", forward: true,
			filter: &lazyFilter{expr: in.FilterExpression, legacy: len(in.ScanFilter) > 0,
				names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues},
		}
		if err := l.fix(pg, subs); err != nil {
			return nil, err
		}
		out.Items, out.Count, out.ScannedCount, out.LastEvaluatedKey = pg.shape(), pg.count, pg.scanned, pg.last
	}
	return out, sleepUntil(ctx, done)
}

func (l *Layer) batchGetItem(ctx context.Context, t *try, in *dynamodb.BatchGetItemInput) (any, error) {
	schemas := map[string]*schema{}
	type want struct {
		table string
		key   item
		k     itemKey
	}
	var wants []want
	for table, ka := range in.RequestItems {
		sch, err := l.schema(ctx, table)
		if err != nil {
			return t.send(ctx)
		}
		schemas[table] = sch
		for _, key := range ka.Keys {
			k, ok := sch.key(key)
			if !ok {
				return t.send(ctx)
			}
			wants = append(wants, want{table, key, k})
		}
	}
	d := l.draw(t.op, l.opts.Latency.Read, 0)
	done := time.Now().Add(d.latency)
	if d.internal {
		l.fault(InternalError)
		return nil, failAt(ctx, done, internalServerError())
	}

	// Keys of throttled partition keys come back unprocessed, as on the service; only if
	// every key is throttled does the whole call fail.
	send := map[string]types.KeysAndAttributes{}
	unprocessed := map[string]types.KeysAndAttributes{}
	requested := map[itemKey]bool{}
	l.mu.Lock()
	now := time.Now()
	refused := map[partKey]bool{}
	for _, w := range wants {
		ka := in.RequestItems[w.table]
		p := l.partLocked(w.k.partKey, w.key[schemas[w.table].pk])
		if _, seen := refused[p.key]; !seen {
			refused[p.key] = !l.admitLocked(p, false, readUnits(1, aws.ToBool(ka.ConsistentRead)), now)
		}
		dst := send
		if refused[p.key] {
			dst = unprocessed
		} else {
			requested[w.k] = true
		}
		cur := dst[w.table]
		if cur.Keys == nil {
			cur = ka
			cur.Keys = nil
		}
		cur.Keys = append(cur.Keys, w.key)
		dst[w.table] = cur
	}
	if len(unprocessed) > 0 {
		l.faultLocked(Throttle)
	}
	l.mu.Unlock()
	if len(send) == 0 {
		arn := ""
		for _, s := range schemas {
			arn = s.arn
		}
		return nil, failAt(ctx, done, throughputExceeded(arn, false))
	}

	needKeys := false
	for table, ka := range send {
		if !hasKeys("", ka.ProjectionExpression, ka.AttributesToGet, ka.ExpressionAttributeNames, schemas[table].keyAttributes("")) {
			needKeys = true
		}
	}
	dirtyNow := func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		now := time.Now()
		for table, ka := range send {
			for _, key := range ka.Keys {
				k, _ := schemas[table].key(key)
				if p := l.parts[k.partKey]; p != nil && p.items[k.sk] != nil {
					it := p.items[k.sk]
					if _, hidden := it.hiddenLocked(now); hidden {
						return true
					}
					if _, stale := it.staleLocked(now, l.opts.StaleWindow); stale && !aws.ToBool(ka.ConsistentRead) {
						return true
					}
				}
			}
		}
		return false
	}
	viaPlain := func() (*dynamodb.BatchGetItemOutput, error) {
		q := *in
		q.RequestItems = map[string]types.KeysAndAttributes{}
		for table, ka := range send {
			var err error
			ka.ProjectionExpression, ka.AttributesToGet, ka.ExpressionAttributeNames, err = withKeys(ka.ProjectionExpression, ka.AttributesToGet, ka.ExpressionAttributeNames, schemas[table].keyAttributes(""))
			if err != nil {
				return nil, err
			}
			q.RequestItems[table] = ka
		}
		return l.plain.BatchGetItem(ctx, &q)
	}
	var out *dynamodb.BatchGetItemOutput
	var err error
	dirty := dirtyNow()
	if len(unprocessed) == 0 && !dirty {
		res, err := t.send(ctx)
		if err != nil {
			return res, failAt(ctx, done, err)
		}
		out = res.(*dynamodb.BatchGetItemOutput)
		dirty = dirtyNow()
	}
	if out == nil || dirty && needKeys {
		if out, err = viaPlain(); err != nil {
			return nil, failAt(ctx, done, err)
		}
	}
	for table, ka := range out.UnprocessedKeys {
		for _, key := range ka.Keys {
			if k, ok := schemas[table].key(key); ok {
				delete(requested, k)
			}
		}
	}

	l.mu.Lock()
	now = time.Now()
	for table, items := range out.Responses {
		for _, it := range items {
			if k, ok := schemas[table].key(it); ok {
				consistent := aws.ToBool(in.RequestItems[table].ConsistentRead)
				l.chargeLocked(l.partLocked(k.partKey, it[schemas[table].pk]), false, readUnits(itemSize(it), consistent), now)
			}
		}
	}
	subs := map[itemKey]substitute{}
	if dirty {
		for _, table := range slices.Sorted(maps.Keys(send)) { // in order, so a seed replays the draws
			ka := send[table]
			only := map[itemKey]bool{}
			for _, key := range ka.Keys {
				if k, _ := schemas[table].key(key); requested[k] {
					only[k] = true
				}
			}
			for k, s := range l.substitutesLocked(scope{table: table}, aws.ToBool(ka.ConsistentRead), now, only) {
				subs[k] = s
			}
		}
	}
	l.mu.Unlock()

	for table, ka := range send {
		proj, err := readProjection(ka.ProjectionExpression, ka.AttributesToGet, ka.ExpressionAttributeNames)
		if err != nil {
			return nil, err
		}
		var shown []item
		seen := map[itemKey]bool{}
		for _, it := range out.Responses[table] {
			k, _ := schemas[table].key(it)
			seen[k] = true
			if s, ok := subs[k]; ok {
				if !sameItem(proj.apply(s.pre), proj.apply(it)) {
					l.fault(s.kind)
				}
				it = s.pre
			}
			if it != nil {
				shown = append(shown, proj.apply(it))
			}
		}
		for _, key := range ka.Keys {
			k, _ := schemas[table].key(key)
			if s, ok := subs[k]; ok && !seen[k] && s.pre != nil {
				l.fault(s.kind)
				shown = append(shown, proj.apply(s.pre))
			}
		}
		if out.Responses == nil {
			out.Responses = map[string][]item{}
		}
		out.Responses[table] = shown
	}
	for table, ka := range unprocessed {
		cur, ok := out.UnprocessedKeys[table]
		if !ok {
			cur = ka
			cur.Keys = nil
		}
		cur.Keys = append(cur.Keys, ka.Keys...)
		if out.UnprocessedKeys == nil {
			out.UnprocessedKeys = map[string]types.KeysAndAttributes{}
		}
		out.UnprocessedKeys[table] = cur
	}
	return out, sleepUntil(ctx, done)
}

func (l *Layer) transactGetItems(ctx context.Context, t *try, in *dynamodb.TransactGetItemsInput) (any, error) {
	type get struct {
		sch *schema
		key item
		k   itemKey
	}
	gets := make([]get, len(in.TransactItems))
	for i, ti := range in.TransactItems {
		if ti.Get == nil {
			return t.send(ctx)
		}
		sch, err := l.schema(ctx, aws.ToString(ti.Get.TableName))
		if err != nil {
			return t.send(ctx)
		}
		k, ok := sch.key(ti.Get.Key)
		if !ok {
			return t.send(ctx)
		}
		gets[i] = get{sch, ti.Get.Key, k}
	}
	d := l.draw(t.op, l.opts.Latency.Transact, 0)
	start := time.Now()
	done := start.Add(d.latency)
	refused := start.Add(l.refusal(l.opts.Latency.Read))
	if d.internal {
		l.fault(InternalError)
		return nil, failAt(ctx, refused, internalServerError())
	}
	// An item within a TransactGetItems that is part of an ongoing write conflicts.
	conflicts := func() []string {
		if !l.opts.Transactions {
			return nil
		}
		codes := make([]string, len(gets))
		found := false
		for i, g := range gets {
			codes[i] = reasonNone
			if it := l.peekLocked(g.k); it != nil && (it.flight != nil || it.writers > 0) {
				codes[i], found = reasonConflict, true
			}
		}
		if !found {
			return nil
		}
		return codes
	}
	l.mu.Lock()
	codes := conflicts()
	if codes == nil {
		codes = l.admitTransactLocked(len(gets), func(i int) (*partition, float64) {
			return l.partLocked(gets[i].k.partKey, gets[i].key[gets[i].sch.pk]), 2
		}, false)
		if codes != nil {
			l.faultLocked(Throttle)
		}
	} else {
		l.faultLocked(Conflict)
	}
	l.mu.Unlock()
	if codes != nil {
		return nil, failAt(ctx, refused, transactionCanceled(codes))
	}

	res, err := t.send(ctx)
	if err != nil {
		return res, failAt(ctx, done, err)
	}
	out := res.(*dynamodb.TransactGetItemsOutput)
	l.mu.Lock()
	// A write that began while this read was under way conflicts with it as well.
	codes = conflicts()
	if codes != nil {
		l.faultLocked(Conflict)
	}
	now := time.Now()
	for i, r := range out.Responses {
		if i < len(gets) {
			l.chargeLocked(l.partLocked(gets[i].k.partKey, gets[i].key[gets[i].sch.pk]), false, 2*readUnits(itemSize(r.Item), true), now)
		}
	}
	l.mu.Unlock()
	if codes != nil {
		return nil, failAt(ctx, done, transactionCanceled(codes))
	}
	return out, sleepUntil(ctx, done)
}

// admitTransactLocked checks the budget of every partition key a transaction touches; it
// returns nil if all have room, else one cancellation reason per item.
func (l *Layer) admitTransactLocked(n int, part func(int) (*partition, float64), write bool) []string {
	need := map[*partition]float64{}
	for i := range n {
		p, units := part(i)
		need[p] += units
	}
	now := time.Now()
	refused := map[*partition]bool{}
	for p, units := range need {
		if !l.admitLocked(p, write, units, now) {
			refused[p] = true
		}
	}
	if len(refused) == 0 {
		return nil
	}
	codes := make([]string, n)
	for i := range n {
		codes[i] = reasonNone
		if p, _ := part(i); refused[p] {
			codes[i] = reasonThrottling
		}
	}
	return codes
}
