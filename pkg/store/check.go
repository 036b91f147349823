package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/ranktree"
)

// BoardCheck is what CheckBoard found on one board.
type BoardCheck struct {
	Version  int64    // the HEAD version whose tree was checked
	Entries  int      // keys in the rank tree
	Problems []string // empty when the board is sound
}

// Sound reports whether the check found the board whole.
func (c BoardCheck) Sound() bool { return len(c.Problems) == 0 }

// quietWait is how long a check waits before it looks again at a team that seemed amiss:
// longer than any transaction takes to become visible everywhere.
const quietWait = 250 * time.Millisecond

// maxSuspects bounds how many teams one check looks at one by one.
const maxSuspects = 200

// CheckBoard verifies one board, while it is in use:
//
//  1. Its rank tree, read as one version (stamps), keeps every invariant of package
//     ranktree: counts, bounds, sizes. A broken invariant is a problem at once.
//  2. The tree and the scored members name the same teams at the same keys. Members are
//     listed with Query, which may show part of a commit, so a team that seems amiss is
//     looked at again alone (its member, its keys in a fresh version of the tree), and
//     again after quietWait; only what is still wrong then is a problem.
func (s *Store) CheckBoard(ctx context.Context, tenant, boardID string) (BoardCheck, error) {
	b, err := s.board(ctx, tenant, boardID)
	if err != nil {
		return BoardCheck{}, err
	}
	var c BoardCheck
	var treeKeys []string
	err = s.readView(ctx, b, func(v *view) error {
		c = BoardCheck{Version: v.head.Ver}
		treeKeys = treeKeys[:0]
		err := v.tree.Check(ctx, func(k string) { treeKeys = append(treeKeys, rankKeyOf(k)) })
		if errors.Is(err, ranktree.ErrCorrupt) {
			c.Problems = append(c.Problems, err.Error())
			treeKeys = treeKeys[:0] // still compare the keys the leaves hold
			return s.leafKeys(ctx, v, func(k, _ string) { treeKeys = append(treeKeys, rankKeyOf(k)) }, nil)
		}
		return err
	})
	if err != nil {
		return BoardCheck{}, err
	}
	c.Entries = len(treeKeys)
	suspects, err := s.suspects(ctx, b, treeKeys)
	if err != nil {
		return BoardCheck{}, err
	}
	teams := slices.Sorted(maps.Keys(suspects))
	for round := 0; round < 2 && len(teams) > 0; round++ {
		if err := sleep(ctx, quietWait); err != nil {
			return BoardCheck{}, err
		}
		var still []string
		for _, team := range teams[:min(len(teams), maxSuspects)] {
			problem, err := s.checkTeam(ctx, b, team, suspects[team])
			if err != nil {
				return BoardCheck{}, err
			}
			if problem != "" {
				still = append(still, team)
				if round == 1 {
					c.Problems = append(c.Problems, problem)
				}
			}
		}
		teams = still
	}
	return c, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// suspects lists the teams on which the tree keys and the scored members, as listed,
// disagree, with every key seen for each.
func (s *Store) suspects(ctx context.Context, b board, treeKeys []string) (map[string][]string, error) {
	members, err := s.memberKeys(ctx, b)
	if err != nil {
		return nil, err
	}
	inTree := map[string]bool{}
	for _, k := range treeKeys {
		inTree[k] = true
	}
	out := map[string][]string{}
	for _, k := range treeKeys {
		if _, ok := members[k]; !ok {
			out[rankKeyTeam(k)] = append(out[rankKeyTeam(k)], k)
		}
	}
	for k, team := range members {
		if !inTree[k] {
			out[team] = append(out[team], k)
		}
	}
	return out, nil
}

// checkTeam looks at one team alone: its member, and each key seen for it, in one
// version of the tree. It returns what is wrong, or "".
func (s *Store) checkTeam(ctx context.Context, b board, team string, seen []string) (string, error) {
	var problem string
	err := s.readView(ctx, b, func(v *view) error {
		problem = ""
		m, err := s.getMember(ctx, b.pk, team)
		want := ""
		switch {
		case errors.Is(err, ErrTeamNotFound):
		case err != nil:
			return err
		case m.Score != nil:
			want = b.key(m)
		}
		for _, k := range slices.Compact(slices.Sorted(slices.Values(append(seen, want)))) {
			if k == "" {
				continue
			}
			inTree, err := v.tree.Contains(ctx, treeKey(k))
			if err != nil {
				return err
			}
			switch {
			case k == want && !inTree:
				problem = fmt.Sprintf("team %s scored at %s is not in the tree", team, k)
			case k != want && inTree:
				problem = fmt.Sprintf("tree key %s is not where team %s is", k, team)
			}
		}
		// The member moved after the view was read: look at a newer version.
		if h, err := s.readHead(ctx, b.pk); err == nil && h.Ver != v.head.Ver && problem != "" {
			return ranktree.ErrStale
		}
		return nil
	})
	return problem, err
}

// leafKeys walks every leaf of the view's tree, ignoring counts, and calls fn with each
// key and its value in order; ids, if not nil, gets the ID of every stored node.
func (s *Store) leafKeys(ctx context.Context, v *view, fn func(key, value string), ids func(ranktree.ID)) error {
	r, err := v.head.root()
	if err != nil {
		return err
	}
	l := nodes{s: s, pk: v.b.pk}
	var walk func(n ranktree.Node) error
	walk = func(n ranktree.Node) error {
		if n.Leaf {
			for i, k := range n.Keys {
				fn(k, n.Values[i])
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
	for shard := range memberShards {
		err := s.queryRange(ctx, memberShardPK(b.pk, shard), memberSK(""), memberSK("~"), true, func(items []map[string]types.AttributeValue) error {
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
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkEvery samples one commit in this many for the scheduled check: a board's first
// commit, and every checkEvery-th after it, records the board in the hour's CHECK
// partition, in the commit's own transaction.
const checkEvery = 64

// checkTTL is how long a board stays in the sample.
const checkTTL = 48 * time.Hour

func (s *Store) sampleForCheck(b board) types.TransactWriteItem {
	now := s.now()
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: checkPK(now)}, "SK": &types.AttributeValueMemberS{Value: checkSK(b.tenant, b.id)},
		"type": &types.AttributeValueMemberS{Value: "checksample"}, "tenant": &types.AttributeValueMemberS{Value: b.tenant},
		"board": &types.AttributeValueMemberS{Value: b.id}, "expiresAt": number(now.Add(checkTTL).Unix()),
	}}}
}

// BoardRef names a tenant's board.
type BoardRef struct{ Tenant, Board string }

// SampledBoards returns up to limit boards written in the hour of since and the hours
// after it, up to now: the sample the scheduled check verifies.
func (s *Store) SampledBoards(ctx context.Context, since time.Time, limit int) ([]BoardRef, error) {
	var out []BoardRef
	for hour := since.UTC().Truncate(time.Hour); !hour.After(s.now()) && len(out) < limit; hour = hour.Add(time.Hour) {
		err := s.queryRange(ctx, checkPK(hour), " ", "~", true, func(items []map[string]types.AttributeValue) error {
			for _, it := range items {
				t, _ := it["tenant"].(*types.AttributeValueMemberS)
				b, _ := it["board"].(*types.AttributeValueMemberS)
				if t != nil && b != nil && len(out) < limit {
					out = append(out, BoardRef{Tenant: t.Value, Board: b.Value})
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read check sample: %w", err)
		}
	}
	return out, nil
}

// repairLockTTL is how long a repair keeps writers out while it rebuilds the tree.
const repairLockTTL = 10 * time.Second

// RepairBoard rebuilds a board's rank tree online and makes the tree and the members
// agree again. Submits wait while it works (HEAD's lock) and lose nothing:
//
//  1. One commit locks the board, as a batch does, with an empty LOG.
//  2. Every leaf of the tree is read at that version, and a new tree with correct counts
//     is built from their keys, under new node IDs, and written. Nothing refers to it yet.
//  3. One commit, on condition that HEAD is still at the locking version, points HEAD at
//     the new root and releases the lock; then the old nodes are deleted. If the lock
//     expired and someone else moved the board on, the new nodes are deleted instead and
//     the repair starts again.
//  4. Each team on which the tree and its member disagree is fixed in a
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
	names := map[string]string{}
	var old []ranktree.ID
	if err := s.leafKeys(ctx, v, func(k, name string) { names[k] = name }, func(id ranktree.ID) { old = append(old, id) }); err != nil {
		return err
	}
	keys := slices.Sorted(maps.Keys(names))
	values := make([]string, len(keys))
	for i, k := range keys {
		values[i] = names[k]
	}
	stamp := uint64(v.head.Ver) + 1
	root, built := ranktree.Build(keys, values, stamp, s.shape)
	// Build numbers nodes from 1; shift them far past every ID in use, so that they never
	// meet the IDs commits hand out meanwhile if the lock lapses before this commits.
	shift := ranktree.ID(v.head.Next) + 1<<40
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
	switch {
	case err == nil:
		return s.deleteNodes(ctx, b.pk, old)
	case cancelReasons(err) != nil:
		// Certainly not applied: the new nodes are nobody's.
		s.deleteNodes(ctx, b.pk, freshIDs)
	}
	// Otherwise it may have been applied: leave both trees' nodes; the next repair or
	// check sees which is live.
	return err
}

// nodeItem is a stored tree node of the board whose partition is boardPK.
func nodeItem(boardPK string, id ranktree.ID, n ranktree.Node) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: nodePK(boardPK, uint64(id))}, "SK": &types.AttributeValueMemberS{Value: nodeSK(uint64(id))},
		"type": &types.AttributeValueMemberS{Value: "node"}, "node": &types.AttributeValueMemberB{Value: ranktree.Encode(n)},
	}
}

func (s *Store) deleteNodes(ctx context.Context, pk string, ids []ranktree.ID) error {
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = key(nodePK(pk, uint64(id)), nodeSK(uint64(id)))
	}
	return s.deleteAll(ctx, keys)
}

// reconcile fixes every team whose member and tree keys disagree, taking the
// member as the truth, one board commit per team.
func (s *Store) reconcile(ctx context.Context, b board) error {
	var treeKeys []string
	err := s.readView(ctx, b, func(v *view) error {
		treeKeys = treeKeys[:0]
		return s.leafKeys(ctx, v, func(k, _ string) { treeKeys = append(treeKeys, rankKeyOf(k)) }, nil)
	})
	if err != nil {
		return err
	}
	suspects, err := s.suspects(ctx, b, treeKeys)
	if err != nil {
		return err
	}
	for _, team := range slices.Sorted(maps.Keys(suspects)) {
		if err := s.reconcileTeam(ctx, b, team, suspects[team]); err != nil {
			return fmt.Errorf("reconcile team %s: %w", team, err)
		}
	}
	return nil
}

// reconcileTeam makes the tree hold exactly the member's key for team
// (or nothing, if it has no score or is no member), given the keys seen for it.
func (s *Store) reconcileTeam(ctx context.Context, b board, team string, seen []string) error {
	_, err := s.commitBoard(ctx, b, func(ctx context.Context, c *commit) error {
		m, err := s.getMember(ctx, b.pk, team)
		want := ""
		switch {
		case errors.Is(err, ErrTeamNotFound):
			c.add(types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
				TableName: &s.table, Key: key(memberPK(b.pk, team), memberSK(team)), ConditionExpression: aws.String("attribute_not_exists(PK)"),
			}})
		case err != nil:
			return err
		default:
			c.add(types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
				TableName: &s.table, Key: key(memberPK(b.pk, team), memberSK(team)), ConditionExpression: aws.String("ver = :ver"),
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
		}
		if want == "" {
			return nil
		}
		if found, err := c.tree.Contains(ctx, treeKey(want)); err != nil {
			return err
		} else if !found {
			return c.tree.Insert(ctx, treeKey(want), m.TeamName)
		}
		return nil
	})
	return err
}
