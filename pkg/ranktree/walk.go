package ranktree

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Ascend calls fn with every key >= from and its value, in order, until fn returns false.
func (t *Tree) Ascend(ctx context.Context, from string, fn func(key, value string) bool) error {
	_, err := t.ascend(ctx, t.root, from, fn)
	return err
}

func (t *Tree) ascend(ctx context.Context, n *Node, from string, fn func(string, string) bool) (bool, error) {
	if n.Leaf {
		i, _ := slices.BinarySearch(n.Keys, from)
		for j := i; j < len(n.Keys); j++ {
			if !fn(n.Keys[j], n.Values[j]) {
				return false, nil
			}
		}
		return true, nil
	}
	for i := n.route(from); i < len(n.Children); i++ {
		c, err := t.child(ctx, n.Children[i])
		if err != nil {
			return false, err
		}
		if more, err := t.ascend(ctx, c, from, fn); !more || err != nil {
			return false, err
		}
	}
	return true, nil
}

// Descend calls fn with every key < before and its value, in reverse order, until fn
// returns false.
func (t *Tree) Descend(ctx context.Context, before string, fn func(key, value string) bool) error {
	_, err := t.descendFrom(ctx, t.root, before, fn)
	return err
}

func (t *Tree) descendFrom(ctx context.Context, n *Node, before string, fn func(string, string) bool) (bool, error) {
	if n.Leaf {
		i, _ := slices.BinarySearch(n.Keys, before)
		for j := i - 1; j >= 0; j-- {
			if !fn(n.Keys[j], n.Values[j]) {
				return false, nil
			}
		}
		return true, nil
	}
	for i := n.route(before); i >= 0; i-- {
		c, err := t.child(ctx, n.Children[i])
		if err != nil {
			return false, err
		}
		if more, err := t.descendFrom(ctx, c, before, fn); !more || err != nil {
			return false, err
		}
	}
	return true, nil
}

// Check reads the whole tree, verifies every invariant of the package doc, and calls fn
// with every key in order. A broken invariant is an error wrapping ErrCorrupt; a node
// that changed during the walk is ErrStale.
func (t *Tree) Check(ctx context.Context, fn func(key string)) error {
	if !t.root.Leaf && len(t.root.Children) < 2 {
		return fmt.Errorf("root has %d children: %w", len(t.root.Children), ErrCorrupt)
	}
	leafDepth := -1
	var walk func(n *Node, lo, hi string, depth int, root bool) (int64, error)
	walk = func(n *Node, lo, hi string, depth int, root bool) (int64, error) {
		if !root && n.size() == 0 {
			return 0, fmt.Errorf("node at depth %d is empty: %w", depth, ErrCorrupt)
		}
		if n.Leaf {
			if leafDepth >= 0 && depth != leafDepth {
				return 0, fmt.Errorf("leaves at depths %d and %d: %w", leafDepth, depth, ErrCorrupt)
			}
			leafDepth = depth
			for i, k := range n.Keys {
				if k < lo || (hi != "" && k >= hi) || (i > 0 && k <= n.Keys[i-1]) {
					return 0, fmt.Errorf("key %q out of order or outside [%q, %q): %w", k, lo, hi, ErrCorrupt)
				}
				fn(k)
			}
			return int64(len(n.Keys)), nil
		}
		var total int64
		prev := lo
		for i, c := range n.Children {
			clo, chi := c.Lower, hi
			if i == 0 {
				clo = lo
			} else if c.Lower <= prev {
				return 0, fmt.Errorf("bound %q not above %q: %w", c.Lower, prev, ErrCorrupt)
			}
			prev = clo
			if i+1 < len(n.Children) {
				chi = n.Children[i+1].Lower
			}
			if hi != "" && clo >= hi {
				return 0, fmt.Errorf("bound %q at or above %q: %w", clo, hi, ErrCorrupt)
			}
			child, err := t.child(ctx, c)
			if err != nil {
				return 0, err
			}
			got, err := walk(child, clo, chi, depth+1, false)
			if err != nil {
				return 0, err
			}
			if got != c.Count {
				return 0, fmt.Errorf("node %d records %d keys, holds %d: %w", c.ID, c.Count, got, ErrCorrupt)
			}
			total += got
		}
		return total, nil
	}
	_, err := walk(t.root, "", "", 0, true)
	return err
}

// Build makes a tree of keys (sorted and unique) with values (one per key, or nil),
// with leaves and inner nodes filled to three quarters, every node stamped stamp. It
// returns the root and the nodes to store.
func Build(keys, values []string, stamp uint64, shape Shape) (Root, map[ID]Node) {
	if values == nil {
		values = make([]string, len(keys))
	}
	nodes := map[ID]Node{}
	next := ID(1)
	level := chunk(len(keys), shape.max(true)*3/4, shape.min(true))
	var recs []Child
	var leaves []Node
	at := 0
	for _, n := range level {
		leaves = append(leaves, Node{Leaf: true, Stamp: stamp, Keys: slices.Clone(keys[at : at+n]), Values: slices.Clone(values[at : at+n])})
		at += n
	}
	if len(leaves) <= 1 {
		root := Node{Leaf: true, Keys: slices.Clone(keys), Values: slices.Clone(values)}
		return Root{Node: root, Next: next}, nodes
	}
	for _, l := range leaves {
		nodes[next] = l
		recs = append(recs, Child{Lower: l.lower(), Count: l.count(), ID: next, Stamp: stamp})
		next++
	}
	for {
		sizes := chunk(len(recs), shape.max(false)*3/4, shape.min(false))
		if len(sizes) <= 1 {
			recs[0].Lower = ""
			return Root{Node: Node{Children: recs}, Next: next}, nodes
		}
		var up []Child
		at := 0
		for _, n := range sizes {
			group := slices.Clone(recs[at : at+n])
			at += n
			inner := Node{Stamp: stamp, Children: group}
			nodes[next] = inner
			up = append(up, Child{Lower: group[0].Lower, Count: inner.count(), ID: next, Stamp: stamp})
			next++
		}
		recs = up
	}
}

// chunk splits n items into groups of about fill, none smaller than least (unless n is).
func chunk(n, fill, least int) []int {
	fill = max(fill, least, 1)
	var sizes []int
	for n > 0 {
		k := min(fill, n)
		sizes = append(sizes, k)
		n -= k
	}
	if len(sizes) > 1 && sizes[len(sizes)-1] < least {
		last := sizes[len(sizes)-1]
		sizes = sizes[:len(sizes)-1]
		sizes[len(sizes)-1] += last
	}
	return sizes
}

// Prefetch reads, in parallel, every node on the paths from the root to keys that is not
// read yet, one level at a time, so that the operations on those keys that follow read
// nothing more. The Loader must then be safe for concurrent use.
func (t *Tree) Prefetch(ctx context.Context, keys []string) error {
	at := make([]*Node, len(keys))
	for i := range at {
		at[i] = t.root
	}
	for {
		need := map[ID]Child{}
		for i, n := range at {
			if n == nil || n.Leaf {
				at[i] = nil
				continue
			}
			c := n.Children[n.route(keys[i])]
			if _, ok := t.nodes[c.ID]; !ok {
				need[c.ID] = c
			}
		}
		if len(need) == 0 && !slices.ContainsFunc(at, func(n *Node) bool { return n != nil }) {
			return nil
		}
		loaded := make(map[ID]Node, len(need))
		var mu sync.Mutex
		var first error
		var wg sync.WaitGroup
		for _, c := range need {
			wg.Go(func() {
				n, err := t.load.Load(ctx, c.ID, c.Stamp)
				if err == nil && n.Stamp != c.Stamp {
					err = fmt.Errorf("node %d has stamp %d, its parent records %d: %w", c.ID, n.Stamp, c.Stamp, ErrStale)
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil && first == nil {
					first = err
				}
				loaded[c.ID] = n
			})
		}
		wg.Wait()
		if first != nil {
			return first
		}
		for id, n := range loaded {
			n = cloneNode(n)
			t.nodes[id] = &n
		}
		for i, n := range at {
			if n != nil {
				at[i] = t.nodes[n.Children[n.route(keys[i])].ID]
			}
		}
	}
}
