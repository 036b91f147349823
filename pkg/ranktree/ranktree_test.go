package ranktree_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/leaderboardapi/leaderboard/pkg/ranktree"
)

// memStore keeps encoded nodes and the root as a table would, and commits Changes.
type memStore struct {
	mu    sync.Mutex // Prefetch loads from several goroutines
	nodes map[ranktree.ID][]byte
	root  ranktree.Root
	ver   uint64
	reads int
}

func newMem() *memStore {
	return &memStore{nodes: map[ranktree.ID][]byte{}, root: ranktree.EmptyRoot()}
}

func (m *memStore) Load(_ context.Context, id ranktree.ID, stamp uint64) (ranktree.Node, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	b, ok := m.nodes[id]
	if !ok {
		return ranktree.Node{}, ranktree.ErrStale
	}
	n, err := ranktree.Decode(b)
	if err != nil {
		return ranktree.Node{}, err
	}
	if n.Stamp != stamp {
		return ranktree.Node{}, ranktree.ErrStale
	}
	return n, nil
}

func (m *memStore) open(shape ranktree.Shape) *ranktree.Tree {
	return ranktree.Open(m.root, m.ver+1, m, shape)
}

func (m *memStore) commit(t *ranktree.Tree) {
	c := t.Changes()
	if !c.Modified {
		return
	}
	m.ver++
	for id, n := range c.Put {
		if n.Stamp != m.ver {
			panic(fmt.Sprintf("node %d written with stamp %d at version %d", id, n.Stamp, m.ver))
		}
		m.nodes[id] = ranktree.Encode(n)
	}
	for _, id := range c.Delete {
		delete(m.nodes, id)
	}
	m.root = c.Root
}

func key(i int) string { return fmt.Sprintf("%08d", i) }

// check compares the stored tree with the sorted model in every way a reader uses it.
func check(t *testing.T, m *memStore, shape ranktree.Shape, want []string) {
	t.Helper()
	ctx := context.Background()
	tr := m.open(shape)
	var got []string
	if err := tr.Check(ctx, func(k string) { got = append(got, k) }); err != nil {
		t.Fatalf("check: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("keys = %v, want %v", got, want)
	}
	if tr.Len() != int64(len(want)) {
		t.Fatalf("Len = %d, want %d", tr.Len(), len(want))
	}
	for i, k := range want {
		before, found, err := tr.Rank(ctx, k)
		if err != nil || !found || before != int64(i) {
			t.Fatalf("Rank(%s) = %d, %v, %v; want %d", k, before, found, err, i)
		}
		// A probe just above k counts k too and finds nothing.
		before, found, err = tr.Rank(ctx, k+"\x00")
		if err != nil || found || before != int64(i+1) {
			t.Fatalf("Rank(just above %s) = %d, %v, %v; want %d", k, before, found, err, i+1)
		}
	}
	if len(want) == 0 {
		return
	}
	from := want[len(want)/2]
	var asc []string
	tr.Ascend(ctx, from, func(k, v string) bool {
		if v != "v"+k {
			t.Fatalf("value beside %s is %q", k, v)
		}
		asc = append(asc, k)
		return len(asc) < 7
	})
	i := len(want) / 2
	if !slices.Equal(asc, want[i:min(i+7, len(want))]) {
		t.Fatalf("Ascend(%s) = %v", from, asc)
	}
	var desc []string
	tr.Descend(ctx, from, func(k, v string) bool {
		if v != "v"+k {
			t.Fatalf("value beside %s is %q", k, v)
		}
		desc = append(desc, k)
		return len(desc) < 7
	})
	exp := slices.Clone(want[max(0, i-7):i])
	slices.Reverse(exp)
	if !slices.Equal(desc, exp) {
		t.Fatalf("Descend(%s) = %v, want %v", from, desc, exp)
	}
}

func TestRandomOperationsMatchModel(t *testing.T) {
	for _, shape := range []ranktree.Shape{{MaxKeys: 2, MaxChildren: 3}, {MaxKeys: 4, MaxChildren: 4}, {MaxKeys: 8, MaxChildren: 5}, ranktree.DefaultShape} {
		t.Run(fmt.Sprintf("%dx%d", shape.MaxKeys, shape.MaxChildren), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(shape.MaxKeys)))
			m := newMem()
			set := map[string]bool{}
			for step := range 1500 {
				tr := m.open(shape)
				// One commit holds a few operations, as a batch of submissions does.
				for range 1 + rng.IntN(4) {
					k := key(rng.IntN(300))
					if set[k] && rng.IntN(3) > 0 {
						if err := tr.Delete(context.Background(), k); err != nil {
							t.Fatalf("step %d: delete %s: %v", step, k, err)
						}
						delete(set, k)
					} else if !set[k] {
						if err := tr.Insert(context.Background(), k, "v"+k); err != nil {
							t.Fatalf("step %d: insert %s: %v", step, k, err)
						}
						set[k] = true
					}
				}
				m.commit(tr)
				if step%50 == 0 || step > 1400 {
					want := make([]string, 0, len(set))
					for k := range set {
						want = append(want, k)
					}
					slices.Sort(want)
					check(t, m, shape, want)
				}
			}
		})
	}
}

func TestInsertAndDeleteRefuseWhatIsThereOrNot(t *testing.T) {
	m := newMem()
	tr := m.open(ranktree.DefaultShape)
	ctx := context.Background()
	if err := tr.Insert(ctx, "a", "1"); err != nil {
		t.Fatal(err)
	}
	if err := tr.Insert(ctx, "a", "2"); !errors.Is(err, ranktree.ErrExists) {
		t.Fatalf("second insert: %v", err)
	}
	if err := tr.Delete(ctx, "b"); !errors.Is(err, ranktree.ErrMissing) {
		t.Fatalf("delete missing: %v", err)
	}
}

// A reader that opened the tree before a commit must never mix versions: every node it
// reads after the commit changed either matches its root's records or is ErrStale.
func TestReaderOfOldRootSeesStaleNotMixedVersions(t *testing.T) {
	shape := ranktree.Shape{MaxKeys: 4, MaxChildren: 4}
	m := newMem()
	for i := range 200 {
		tr := m.open(shape)
		if err := tr.Insert(context.Background(), key(i*2), "v"+key(i*2)); err != nil {
			t.Fatal(err)
		}
		m.commit(tr)
	}
	old := m.open(shape)
	w := m.open(shape)
	if err := w.Insert(context.Background(), key(301), "v"+key(301)); err != nil {
		t.Fatal(err)
	}
	m.commit(w)
	// The old root routes key(301) to nodes the commit rewrote.
	_, _, err := old.Rank(context.Background(), key(301))
	if !errors.Is(err, ranktree.ErrStale) {
		t.Fatalf("rank through a rewritten node: %v, want ErrStale", err)
	}
	// Nodes the commit did not touch still read fine through the old root.
	before, found, err := old.Rank(context.Background(), key(0))
	if err != nil || !found || before != 0 {
		t.Fatalf("rank of an untouched key = %d, %v, %v", before, found, err)
	}
}

func TestCheckFindsBrokenCounts(t *testing.T) {
	shape := ranktree.Shape{MaxKeys: 4, MaxChildren: 4}
	m := newMem()
	tr := m.open(shape)
	for i := range 40 {
		tr.Insert(context.Background(), key(i), "v"+key(i))
	}
	m.commit(tr)
	m.root.Node.Children[1].Count++
	err := m.open(shape).Check(context.Background(), func(string) {})
	if !errors.Is(err, ranktree.ErrCorrupt) {
		t.Fatalf("check of a miscounted root: %v", err)
	}
}

func TestBuildMakesAValidTree(t *testing.T) {
	for _, n := range []int{0, 1, 5, 64, 65, 1000, 20000} {
		for _, shape := range []ranktree.Shape{{MaxKeys: 2, MaxChildren: 3}, {MaxKeys: 5, MaxChildren: 4}, ranktree.DefaultShape} {
			keys := make([]string, n)
			values := make([]string, n)
			for i := range keys {
				keys[i] = key(i)
				values[i] = "v" + keys[i]
			}
			root, nodes := ranktree.Build(keys, values, 7, shape)
			m := newMem()
			m.root, m.ver = root, 7
			for id, node := range nodes {
				m.nodes[id] = ranktree.Encode(node)
			}
			if n <= 1000 {
				check(t, m, shape, keys)
			}
			// It keeps working as a tree grown one key at a time does.
			tr := m.open(shape)
			if err := tr.Insert(context.Background(), "x", "vx"); err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				if err := tr.Delete(context.Background(), keys[0]); err != nil {
					t.Fatal(err)
				}
			}
			m.commit(tr)
			want := append(slices.Clone(keys[min(1, n):]), "x")
			if n <= 1000 {
				check(t, m, shape, want)
			}
		}
	}
}

func TestEncodeRoundTripsAndRejectsGarbage(t *testing.T) {
	leaf := ranktree.Node{Leaf: true, Stamp: 9, Keys: []string{"000a1", "000a2", "000b", "1"}, Values: []string{"Reds", "", "Blues é", "x"}}
	inner := ranktree.Node{Stamp: 300, Children: []ranktree.Child{{Lower: "", Count: 5, ID: 1, Stamp: 2}, {Lower: "0b", Count: 1 << 40, ID: 77, Stamp: 300}}}
	for _, n := range []ranktree.Node{leaf, inner, {Leaf: true}} {
		if n.Leaf && n.Values == nil {
			n.Values = []string{}
		}
		got, err := ranktree.Decode(ranktree.Encode(n))
		if err != nil || fmt.Sprint(got) != fmt.Sprint(n) {
			t.Fatalf("round trip of %+v = %+v, %v", n, got, err)
		}
	}
	b := ranktree.Encode(inner)
	for i := range b {
		if _, err := ranktree.Decode(b[:i]); err == nil {
			t.Fatalf("decode of %d of %d bytes succeeded", i, len(b))
		}
	}
}

func TestSetReplacesAValueAndRewritesItsPath(t *testing.T) {
	shape := ranktree.Shape{MaxKeys: 4, MaxChildren: 4}
	m := newMem()
	ctx := context.Background()
	tr := m.open(shape)
	for i := range 50 {
		tr.Insert(ctx, key(i), "v"+key(i))
	}
	m.commit(tr)
	tr = m.open(shape)
	if err := tr.Set(ctx, key(7), "renamed"); err != nil {
		t.Fatal(err)
	}
	if err := tr.Set(ctx, "nope", "x"); !errors.Is(err, ranktree.ErrMissing) {
		t.Fatalf("set of a missing key: %v", err)
	}
	c := tr.Changes()
	if !c.Modified || len(c.Put) == 0 {
		t.Fatalf("a new value must rewrite its leaf and the path above: %+v", c)
	}
	m.commit(tr)
	v, found, err := m.open(shape).Value(ctx, key(7))
	if err != nil || !found || v != "renamed" {
		t.Fatalf("Value = %q, %v, %v", v, found, err)
	}
}

func TestPrefetchReadsEveryPathOnceAndNothingAfter(t *testing.T) {
	shape := ranktree.Shape{MaxKeys: 4, MaxChildren: 4}
	m := newMem()
	ctx := context.Background()
	tr := m.open(shape)
	for i := range 300 {
		tr.Insert(ctx, key(i), "v"+key(i))
	}
	m.commit(tr)
	probe := []string{key(3), key(150), key(151), key(299), key(1000)}
	tr = m.open(shape)
	if err := tr.Prefetch(ctx, probe); err != nil {
		t.Fatal(err)
	}
	m.reads = 0
	for _, k := range probe {
		if _, _, err := tr.Rank(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Delete(ctx, key(150)); err != nil {
		t.Fatal(err)
	}
	if m.reads != 0 {
		t.Fatalf("%d reads after the prefetch", m.reads)
	}
}
