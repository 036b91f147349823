package dynamofault

import (
	"bytes"
	"encoding/base64"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

type item = map[string]types.AttributeValue

// canon is a string equal for equal attribute values: numbers compare by value, sets
// as sets, maps by content. It identifies keys and compares values in expressions.
func canon(v types.AttributeValue) string {
	var b strings.Builder
	writeCanon(&b, v)
	return b.String()
}

func writeCanon(b *strings.Builder, v types.AttributeValue) {
	field := func(tag, s string) {
		b.WriteString(tag)
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	set := func(tag string, members []string) {
		members = slices.Clone(members)
		slices.Sort(members)
		members = slices.Compact(members)
		b.WriteString(tag)
		b.WriteString(strconv.Itoa(len(members)))
		for _, m := range members {
			field("", m)
		}
	}
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		field("S", v.Value)
	case *types.AttributeValueMemberN:
		field("N", normNumber(v.Value))
	case *types.AttributeValueMemberB:
		field("B", string(v.Value))
	case *types.AttributeValueMemberBOOL:
		if v.Value {
			b.WriteString("T")
		} else {
			b.WriteString("F")
		}
	case *types.AttributeValueMemberNULL:
		b.WriteString("0")
	case *types.AttributeValueMemberSS:
		set("SS", v.Value)
	case *types.AttributeValueMemberNS:
		ns := make([]string, len(v.Value))
		for i, n := range v.Value {
			ns[i] = normNumber(n)
		}
		set("NS", ns)
	case *types.AttributeValueMemberBS:
		bs := make([]string, len(v.Value))
		for i, x := range v.Value {
			bs[i] = string(x)
		}
		set("BS", bs)
	case *types.AttributeValueMemberL:
		b.WriteString("L" + strconv.Itoa(len(v.Value)) + ":")
		for _, e := range v.Value {
			writeCanon(b, e)
		}
	case *types.AttributeValueMemberM:
		writeItemCanon(b, "M", v.Value)
	default:
		b.WriteString("?")
	}
}

func writeItemCanon(b *strings.Builder, tag string, m item) {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	b.WriteString(tag + strconv.Itoa(len(names)) + ":")
	for _, n := range names {
		b.WriteString(strconv.Itoa(len(n)) + ":" + n)
		writeCanon(b, m[n])
	}
}

// normNumber gives one spelling per numeric value ("1.50" and "15e-1" agree).
func normNumber(s string) string {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return s
	}
	return r.RatString()
}

// compareScalars orders two values of the same scalar type as DynamoDB does: strings and
// binaries by bytes, numbers by value. ok is false for other types or mixed types.
func compareScalars(a, b types.AttributeValue) (cmp int, ok bool) {
	switch a := a.(type) {
	case *types.AttributeValueMemberS:
		if b, isS := b.(*types.AttributeValueMemberS); isS {
			return strings.Compare(a.Value, b.Value), true
		}
	case *types.AttributeValueMemberB:
		if b, isB := b.(*types.AttributeValueMemberB); isB {
			return bytes.Compare(a.Value, b.Value), true
		}
	case *types.AttributeValueMemberN:
		if b, isN := b.(*types.AttributeValueMemberN); isN {
			x, okx := new(big.Rat).SetString(a.Value)
			y, oky := new(big.Rat).SetString(b.Value)
			if okx && oky {
				return x.Cmp(y), true
			}
		}
	}
	return 0, false
}

// display is a key value as people read it, for Stats.
func display(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	case *types.AttributeValueMemberB:
		return base64.StdEncoding.EncodeToString(v.Value)
	}
	return canon(v)
}

// ItemSize is an item's size as DynamoDB charges capacity units on it, following
// "DynamoDB item sizes and formats" in the developer guide: names and values in UTF-8
// bytes, numbers one byte per two significant digits plus one, booleans and null one
// byte, lists and maps 3 bytes plus 1 per element.
func ItemSize(it map[string]types.AttributeValue) int { return itemSize(it) }

func itemSize(it item) int {
	n := 0
	for name, v := range it {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for name, e := range v.Value {
			n += 1 + len(name) + valueSize(e)
		}
		return n
	}
	return 0
}

func numberSize(s string) int {
	s = strings.TrimLeft(s, "+-")
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	s = strings.Replace(s, ".", "", 1)
	s = strings.TrimRight(strings.TrimLeft(s, "0"), "0")
	return (len(s)+1)/2 + 1
}

// writeUnits is what writing an item of size bytes costs: 1 WCU per KB, rounded up.
func writeUnits(size int) float64 {
	return max(1, math.Ceil(float64(size)/1024))
}

// readUnits is what reading size bytes costs: 1 RCU per 4 KB rounded up if strongly
// consistent, half that if eventually consistent.
func readUnits(size int, consistent bool) float64 {
	u := max(1, math.Ceil(float64(size)/4096))
	if !consistent {
		u /= 2
	}
	return u
}
