package ranktree

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Encode packs a node into bytes. Keys and bounds are sorted, so each is stored as the
// length of the prefix it shares with the one before and the rest: rank keys of one
// board share their score digits, which keeps a full leaf near 2 KB.
func Encode(n Node) []byte {
	b := make([]byte, 0, 64+n.size()*40)
	kind := byte(0)
	if n.Leaf {
		kind = 1
	}
	b = append(b, kind)
	b = binary.AppendUvarint(b, n.Stamp)
	b = binary.AppendUvarint(b, uint64(n.size()))
	prev := ""
	put := func(s string) {
		shared := commonPrefix(prev, s)
		b = binary.AppendUvarint(b, uint64(shared))
		b = binary.AppendUvarint(b, uint64(len(s)-shared))
		b = append(b, s[shared:]...)
		prev = s
	}
	if n.Leaf {
		for i, k := range n.Keys {
			put(k)
			v := ""
			if i < len(n.Values) {
				v = n.Values[i]
			}
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		}
		return b
	}
	for _, c := range n.Children {
		put(c.Lower)
		b = binary.AppendVarint(b, c.Count)
		b = binary.AppendUvarint(b, uint64(c.ID))
		b = binary.AppendUvarint(b, c.Stamp)
	}
	return b
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

var errShort = errors.New("truncated node")

// Decode unpacks a node that Encode packed.
func Decode(b []byte) (Node, error) {
	d := decoder{b: b}
	if len(b) == 0 {
		return Node{}, fmt.Errorf("decode node: %w", errShort)
	}
	n := Node{Leaf: b[0] == 1}
	d.b = b[1:]
	n.Stamp = d.uvarint()
	size := d.uvarint()
	if d.err == nil && size > uint64(len(b)) {
		d.err = errShort
	}
	prev := ""
	get := func() string {
		shared, rest := d.uvarint(), d.uvarint()
		if d.err != nil || shared > uint64(len(prev)) || rest > uint64(len(d.b)) {
			d.err = errShort
			return ""
		}
		s := prev[:shared] + string(d.b[:rest])
		d.b = d.b[rest:]
		prev = s
		return s
	}
	for i := uint64(0); i < size && d.err == nil; i++ {
		if n.Leaf {
			n.Keys = append(n.Keys, get())
			size := d.uvarint()
			if d.err == nil && size > uint64(len(d.b)) {
				d.err = errShort
			}
			if d.err == nil {
				n.Values = append(n.Values, string(d.b[:size]))
				d.b = d.b[size:]
			}
			continue
		}
		c := Child{Lower: get()}
		c.Count = d.varint()
		c.ID = ID(d.uvarint())
		c.Stamp = d.uvarint()
		n.Children = append(n.Children, c)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("trailing bytes")
	}
	if d.err != nil {
		return Node{}, fmt.Errorf("decode node: %w", d.err)
	}
	return n, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[k:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, k := binary.Varint(d.b)
	if k <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[k:]
	return v
}
