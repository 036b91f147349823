package main

import (
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// afterUpdate is, approximately, the item that an UpdateExpression leaves: enough to
// price the write by the larger of the item's sizes before and after. It understands
// top-level paths only, SET with a value, an attribute, if_not_exists or + and -, ADD
// of numbers and sets, REMOVE, and DELETE from a set: what pkg/store writes.
func afterUpdate(before item, key item, expr string, names map[string]string, values item) item {
	after := maps.Clone(before)
	if after == nil {
		after = maps.Clone(key)
	}
	for _, cl := range clauses(expr) {
		for _, action := range splitTop(cl.body) {
			action = strings.TrimSpace(action)
			switch cl.keyword {
			case "SET":
				path, value, ok := strings.Cut(action, "=")
				if !ok {
					continue
				}
				if v := evalOperand(before, strings.TrimSpace(value), names, values); v != nil {
					after[attrName(path, names)] = v
				}
			case "REMOVE":
				delete(after, attrName(action, names))
			case "ADD", "DELETE":
				fields := strings.Fields(action)
				if len(fields) != 2 {
					continue
				}
				name, v := attrName(fields[0], names), values[fields[1]]
				if cl.keyword == "ADD" {
					after[name] = add(after[name], v)
				} else {
					after[name] = without(after[name], v)
				}
			}
		}
	}
	return after
}

type clause struct{ keyword, body string }

var keywords = regexp.MustCompile(`(?i)\b(SET|REMOVE|ADD|DELETE)\b`)

func clauses(expr string) []clause {
	var out []clause
	locs := keywords.FindAllStringIndex(expr, -1)
	for i, loc := range locs {
		end := len(expr)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		out = append(out, clause{keyword: strings.ToUpper(expr[loc[0]:loc[1]]), body: expr[loc[1]:end]})
	}
	return out
}

// splitTop splits on commas outside parentheses.
func splitTop(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

func attrName(path string, names map[string]string) string {
	path = strings.TrimSpace(path)
	if n, ok := names[path]; ok {
		return n
	}
	return path
}

// evalOperand evaluates the right-hand side of a SET action against the item before.
func evalOperand(before item, s string, names map[string]string, values item) types.AttributeValue {
	if inner, ok := strings.CutPrefix(s, "if_not_exists("); ok {
		args := splitTop(strings.TrimSuffix(inner, ")"))
		if len(args) == 2 {
			if v, ok := before[attrName(args[0], names)]; ok {
				return v
			}
			return evalOperand(before, strings.TrimSpace(args[1]), names, values)
		}
	}
	for _, op := range []string{"+", "-"} {
		if a, b, ok := strings.Cut(s, " "+op+" "); ok {
			x := evalOperand(before, strings.TrimSpace(a), names, values)
			y := evalOperand(before, strings.TrimSpace(b), names, values)
			if op == "-" {
				y = negate(y)
			}
			return add(x, y)
		}
	}
	if strings.HasPrefix(s, ":") {
		return values[s]
	}
	return before[attrName(s, names)]
}

// add is ADD's result: the sum of two numbers, the union of two sets, else b.
func add(a, b types.AttributeValue) types.AttributeValue {
	switch a := a.(type) {
	case *types.AttributeValueMemberN:
		if b, ok := b.(*types.AttributeValueMemberN); ok {
			x, okx := new(big.Rat).SetString(a.Value)
			y, oky := new(big.Rat).SetString(b.Value)
			if okx && oky {
				return &types.AttributeValueMemberN{Value: x.Add(x, y).RatString()}
			}
		}
	case *types.AttributeValueMemberSS:
		if b, ok := b.(*types.AttributeValueMemberSS); ok {
			return &types.AttributeValueMemberSS{Value: union(a.Value, b.Value)}
		}
	case *types.AttributeValueMemberNS:
		if b, ok := b.(*types.AttributeValueMemberNS); ok {
			return &types.AttributeValueMemberNS{Value: union(a.Value, b.Value)}
		}
	}
	return b
}

func negate(v types.AttributeValue) types.AttributeValue {
	if n, ok := v.(*types.AttributeValueMemberN); ok {
		if x, ok := new(big.Rat).SetString(n.Value); ok {
			return &types.AttributeValueMemberN{Value: x.Neg(x).RatString()}
		}
	}
	return v
}

// without is DELETE's result: set a less the elements of b.
func without(a, b types.AttributeValue) types.AttributeValue {
	switch a := a.(type) {
	case *types.AttributeValueMemberSS:
		if b, ok := b.(*types.AttributeValueMemberSS); ok {
			return &types.AttributeValueMemberSS{Value: slices.DeleteFunc(slices.Clone(a.Value), func(s string) bool { return slices.Contains(b.Value, s) })}
		}
	case *types.AttributeValueMemberNS:
		if b, ok := b.(*types.AttributeValueMemberNS); ok {
			return &types.AttributeValueMemberNS{Value: slices.DeleteFunc(slices.Clone(a.Value), func(s string) bool { return slices.Contains(b.Value, s) })}
		}
	}
	return a
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
