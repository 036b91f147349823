package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/ranktree"
)

// BoardCheck is what CheckBoard found on one board.
type BoardCheck struct {
	Version  int64    // the HEAD version checked
	Entries  int      // keys in the rank tree
	Problems []string // empty when the board is sound
	Busy     bool     // the board never stood still long enough to be checked
}

// Sound reports whether the check found the board whole.
func (c BoardCheck) Sound() bool { return !c.Busy && len(c.Problems) == 0 }

// quietWait is how long a check waits, after seeing something amiss at one version, to
// read again: longer than any transaction takes to become visible everywhere.
const quietWait = 250 * time.Millisecond

// CheckBoard verifies one board: its rank tree keeps every invariant of package
// ranktree (counts, bounds, sizes, stamps), and the tree, the scored members and the
// entries name the same teams at the same keys. Members and entries are read with
// Query, which may show part of a commit, so a disagreement counts only if it is still
// there at the same HEAD version after quietWait. A board that keeps changing is
// reported Busy after a few tries.
func (s *Store) CheckBoard(ctx context.Context, tenant, boardID string) (BoardCheck, error) {
	b, err := s.board(ctx, tenant, boardID)
	if err != nil {
		return BoardCheck{}, err
	}
	var last BoardCheck
	for try := 0; try < 5; try++ {
		c, err := s.checkOnce(ctx, b)
		if err != nil {
			return BoardCheck{}, err
		}
		if c.Sound() {
			return c, nil
		}
		if !c.Busy && last.Version == c.Version && slices.Equal(last.Problems, c.Problems) {
			return c, nil // the same problems twice at one version: real
		}
		last = c
		if err := sleep(ctx, quietWait); err != nil {
			return BoardCheck{}, err
		}
	}
	last.Busy = true
	return last, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// checkOnce compares the tree, members and entries once; Busy if HEAD moved meanwhile.
func (s *Store) checkOnce(ctx context.Context, b board) (BoardCheck, error) {
	var c BoardCheck
	var treeKeys []string
	err := s.readView(ctx, b, func(v *view) error {
		c = BoardCheck{Version: v.head.Ver}
		treeKeys = treeKeys[:0]
		err := v.tree.Check(ctx, func(k string) { treeKeys = append(treeKeys, rankKeyOf(k)) })
		if errors.Is(err, ranktree.ErrCorrupt) {
			c.Problems = append(c.Problems, err.Error())
			// Still compare the keys the leaves hold.
			treeKeys = treeKeys[:0]
			return s.leafKeys(ctx, v, func(k string) { treeKeys = append(treeKeys, rankKeyOf(k)) }, nil)
		}
		return err
	})
	if err != nil {
		return BoardCheck{}, err
	}
	c.Entries = len(treeKeys)
	members, err := s.memberKeys(ctx, b)
	if err != nil {
		return BoardCheck{}, err
	}
	entries, err := s.entryKeys(ctx, b.pk)
	if err != nil {
		return BoardCheck{}, err
	}
	inTree := map[string]bool{}
	for _, k := range treeKeys {
		inTree[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(members)) {
		if !inTree[k] {
			c.Problems = append(c.Problems, fmt.Sprintf("team %s scored at %s is not in the tree", members[k], k))
		}
	}
	for _, k := range treeKeys {
		if _, ok := members[k]; !ok {
			c.Problems = append(c.Problems, fmt.Sprintf("tree key %s belongs to no member", k))
		}
		if !entries[k] {
			c.Problems = append(c.Problems, fmt.Sprintf("tree key %s has no entry", k))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		if !inTree[k] {
			c.Problems = append(c.Problems, fmt.Sprintf("entry %s is not in the tree", k))
		}
	}
	h, err := s.readHead(ctx, b.pk)
	if err != nil {
		return BoardCheck{}, err
	}
	if h.Ver != c.Version {
		c.Busy = true
	}
	return c, nil
}

// leafKeys walks every leaf of the view's tree, ignoring counts, and calls fn with each
// key in order; ids, if not nil, gets the ID of every stored node.
func (s *Store) leafKeys(ctx context.Context, v *view, fn func(string), ids func(ranktree.ID)) error {
	r, err := v.head.root()
	if err != nil {
		return err
	}
	l := nodes{s: s, pk: v.b.pk}
	var walk func(n ranktree.Node) error
	walk = func(n ranktree.Node) error {
		if n.Leaf {
			for _, k := range n.Keys {
				fn(k)
			}
			return nil
		}
		for _, c := range n.Children {
			child, err := l.Load(ctx, c.ID, c.Stamp)
			if err != nil {
				return err
			}
			if ids != nil {
				ids(c.ID)
			}
			if err := walk(child); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(r.Node)
}

// memberKeys returns the rank key of every scored member, to its team id.
func (s *Store) memberKeys(ctx context.Context, b board) (map[string]string, error) {
	out := map[string]string{}
	err := s.queryRange(ctx, b.pk, memberSK(""), memberSK("~"), true, func(items []map[string]types.AttributeValue) error {
		for _, it := range items {
			var m memberItem
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				return err
			}
			if m.Score != nil {
				out[b.key(m)] = m.TeamID
			}
		}
		return nil
	})
	return out, err
}

func (s *Store) entryKeys(ctx context.Context, pk string) (map[string]bool, error) {
	out := map[string]bool{}
	err := s.queryRange(ctx, pk, entrySK(""), entrySK("~"), true, func(items []map[string]types.AttributeValue) error {
		for _, it := range items {
			out[strings.TrimPrefix(it["SK"].(*types.AttributeValueMemberS).Value, entrySK(""))] = true
		}
		return nil
	})
	return out, err
}

// repairLockTTL is how long a repair keeps writers out while it rebuilds the tree.
const repairLockTTL = 10 * time.Second

// RepairBoard rebuilds a board's rank tree online and makes the tree, members and
// entries agree again. Submits wait while it works (HEAD's lock) and lose nothing:
//
//  1. One commit locks the board, as a batch does, with an empty LOG.
//  2. Every leaf of the tree is read at that version, and a new tree with correct counts
//     is built from their keys, under new node IDs, and written. Nothing refers to it yet.
//  3. One commit, on condition that HEAD is still at the locking version, points HEAD at
//     the new root and releases the lock; then the old nodes are deleted. If the lock
//     expired and someone else moved the board on, the new nodes are deleted instead and
//     the repair starts again.
//  4. Each team on which the tree, its member and its entry disagree is fixed in a
//     board commit of its own, conditioned on the member's ver: the member is the truth.
//
// It returns the check made afterwards.
func (s *Store) RepairBoard(ctx context.Context, tenant, boardID string) (BoardCheck, error) {
	b, err := s.board(ctx, tenant, boardID)
	if err != nil {
		return BoardCheck{}, err
	}
	for try := 0; ; try++ {
		err := s.rebuildTree(ctx, b)
		if err == nil {
			break
		}
		if !retryable(err) || try == 5 {
			return BoardCheck{}, fmt.Errorf("rebuild tree: %w", err)
		}
		if err := backoff(ctx, try+4); err != nil {
			return BoardCheck{}, err
		}
	}
	if err := s.reconcile(ctx, b); err != nil {
		return BoardCheck{}, err
	}
	return s.CheckBoard(ctx, tenant, boardID)
}

func (s *Store) rebuildTree(ctx context.Context, b board) error {
	// 1. Lock.
	lock, err := s.commitBoard(ctx, b, func(ctx context.Context, c *commit) error {
		item, err := s.logPut(c, &batchLog{})
		c.add(item)
		c.lockUntil = time.Now().Add(repairLockTTL).UnixMilli()
		return err
	})
	if err != nil {
		return err
	}
	// 2. Read every leaf at the locked version and build anew.
	v := lock.view
	r, err := v.head.root()
	if err != nil {
		return err
	}
	v.tree = ranktree.Open(r, uint64(v.head.Ver)+1, nodes{s: s, pk: b.pk}, s.shape)
	var keys []string
	var old []ranktree.ID
	if err := s.leafKeys(ctx, v, func(k string) { keys = append(keys, k) }, func(id ranktree.ID) { old = append(old, id) }); err != nil {
		return err
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	stamp := uint64(v.head.Ver) + 1
	root, built := ranktree.Build(keys, stamp, s.shape)
	// Build numbers nodes from 1; shift them past every ID in use.
	shift := ranktree.ID(v.head.Next) - 1
	fresh := make([]map[string]types.AttributeValue, 0, len(built))
	var freshIDs []ranktree.ID
	for id, n := range built {
		for i := range n.Children {
			n.Children[i].ID += shift
		}
		freshIDs = append(freshIDs, id+shift)
		fresh = append(fresh, nodeItem(b.pk, id+shift, n))
	}
	for i := range root.Node.Children {
		root.Node.Children[i].ID += shift
	}
	root.Next += shift
	if err := s.putAll(ctx, fresh); err != nil {
		return err
	}
	// 3. Point HEAD at the new tree and release the board.
	c := &commit{view: v, idem: -1}
	c.tree = ranktree.Open(root, stamp, nodes{s: s, pk: b.pk}, s.shape)
	c.add(types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(b.pk, batchLogSK())}})
	err = s.writeCommit(ctx, c)
	gone := old
	if err != nil {
		gone = freshIDs
	}
	if derr := s.deleteNodes(ctx, b.pk, gone); derr != nil && err == nil {
		err = derr
	}
	return err
}

func nodeItem(pk string, id ranktree.ID, n ranktree.Node) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: nodeSK(uint64(id))},
		"type": &types.AttributeValueMemberS{Value: "node"}, "node": &types.AttributeValueMemberB{Value: ranktree.Encode(n)},
	}
}

func (s *Store) deleteNodes(ctx context.Context, pk string, ids []ranktree.ID) error {
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = key(pk, nodeSK(uint64(id)))
	}
	return s.deleteAll(ctx, keys)
}

// reconcile fixes every team whose member, tree key and entry disagree, taking the
// member as the truth, one board commit per team.
func (s *Store) reconcile(ctx context.Context, b board) error {
	var treeKeys []string
	err := s.readView(ctx, b, func(v *view) error {
		treeKeys = treeKeys[:0]
		return s.leafKeys(ctx, v, func(k string) { treeKeys = append(treeKeys, rankKeyOf(k)) }, nil)
	})
	if err != nil {
		return err
	}
	members, err := s.memberKeys(ctx, b)
	if err != nil {
		return err
	}
	entries, err := s.entryKeys(ctx, b.pk)
	if err != nil {
		return err
	}
	suspects := map[string][]string{} // team -> keys seen for it anywhere
	for _, k := range treeKeys {
		if _, ok := members[k]; !ok || !entries[k] {
			suspects[rankKeyTeam(k)] = append(suspects[rankKeyTeam(k)], k)
		}
	}
	inTree := map[string]bool{}
	for _, k := range treeKeys {
		inTree[k] = true
	}
	for k, team := range members {
		if !inTree[k] || !entries[k] {
			suspects[team] = append(suspects[team], k)
		}
	}
	for k := range entries {
		if !inTree[k] {
			suspects[rankKeyTeam(k)] = append(suspects[rankKeyTeam(k)], k)
		}
	}
	for _, team := range slices.Sorted(maps.Keys(suspects)) {
		if err := s.reconcileTeam(ctx, b, team, suspects[team]); err != nil {
			return fmt.Errorf("reconcile team %s: %w", team, err)
		}
	}
	return nil
}

// reconcileTeam makes the tree and the entries hold exactly the member's key for team
// (or nothing, if it has no score or is no member), given the keys seen for it.
func (s *Store) reconcileTeam(ctx context.Context, b board, team string, seen []string) error {
	_, err := s.commitBoard(ctx, b, func(ctx context.Context, c *commit) error {
		m, err := s.getMember(ctx, b.pk, team)
		want := ""
		switch {
		case errors.Is(err, ErrTeamNotFound):
			c.add(types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
				TableName: &s.table, Key: key(b.pk, memberSK(team)), ConditionExpression: aws.String("attribute_not_exists(PK)"),
			}})
		case err != nil:
			return err
		default:
			c.add(types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
				TableName: &s.table, Key: key(b.pk, memberSK(team)), ConditionExpression: aws.String("ver = :ver"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":ver": number(m.Ver)},
			}})
			if m.Score != nil {
				want = b.key(m)
			}
		}
		for _, k := range slices.Compact(slices.Sorted(slices.Values(seen))) {
			if k == want {
				continue
			}
			if found, err := c.tree.Contains(ctx, treeKey(k)); err != nil {
				return err
			} else if found {
				if err := c.tree.Delete(ctx, treeKey(k)); err != nil {
					return err
				}
			}
			c.add(types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(b.pk, entrySK(k))}})
		}
		if want == "" {
			return nil
		}
		if found, err := c.tree.Contains(ctx, treeKey(want)); err != nil {
			return err
		} else if !found {
			if err := c.tree.Insert(ctx, treeKey(want)); err != nil {
				return err
			}
		}
		entry, err := attributevalue.MarshalMap(entryItem{
			PK: b.pk, SK: entrySK(want), Type: "entry", TeamID: team, TeamName: m.TeamName, Score: *m.Score, UpdatedAt: m.UpdatedAt,
		})
		c.add(types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: entry}})
		return err
	})
	return err
}
