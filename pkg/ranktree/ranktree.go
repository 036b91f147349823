// Package ranktree is an order-statistic B+tree of string keys whose nodes are stored
// one to an item: it answers how many keys sort before a key, and walks keys in order,
// reading a bounded number of nodes whatever the number of keys. It knows nothing of
// DynamoDB or of leaderboards; a Loader fetches nodes, and Changes says what to write.
//
// Invariants (Check verifies every one of them):
//
//  1. A leaf holds its keys sorted and unique; an inner node holds child records
//     sorted by Lower, each with the child's ID, Count and Stamp.
//  2. A record's Count is the number of keys in the child's subtree.
//  3. Bounds: every key under child i (i > 0) is >= its Lower, and every key under
//     child i-1 is < child i's Lower. The first record's Lower is the node's own bound.
//  4. All leaves are at the same depth. The root is a leaf (possibly empty) or an inner
//     node with at least two children; every other node holds at least one key or child.
//     Insert and Delete keep each between the Shape's bounds, but those are a matter of
//     cost, not of correctness (and a Shape may change), so Check does not hold a tree
//     to them.
//  5. A record's Stamp equals the Stamp of the child as stored. Every change to a node
//     gives it a new, higher Stamp, and so changes every record above it up to the root.
//
// Invariant 5 is what lets a reader see one version of the tree with single-item reads
// alone: having read a parent, it reads a child and compares stamps. Equal stamps mean
// no write touched the child between the two reads (a write to the child rewrites the
// parent's record in the same atomic commit), so every node read along a walk from the
// root is as of the moment the root was read. A mismatch is ErrStale: start again from
// a fresh root. Stamps are the version of the commit that wrote the node; IDs are never
// reused, so a node's (ID, Stamp) names one content for ever and may be cached.
package ranktree

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// ID names a stored node. The root has no ID: it is stored with the tree's version.
type ID uint64

// Child is an inner node's record of one child.
type Child struct {
	Lower string
	Count int64
	ID    ID
	Stamp uint64
}

// Node is a leaf (Keys, and beside each key its Value) or an inner node (Children).
type Node struct {
	Leaf     bool
	Stamp    uint64
	Keys     []string
	Values   []string // a leaf's, one per key; small data a reader wants with the key
	Children []Child
}

func (n *Node) size() int {
	if n.Leaf {
		return len(n.Keys)
	}
	return len(n.Children)
}

func (n *Node) count() int64 {
	if n.Leaf {
		return int64(len(n.Keys))
	}
	var c int64
	for _, ch := range n.Children {
		c += ch.Count
	}
	return c
}

// lower is the node's first bound: its first key or its first child's Lower.
func (n *Node) lower() string {
	if n.Leaf {
		if len(n.Keys) == 0 {
			return ""
		}
		return n.Keys[0]
	}
	return n.Children[0].Lower
}

// route is the index of the child whose range holds key.
func (n *Node) route(key string) int {
	// The first child takes everything below the second's bound.
	i := sort.Search(len(n.Children)-1, func(i int) bool { return n.Children[i+1].Lower > key })
	return i
}

// Shape bounds the size of nodes. A node splits when it would hold more than Max keys
// or children, and merges with a neighbour when it holds fewer than Max/4.
type Shape struct {
	MaxKeys     int // keys in a leaf
	MaxChildren int // children of an inner node
}

// DefaultShape keeps a leaf of 64 rank keys near 2 KB once encoded.
var DefaultShape = Shape{MaxKeys: 64, MaxChildren: 64}

func (s Shape) max(leaf bool) int {
	if leaf {
		return max(s.MaxKeys, 2)
	}
	return max(s.MaxChildren, 3)
}

// min is the least a node other than the root holds. An inner node keeps two children,
// so that every node has a sibling to merge with.
func (s Shape) min(leaf bool) int {
	if leaf {
		return max(s.max(leaf)/4, 1)
	}
	return max(s.max(leaf)/4, 2)
}

// Root is the stored root of a tree and the next free node ID.
type Root struct {
	Node Node
	Next ID
}

// EmptyRoot is the root of a tree with no keys.
func EmptyRoot() Root { return Root{Node: Node{Leaf: true}, Next: 1} }

// ErrStale says a node read did not match its parent's record: a write came between.
// The caller starts again from a fresh root.
var ErrStale = errors.New("rank tree changed during the read")

// ErrCorrupt says the stored tree breaks an invariant.
var ErrCorrupt = errors.New("rank tree is corrupt")

// Loader fetches stored nodes. It returns ErrStale if the node is missing or its stamp
// is not stamp (a loader that caches nodes may key its cache by ID and stamp).
type Loader interface {
	Load(ctx context.Context, id ID, stamp uint64) (Node, error)
}

// Tree is one version of a tree, read lazily through a Loader, and the changes made to
// it since. It is not safe for concurrent use.
type Tree struct {
	load    Loader
	shape   Shape
	root    *Node
	next    ID
	stamp   uint64       // the stamp of nodes this change writes
	nodes   map[ID]*Node // nodes read or made
	dirty   map[ID]bool
	created map[ID]bool
	freed   []ID
	rootMod bool
}

// Open returns the tree whose root is r. Nodes that the caller changes are written with
// stamp, which must be higher than every stamp in the tree (the commit's version).
func Open(r Root, stamp uint64, load Loader, shape Shape) *Tree {
	root := cloneNode(r.Node)
	return &Tree{
		load: load, shape: shape, root: &root, next: r.Next, stamp: stamp,
		nodes: map[ID]*Node{}, dirty: map[ID]bool{}, created: map[ID]bool{},
	}
}

func cloneNode(n Node) Node {
	n.Keys = slices.Clone(n.Keys)
	n.Values = slices.Clone(n.Values)
	if n.Leaf && len(n.Values) < len(n.Keys) {
		n.Values = append(n.Values, make([]string, len(n.Keys)-len(n.Values))...)
	}
	n.Children = slices.Clone(n.Children)
	return n
}

// Len is the number of keys in the tree.
func (t *Tree) Len() int64 { return t.root.count() }

// child returns the node a record points to, reading it if need be.
func (t *Tree) child(ctx context.Context, c Child) (*Node, error) {
	if n, ok := t.nodes[c.ID]; ok {
		return n, nil
	}
	n, err := t.load.Load(ctx, c.ID, c.Stamp)
	if err != nil {
		return nil, err
	}
	if n.Stamp != c.Stamp {
		return nil, fmt.Errorf("node %d has stamp %d, its parent records %d: %w", c.ID, n.Stamp, c.Stamp, ErrStale)
	}
	// The Loader may hand the same node to other trees (a cache): change only a copy.
	n = cloneNode(n)
	t.nodes[c.ID] = &n
	return &n, nil
}

// step is one node on a path from the root: the node, its ID (0 for the root), and the
// index of the child the path takes next.
type step struct {
	node *Node
	id   ID
	at   int
}

// descend returns the path from the root to the leaf whose range holds key.
func (t *Tree) descend(ctx context.Context, key string) ([]step, error) {
	path := []step{{node: t.root}}
	for n := t.root; !n.Leaf; {
		i := n.route(key)
		path[len(path)-1].at = i
		c, err := t.child(ctx, n.Children[i])
		if err != nil {
			return nil, err
		}
		path = append(path, step{node: c, id: n.Children[i].ID})
		n = c
	}
	return path, nil
}

// find descends to the leaf whose range holds key: the path to it, the leaf, where key
// is or would go in it, and whether it is there.
func (t *Tree) find(ctx context.Context, key string) (path []step, leaf *Node, i int, found bool, err error) {
	if path, err = t.descend(ctx, key); err != nil {
		return nil, nil, 0, false, err
	}
	leaf = path[len(path)-1].node
	i, found = slices.BinarySearch(leaf.Keys, key)
	return path, leaf, i, found, nil
}

// Rank returns how many keys sort before key, and whether key itself is in the tree.
func (t *Tree) Rank(ctx context.Context, key string) (before int64, found bool, err error) {
	path, _, i, found, err := t.find(ctx, key)
	if err != nil {
		return 0, false, err
	}
	for _, s := range path[:len(path)-1] {
		for _, c := range s.node.Children[:s.at] {
			before += c.Count
		}
	}
	return before + int64(i), found, nil
}

// Contains reports whether key is in the tree.
func (t *Tree) Contains(ctx context.Context, key string) (bool, error) {
	_, found, err := t.Rank(ctx, key)
	return found, err
}

// ErrExists and ErrMissing refuse an Insert of a key already there and a Delete of one
// that is not.
var (
	ErrExists  = errors.New("key already in the rank tree")
	ErrMissing = errors.New("key not in the rank tree")
)

// Insert adds key, with value beside it.
func (t *Tree) Insert(ctx context.Context, key, value string) error {
	path, leaf, i, found, err := t.find(ctx, key)
	if err != nil {
		return err
	}
	if found {
		return ErrExists
	}
	leaf.Keys = slices.Insert(leaf.Keys, i, key)
	leaf.Values = slices.Insert(leaf.Values, i, value)
	t.changed(path, +1)
	return t.fixOverflow(path)
}

// Set replaces the value beside key.
func (t *Tree) Set(ctx context.Context, key, value string) error {
	path, leaf, i, found, err := t.find(ctx, key)
	if err != nil {
		return err
	}
	if !found {
		return ErrMissing
	}
	if leaf.Values[i] != value {
		leaf.Values[i] = value
		t.changed(path, 0)
	}
	return nil
}

// Value returns the value beside key, and whether key is in the tree.
func (t *Tree) Value(ctx context.Context, key string) (string, bool, error) {
	_, leaf, i, found, err := t.find(ctx, key)
	if err != nil || !found {
		return "", false, err
	}
	return leaf.Values[i], true, nil
}

// Delete removes key.
func (t *Tree) Delete(ctx context.Context, key string) error {
	path, leaf, i, found, err := t.find(ctx, key)
	if err != nil {
		return err
	}
	if !found {
		return ErrMissing
	}
	leaf.Keys = slices.Delete(leaf.Keys, i, i+1)
	leaf.Values = slices.Delete(leaf.Values, i, i+1)
	t.changed(path, -1)
	return t.fixUnderflow(ctx, path)
}

// changed marks every node on path as changed and adds delta to the counts on it.
func (t *Tree) changed(path []step, delta int64) {
	for _, s := range path[:len(path)-1] {
		s.node.Children[s.at].Count += delta
	}
	for _, s := range path {
		t.touch(s.id)
	}
}

func (t *Tree) touch(id ID) {
	if id == 0 {
		t.rootMod = true
		return
	}
	t.dirty[id] = true
}

func (t *Tree) newNode(n Node) ID {
	id := t.next
	t.next++
	t.nodes[id] = &n
	t.created[id] = true
	t.dirty[id] = true
	return id
}

func (t *Tree) free(id ID) {
	delete(t.nodes, id)
	delete(t.dirty, id)
	if t.created[id] {
		delete(t.created, id)
		return
	}
	t.freed = append(t.freed, id)
}

// halves splits the contents of n in two, keeping the first half in n and returning
// the second as a new node.
func halves(n *Node) Node {
	if n.Leaf {
		mid := len(n.Keys) / 2
		right := Node{Leaf: true, Keys: slices.Clone(n.Keys[mid:]), Values: slices.Clone(n.Values[mid:])}
		n.Keys, n.Values = slices.Clip(n.Keys[:mid]), slices.Clip(n.Values[:mid])
		return right
	}
	mid := len(n.Children) / 2
	right := Node{Children: slices.Clone(n.Children[mid:])}
	n.Children = slices.Clip(n.Children[:mid])
	return right
}

// fixOverflow splits the nodes on path that hold too much, from the leaf up.
func (t *Tree) fixOverflow(path []step) error {
	for d := len(path) - 1; d >= 0; d-- {
		n := path[d].node
		if n.size() <= t.shape.max(n.Leaf) {
			return nil
		}
		right := halves(n)
		if d == 0 {
			// The root keeps its place: its halves move into two new nodes under it.
			left := *n
			lid, rid := t.newNode(left), t.newNode(right)
			*n = Node{Children: []Child{
				{Lower: "", Count: left.count(), ID: lid},
				{Lower: right.lower(), Count: right.count(), ID: rid},
			}}
			t.rootMod = true
			return nil
		}
		rid := t.newNode(right)
		parent := path[d-1]
		rec := &parent.node.Children[parent.at]
		rec.Count = n.count()
		parent.node.Children = slices.Insert(parent.node.Children, parent.at+1,
			Child{Lower: right.lower(), Count: right.count(), ID: rid})
		t.touch(parent.id)
	}
	return nil
}

// fixUnderflow merges or rebalances the nodes on path that hold too little, from the
// leaf up, and lowers the root while it has a single child.
func (t *Tree) fixUnderflow(ctx context.Context, path []step) error {
	for d := len(path) - 1; d >= 1; d-- {
		n := path[d].node
		if n.size() >= t.shape.min(n.Leaf) {
			break
		}
		parent := path[d-1]
		pn := parent.node
		if len(pn.Children) < 2 {
			break
		}
		li := parent.at - 1
		if parent.at == 0 {
			li = 0
		}
		leftRec, rightRec := pn.Children[li], pn.Children[li+1]
		left, err := t.child(ctx, leftRec)
		if err != nil {
			return err
		}
		right, err := t.child(ctx, rightRec)
		if err != nil {
			return err
		}
		if left.Leaf {
			left.Keys = append(left.Keys, right.Keys...)
			left.Values = append(left.Values, right.Values...)
		} else {
			left.Children = append(left.Children, right.Children...)
		}
		if left.size() <= t.shape.max(left.Leaf) {
			t.free(rightRec.ID)
			pn.Children[li].Count = left.count()
			pn.Children = slices.Delete(pn.Children, li+1, li+2)
			t.touch(leftRec.ID)
		} else {
			// Too much for one node: share evenly between the two.
			r := halves(left)
			*right = Node{Leaf: r.Leaf, Stamp: right.Stamp, Keys: r.Keys, Values: r.Values, Children: r.Children}
			pn.Children[li].Count = left.count()
			pn.Children[li+1].Count = right.count()
			pn.Children[li+1].Lower = right.lower()
			t.touch(leftRec.ID)
			t.touch(rightRec.ID)
		}
		t.touch(parent.id)
	}
	for !t.root.Leaf && len(t.root.Children) == 1 {
		only := t.root.Children[0]
		c, err := t.child(ctx, only)
		if err != nil {
			return err
		}
		*t.root = cloneNode(*c)
		t.root.Stamp = 0
		if !t.root.Leaf {
			t.root.Children[0].Lower = ""
		}
		t.free(only.ID)
		t.rootMod = true
	}
	return nil
}

// Changes is what a change to the tree writes: the new root, the nodes to put (with
// their new stamps) and the IDs of the nodes to delete. Modified reports whether there
// is anything to write at all.
type Changes struct {
	Root     Root
	Put      map[ID]Node
	Delete   []ID
	Modified bool
}

// Changes returns the writes that make the stored tree what this Tree now holds. Every
// changed node gets the tree's stamp, and so does its record in its parent, which is
// therefore written too, up to the root.
func (t *Tree) Changes() Changes {
	out := Changes{Put: map[ID]Node{}}
	var visit func(n *Node) bool
	visit = func(n *Node) bool {
		changed := false
		for i := range n.Children {
			c := &n.Children[i]
			child, loaded := t.nodes[c.ID]
			if !loaded {
				continue
			}
			if visit(child) || t.dirty[c.ID] {
				child.Stamp = t.stamp
				c.Stamp = t.stamp
				c.Count = child.count()
				out.Put[c.ID] = cloneNode(*child)
				changed = true
			}
		}
		return changed
	}
	if visit(t.root) {
		t.rootMod = true
	}
	out.Root = Root{Node: cloneNode(*t.root), Next: t.next}
	out.Root.Node.Stamp = 0
	out.Delete = slices.Clone(t.freed)
	out.Modified = t.rootMod || len(out.Put) > 0 || len(out.Delete) > 0
	return out
}
