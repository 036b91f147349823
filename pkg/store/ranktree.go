package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// The rank tree gives exact ranks at a cost that does not grow with the board.
// docs/ranking.md explains it; in short:
//
// Each scored team has an entry item whose sort key (a rank key) orders the board:
// better first. Above the entries are `levels` levels of count nodes in the same
// partition. A node covers the rank keys from its lower bound up to the next node's on
// its level and counts the entries there. Every level has a node with the empty lower
// bound, and every boundary on a level is also a boundary on the levels below, so the
// ranges nest. The number of entries before a key is then the sum, level by level from
// the top, of the counts of the nodes before the key's own node within its parent, plus
// the entries before the key within its level-1 node: one Query per level and one COUNT
// over at most a leaf's worth of entries. Nodes split when they grow, so every Query
// reads a bounded number of items whatever the board's size.
const levels = 3

// treeShape sets when nodes split. Tests shrink it to reach every level with few teams.
type treeShape struct {
	// leafSplitAt is the most entries a level-1 node holds before it splits in two.
	leafSplitAt int64
	// nodeSplitAt is the most children a node above level 1 has before it splits.
	nodeSplitAt int64
}

var defaultTreeShape = treeShape{leafSplitAt: 64, nodeSplitAt: 32}

// SetTreeShape changes when count nodes split: a level-1 node past leafSplitAt entries, a
// node above past nodeSplitAt children (defaults 64 and 32; both at least 2). Small values
// let tests reach every level of the tree with a few teams; production keeps the
// defaults, which docs/ranking.md's costs assume.
func (s *Store) SetTreeShape(leafSplitAt, nodeSplitAt int64) {
	s.shape = treeShape{leafSplitAt: max(leafSplitAt, 2), nodeSplitAt: max(nodeSplitAt, 2)}
}

// node is a count node as stored. Count is the number of entries in its range; Ver
// changes whenever Count (or, on level 1, any entry in the range) changes; Gen changes
// when the node splits, which shrinks its range. Children counts the nodes one level
// down whose lower bound lies in its range (levels 2 and up).
type node struct {
	PK       string `dynamodbav:"PK"`
	SK       string `dynamodbav:"SK"`
	Count    int64  `dynamodbav:"count"`
	Children int64  `dynamodbav:"children"`
	Ver      int64  `dynamodbav:"ver"`
	Gen      int64  `dynamodbav:"gen"`
}

func (n node) lower(level int) string { return strings.TrimPrefix(n.SK, nodeSKPrefix(level)) }

// path is the node containing one rank key on each level; path[0] is level 1.
type path [levels]node

// nodeAt returns the node on level that contains key k. Lookups that feed a write may
// be eventually consistent: the write is conditioned on the node's Gen, so a stale
// answer fails the condition and is retried, never applied. A level with no node yet
// has an implicit empty root with lower bound "" and Gen 0.
func (s *Store) nodeAt(ctx context.Context, pk string, level int, k string, consistent bool) (node, error) {
	in := s.between(pk, nodeSK(level, ""), nodeSK(level, k))
	in.ScanIndexForward, in.Limit, in.ConsistentRead = aws.Bool(false), aws.Int32(1), aws.Bool(consistent)
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return node{}, fmt.Errorf("find level-%d node: %w", level, err)
	}
	reqlog.AddRead(ctx, capacity(out.ConsumedCapacity)...)
	if len(out.Items) == 0 {
		return node{PK: pk, SK: nodeSK(level, "")}, nil
	}
	var n node
	if err := attributevalue.UnmarshalMap(out.Items[0], &n); err != nil {
		return node{}, fmt.Errorf("unmarshal node: %w", err)
	}
	return n, nil
}

// pathOf finds the nodes containing k on every level, concurrently.
func (s *Store) pathOf(ctx context.Context, pk, k string) (path, error) {
	var p path
	errs := make(chan error, levels)
	for i := range levels {
		go func() {
			n, err := s.nodeAt(ctx, pk, i+1, k, false)
			p[i] = n
			errs <- err
		}()
	}
	var first error
	for range levels {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return p, first
}

// moveItems are the node updates that move one entry from the key whose path is from
// to the key whose path is to; a nil from adds an entry, a nil to removes one. Every
// update is conditioned on the node's Gen, so it never counts into a node whose range
// changed since it was looked up. Level-1 nodes are touched even when the entry stays
// inside them, so that a split of that node sees the move (see splitLeaf).
func (s *Store) moveItems(from, to *path) []types.TransactWriteItem {
	var items []types.TransactWriteItem
	for i := range levels {
		var a, b *node
		if from != nil {
			a = &from[i]
		}
		if to != nil {
			b = &to[i]
		}
		switch {
		case a != nil && b != nil && a.SK == b.SK:
			if i == 0 {
				items = append(items, s.countUpdate(*a, 0))
			}
		default:
			if a != nil {
				items = append(items, s.countUpdate(*a, -1))
			}
			if b != nil {
				items = append(items, s.countUpdate(*b, +1))
			}
		}
	}
	return items
}

func (s *Store) countUpdate(n node, delta int64) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table,
		Key:       key(n.PK, n.SK),
		// A root that does not exist yet is created here; it starts with one child,
		// the root below it.
		UpdateExpression:    aws.String("ADD #count :d, ver :one SET gen = if_not_exists(gen, :zero), children = if_not_exists(children, :one)"),
		ConditionExpression: aws.String("attribute_not_exists(gen) OR gen = :gen"),
		ExpressionAttributeNames: map[string]string{
			"#count": "count",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":d":    number(delta),
			":one":  number(1),
			":zero": number(0),
			":gen":  number(n.Gen),
		},
	}}
}

// countThrough returns how many entries have a rank key <= probe. With an entry's own
// key that is its ordinal rank; with a score prefix (which no entry key equals), the
// number of entries with a better score.
func (s *Store) countThrough(ctx context.Context, pk, probe string) (int64, error) {
	var before int64
	lower := ""
	for level := levels; level >= 1; level-- {
		nodes, err := s.queryNodes(ctx, pk, level, lower, probe)
		if err != nil {
			return 0, err
		}
		if len(nodes) == 0 {
			continue // no node on this level yet: the implicit root covers it all
		}
		for _, n := range nodes[:len(nodes)-1] {
			before += n.Count
		}
		lower = nodes[len(nodes)-1].lower(level)
	}
	n, err := s.countEntries(ctx, pk, lower, probe)
	if err != nil {
		return 0, err
	}
	return before + n, nil
}

// queryNodes returns the nodes on level with lower bounds in [from, through], in order,
// strongly consistent.
func (s *Store) queryNodes(ctx context.Context, pk string, level int, from, through string) ([]node, error) {
	var nodes []node
	err := s.queryRange(ctx, pk, nodeSK(level, from), nodeSK(level, through), true, func(items []map[string]types.AttributeValue) error {
		for _, it := range items {
			var n node
			if err := attributevalue.UnmarshalMap(it, &n); err != nil {
				return fmt.Errorf("unmarshal node: %w", err)
			}
			nodes = append(nodes, n)
		}
		return nil
	})
	return nodes, err
}

// countEntries counts the entries with rank keys in [from, through].
func (s *Store) countEntries(ctx context.Context, pk, from, through string) (int64, error) {
	in := s.between(pk, entrySK(from), entrySK(through))
	in.Select = types.SelectCount
	var n int64
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("count entries: %w", err)
		}
		reqlog.AddRead(ctx, capacity(out.ConsumedCapacity)...)
		n += int64(out.Count)
		if out.LastEvaluatedKey == nil {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// between is a strongly consistent Query of partition pk for sort keys in [lo, hi], in
// ascending order; callers adjust it.
func (s *Store) between(pk, lo, hi string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk},
			":lo": &types.AttributeValueMemberS{Value: lo},
			":hi": &types.AttributeValueMemberS{Value: hi},
		},
		ConsistentRead:         aws.Bool(true),
		ReturnConsumedCapacity: total,
	}
}

// queryRange reads the items of partition pk with sort keys in [lo, hi], page by page.
func (s *Store) queryRange(ctx context.Context, pk, lo, hi string, forward bool, each func([]map[string]types.AttributeValue) error) error {
	in := s.between(pk, lo, hi)
	in.ScanIndexForward = aws.Bool(forward)
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("query %s..%s: %w", lo, hi, err)
		}
		reqlog.AddRead(ctx, capacity(out.ConsumedCapacity)...)
		if err := each(out.Items); err != nil {
			return err
		}
		if out.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
}

// maybeSplit splits the level-1 node of p if it has grown past leafSplitAt, and then
// any node above that has too many children. It is best effort: a split that loses a
// race is simply left to the next write that finds the node too big.
func (s *Store) maybeSplit(ctx context.Context, p path) error {
	n, err := s.getNode(ctx, p[0])
	if err != nil || n.Count <= s.shape.leafSplitAt {
		return err
	}
	parent, err := s.splitLeaf(ctx, n)
	for level := 2; err == nil && parent != nil && level <= levels; level++ {
		if parent.Children+1 <= s.shape.nodeSplitAt {
			return nil
		}
		cur, gerr := s.getNode(ctx, *parent)
		if gerr != nil {
			return gerr
		}
		parent, err = s.splitNode(ctx, level, cur)
	}
	return err
}

// getNode re-reads a node with a serializable GetItem: a split must see the node as of
// a point after every transaction that touched it has fully committed, so that the
// Query that follows sees all of their writes below it.
func (s *Store) getNode(ctx context.Context, n node) (node, error) {
	raw, err := s.getItem(ctx, n.PK, n.SK)
	if err != nil {
		return node{}, fmt.Errorf("get node: %w", err)
	}
	var cur node
	if raw == nil {
		return node{PK: n.PK, SK: n.SK}, nil
	}
	if err := attributevalue.UnmarshalMap(raw, &cur); err != nil {
		return node{}, fmt.Errorf("unmarshal node: %w", err)
	}
	return cur, nil
}

// upperBound returns the lower bound of the node after n on its level, or "" if n is
// the last. Keys are hex and base32, so "~" sorts after every one of them.
func (s *Store) upperBound(ctx context.Context, level int, n node) (string, error) {
	var next string
	err := s.queryRange(ctx, n.PK, n.SK+"\x00", nodeSK(level, "~"), true, func(items []map[string]types.AttributeValue) error {
		if next == "" && len(items) > 0 {
			var m node
			if err := attributevalue.UnmarshalMap(items[0], &m); err != nil {
				return err
			}
			next = m.lower(level)
		}
		return nil
	})
	return next, err
}

// splitLeaf splits a level-1 node at its median entry. The condition on Ver holds
// only if no entry in its range changed since getNode (every entry move touches its
// level-1 node), so the entry count it read is exact. It returns the level-2 parent,
// which gained a child.
func (s *Store) splitLeaf(ctx context.Context, n node) (*node, error) {
	lower := n.lower(1)
	upper, err := s.upperBound(ctx, 1, n)
	if err != nil {
		return nil, err
	}
	hi := "~"
	if upper != "" {
		hi = upper
	}
	var keys []string
	err = s.queryRange(ctx, n.PK, entrySK(lower), entrySK(hi), true, func(items []map[string]types.AttributeValue) error {
		for _, it := range items {
			k := strings.TrimPrefix(it["SK"].(*types.AttributeValueMemberS).Value, entrySK(""))
			if upper == "" || k < upper {
				keys = append(keys, k)
			}
		}
		return nil
	})
	if err != nil || int64(len(keys)) <= s.shape.leafSplitAt {
		return nil, err
	}
	mid := keys[len(keys)/2]
	moved := int64(len(keys) - len(keys)/2)
	parent, err := s.nodeAt(ctx, n.PK, 2, mid, true)
	if err != nil {
		return nil, err
	}
	newNode, err := attributevalue.MarshalMap(node{PK: n.PK, SK: nodeSK(1, mid), Count: moved})
	if err != nil {
		return nil, err
	}
	err = s.transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: newNode, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		s.shrinkUpdate(n, moved, 0),
		s.adoptUpdate(parent),
	})
	if cancelReasons(err) != nil {
		return nil, nil // lost a race: the next write retries
	}
	return &parent, err
}

// splitNode splits a node above level 1 at its median child. Besides its own Ver, it
// checks the Ver of every child it moves, since a move between two children changes
// their counts without changing the node's.
func (s *Store) splitNode(ctx context.Context, level int, n node) (*node, error) {
	upper, err := s.upperBound(ctx, level, n)
	if err != nil {
		return nil, err
	}
	hi := "~"
	if upper != "" {
		hi = upper
	}
	all, err := s.queryNodes(ctx, n.PK, level-1, n.lower(level), hi)
	if err != nil {
		return nil, err
	}
	var children []node
	for _, c := range all {
		if upper == "" || c.lower(level-1) < upper {
			children = append(children, c)
		}
	}
	if int64(len(children)) <= s.shape.nodeSplitAt {
		return nil, nil
	}
	movedNodes := children[len(children)/2:]
	mid := movedNodes[0].lower(level - 1)
	var moved int64
	for _, c := range movedNodes {
		moved += c.Count
	}
	newNode, err := attributevalue.MarshalMap(node{PK: n.PK, SK: nodeSK(level, mid), Count: moved, Children: int64(len(movedNodes))})
	if err != nil {
		return nil, err
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: newNode, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		s.shrinkUpdate(n, moved, int64(len(movedNodes))),
	}
	for _, c := range movedNodes {
		items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName:                 &s.table,
			Key:                       key(c.PK, c.SK),
			ConditionExpression:       aws.String("ver = :ver"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":ver": number(c.Ver)},
		}})
	}
	var parent *node
	if level < levels {
		p, err := s.nodeAt(ctx, n.PK, level+1, mid, true)
		if err != nil {
			return nil, err
		}
		parent = &p
		items = append(items, s.adoptUpdate(p))
	}
	err = s.transact(ctx, items)
	if cancelReasons(err) != nil {
		return nil, nil
	}
	return parent, err
}

// shrinkUpdate takes the upper part of its range (and its entries) away from a node that
// splits. The new Gen makes every in-flight write that looked the node up try again.
func (s *Store) shrinkUpdate(n node, moved, movedChildren int64) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                &s.table,
		Key:                      key(n.PK, n.SK),
		UpdateExpression:         aws.String("ADD #count :neg, children :negChildren, ver :one, gen :one"),
		ConditionExpression:      aws.String("ver = :ver"),
		ExpressionAttributeNames: map[string]string{"#count": "count"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":neg": number(-moved), ":negChildren": number(-movedChildren), ":one": number(1), ":ver": number(n.Ver),
		},
	}}
}

// adoptUpdate counts a new child into its parent.
func (s *Store) adoptUpdate(parent node) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 &s.table,
		Key:                       key(parent.PK, parent.SK),
		UpdateExpression:          aws.String("ADD children :one"),
		ConditionExpression:       aws.String("gen = :gen"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": number(1), ":gen": number(parent.Gen)},
	}}
}
