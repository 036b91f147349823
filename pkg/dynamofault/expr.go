package dynamofault

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The layer evaluates expressions itself only on items DynamoDB Local cannot see any more:
// the pre-images of in-flight transactions and the old versions behind stale reads. It
// covers the condition grammar of the developer guide ("Condition and filter expressions,
// operators, and functions"): comparisons, BETWEEN, IN, AND/OR/NOT, parentheses,
// attribute_exists, attribute_not_exists, attribute_type, begins_with, contains, size,
// and document paths with map members and list indexes.

type cond interface {
	holds(it item) bool
}

type operand interface {
	value(it item) (types.AttributeValue, bool)
}

type pathStep struct {
	name  string
	index int // used when name is ""
}

type path []pathStep

func (p path) value(it item) (types.AttributeValue, bool) {
	v, ok := it[p[0].name]
	for _, s := range p[1:] {
		if !ok {
			return nil, false
		}
		switch cur := v.(type) {
		case *types.AttributeValueMemberM:
			if s.name == "" {
				return nil, false
			}
			v, ok = cur.Value[s.name]
		case *types.AttributeValueMemberL:
			if s.name != "" || s.index >= len(cur.Value) {
				return nil, false
			}
			v, ok = cur.Value[s.index], true
		default:
			return nil, false
		}
	}
	return v, ok
}

type literal struct{ v types.AttributeValue }

func (l literal) value(item) (types.AttributeValue, bool) { return l.v, true }

type sizeOf struct{ p path }

func (s sizeOf) value(it item) (types.AttributeValue, bool) {
	v, ok := s.p.value(it)
	if !ok {
		return nil, false
	}
	var n int
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		n = utf8.RuneCountInString(v.Value)
	case *types.AttributeValueMemberB:
		n = len(v.Value)
	case *types.AttributeValueMemberSS:
		n = len(v.Value)
	case *types.AttributeValueMemberNS:
		n = len(v.Value)
	case *types.AttributeValueMemberBS:
		n = len(v.Value)
	case *types.AttributeValueMemberL:
		n = len(v.Value)
	case *types.AttributeValueMemberM:
		n = len(v.Value)
	default:
		return nil, false
	}
	return &types.AttributeValueMemberN{Value: strconv.Itoa(n)}, true
}

type andCond struct{ l, r cond }

func (c andCond) holds(it item) bool { return c.l.holds(it) && c.r.holds(it) }

type orCond struct{ l, r cond }

func (c orCond) holds(it item) bool { return c.l.holds(it) || c.r.holds(it) }

type notCond struct{ c cond }

func (c notCond) holds(it item) bool { return !c.c.holds(it) }

type compare struct {
	op   string
	l, r operand
}

func (c compare) holds(it item) bool {
	a, okA := c.l.value(it)
	b, okB := c.r.value(it)
	if !okA || !okB {
		// A missing attribute compares unequal to everything, so only <> holds.
		return c.op == "<>"
	}
	switch c.op {
	case "=":
		return canon(a) == canon(b)
	case "<>":
		return canon(a) != canon(b)
	}
	n, ok := compareScalars(a, b)
	if !ok {
		return false
	}
	switch c.op {
	case "<":
		return n < 0
	case "<=":
		return n <= 0
	case ">":
		return n > 0
	default: // ">="
		return n >= 0
	}
}

type between struct{ v, lo, hi operand }

func (c between) holds(it item) bool {
	v, ok1 := c.v.value(it)
	lo, ok2 := c.lo.value(it)
	hi, ok3 := c.hi.value(it)
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	a, okA := compareScalars(v, lo)
	b, okB := compareScalars(v, hi)
	return okA && okB && a >= 0 && b <= 0
}

type in struct {
	v    operand
	list []operand
}

func (c in) holds(it item) bool {
	v, ok := c.v.value(it)
	if !ok {
		return false
	}
	want := canon(v)
	for _, o := range c.list {
		if x, ok := o.value(it); ok && canon(x) == want {
			return true
		}
	}
	return false
}

type function struct {
	name string
	p    path
	arg  operand // nil for attribute_exists and attribute_not_exists
}

func (f function) holds(it item) bool {
	v, exists := f.p.value(it)
	switch f.name {
	case "attribute_exists":
		return exists
	case "attribute_not_exists":
		return !exists
	}
	arg, ok := f.arg.value(it)
	if !exists || !ok {
		return false
	}
	switch f.name {
	case "attribute_type":
		t, isS := arg.(*types.AttributeValueMemberS)
		return isS && typeName(v) == t.Value
	case "begins_with":
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			p, isS := arg.(*types.AttributeValueMemberS)
			return isS && strings.HasPrefix(v.Value, p.Value)
		case *types.AttributeValueMemberB:
			p, isB := arg.(*types.AttributeValueMemberB)
			return isB && bytes.HasPrefix(v.Value, p.Value)
		}
		return false
	default: // contains
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			s, isS := arg.(*types.AttributeValueMemberS)
			return isS && strings.Contains(v.Value, s.Value)
		case *types.AttributeValueMemberB:
			s, isB := arg.(*types.AttributeValueMemberB)
			return isB && bytes.Contains(v.Value, s.Value)
		case *types.AttributeValueMemberSS, *types.AttributeValueMemberNS, *types.AttributeValueMemberBS:
			return setHas(v, arg)
		case *types.AttributeValueMemberL:
			want := canon(arg)
			for _, e := range v.Value {
				if canon(e) == want {
					return true
				}
			}
		}
		return false
	}
}

func setHas(set, v types.AttributeValue) bool {
	want := canon(v)
	switch set := set.(type) {
	case *types.AttributeValueMemberSS:
		for _, s := range set.Value {
			if canon(&types.AttributeValueMemberS{Value: s}) == want {
				return true
			}
		}
	case *types.AttributeValueMemberNS:
		for _, s := range set.Value {
			if canon(&types.AttributeValueMemberN{Value: s}) == want {
				return true
			}
		}
	case *types.AttributeValueMemberBS:
		for _, b := range set.Value {
			if canon(&types.AttributeValueMemberB{Value: b}) == want {
				return true
			}
		}
	}
	return false
}

func typeName(v types.AttributeValue) string {
	switch v.(type) {
	case *types.AttributeValueMemberS:
		return "S"
	case *types.AttributeValueMemberN:
		return "N"
	case *types.AttributeValueMemberB:
		return "B"
	case *types.AttributeValueMemberBOOL:
		return "BOOL"
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberSS:
		return "SS"
	case *types.AttributeValueMemberNS:
		return "NS"
	case *types.AttributeValueMemberBS:
		return "BS"
	case *types.AttributeValueMemberL:
		return "L"
	case *types.AttributeValueMemberM:
		return "M"
	}
	return ""
}

// parseCondition parses a condition, filter or key condition expression. An empty
// expression is a condition that always holds.
func parseCondition(expr string, names map[string]string, values map[string]types.AttributeValue) (cond, error) {
	if strings.TrimSpace(expr) == "" {
		return always{}, nil
	}
	p := &parser{names: names, values: values}
	if err := p.lex(expr); err != nil {
		return nil, fmt.Errorf("dynamofault: expression %q: %w", expr, err)
	}
	c, err := p.or()
	if err == nil && p.pos < len(p.toks) {
		err = fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	if err != nil {
		return nil, fmt.Errorf("dynamofault: expression %q: %w", expr, err)
	}
	return c, nil
}

type always struct{}

func (always) holds(item) bool { return true }

type parser struct {
	names  map[string]string
	values map[string]types.AttributeValue
	toks   []string
	pos    int
}

func (p *parser) lex(s string) error {
	isWord := func(c byte) bool {
		return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.ContainsRune("(),.[]=", rune(c)):
			p.toks = append(p.toks, s[i:i+1])
			i++
		case c == '<' || c == '>':
			j := i + 1
			if j < len(s) && (s[j] == '=' || c == '<' && s[j] == '>') {
				j++
			}
			p.toks = append(p.toks, s[i:j])
			i = j
		case c == '#' || c == ':' || isWord(c):
			j := i + 1
			for j < len(s) && isWord(s[j]) {
				j++
			}
			p.toks = append(p.toks, s[i:j])
			i = j
		default:
			return fmt.Errorf("unexpected character %q", c)
		}
	}
	return nil
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) keyword(k string) bool {
	if strings.EqualFold(p.peek(), k) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) expect(t string) error {
	if p.peek() != t {
		return fmt.Errorf("want %q, got %q", t, p.peek())
	}
	p.pos++
	return nil
}

func (p *parser) or() (cond, error) {
	c, err := p.and()
	for err == nil && p.keyword("OR") {
		var r cond
		if r, err = p.and(); err == nil {
			c = orCond{c, r}
		}
	}
	return c, err
}

func (p *parser) and() (cond, error) {
	c, err := p.not()
	for err == nil && p.keyword("AND") {
		var r cond
		if r, err = p.not(); err == nil {
			c = andCond{c, r}
		}
	}
	return c, err
}

func (p *parser) not() (cond, error) {
	if p.keyword("NOT") {
		c, err := p.not()
		return notCond{c}, err
	}
	return p.primary()
}

func (p *parser) primary() (cond, error) {
	if p.peek() == "(" {
		p.pos++
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		return c, p.expect(")")
	}
	if name := strings.ToLower(p.peek()); p.pos+1 < len(p.toks) && p.toks[p.pos+1] == "(" {
		switch name {
		case "attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains":
			return p.function(name)
		}
	}
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	switch op := p.peek(); {
	case op == "=" || op == "<>" || op == "<" || op == "<=" || op == ">" || op == ">=":
		p.pos++
		r, err := p.operand()
		return compare{op, l, r}, err
	case p.keyword("BETWEEN"):
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		if !p.keyword("AND") {
			return nil, fmt.Errorf("BETWEEN without AND")
		}
		hi, err := p.operand()
		return between{l, lo, hi}, err
	case p.keyword("IN"):
		if err := p.expect("("); err != nil {
			return nil, err
		}
		c := in{v: l}
		for {
			o, err := p.operand()
			if err != nil {
				return nil, err
			}
			c.list = append(c.list, o)
			if p.peek() != "," {
				break
			}
			p.pos++
		}
		return c, p.expect(")")
	default:
		return nil, fmt.Errorf("want a comparison after an operand, got %q", op)
	}
}

func (p *parser) function(name string) (cond, error) {
	p.pos += 2 // name and "("
	target, err := p.path()
	if err != nil {
		return nil, err
	}
	f := function{name: name, p: target}
	if name != "attribute_exists" && name != "attribute_not_exists" {
		if err := p.expect(","); err != nil {
			return nil, err
		}
		if f.arg, err = p.operand(); err != nil {
			return nil, err
		}
	}
	return f, p.expect(")")
}

func (p *parser) operand() (operand, error) {
	t := p.peek()
	switch {
	case strings.HasPrefix(t, ":"):
		v, ok := p.values[t]
		if !ok {
			return nil, fmt.Errorf("value %s is not defined", t)
		}
		p.pos++
		return literal{v}, nil
	case strings.EqualFold(t, "size") && p.pos+1 < len(p.toks) && p.toks[p.pos+1] == "(":
		p.pos += 2
		target, err := p.path()
		if err != nil {
			return nil, err
		}
		return sizeOf{target}, p.expect(")")
	}
	return p.path()
}

func (p *parser) path() (path, error) {
	first, err := p.name()
	if err != nil {
		return nil, err
	}
	out := path{{name: first}}
	for {
		switch p.peek() {
		case ".":
			p.pos++
			n, err := p.name()
			if err != nil {
				return nil, err
			}
			out = append(out, pathStep{name: n})
		case "[":
			p.pos++
			i, err := strconv.Atoi(p.peek())
			if err != nil || i < 0 {
				return nil, fmt.Errorf("bad list index %q", p.peek())
			}
			p.pos++
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			out = append(out, pathStep{index: i})
		default:
			return out, nil
		}
	}
}

func (p *parser) name() (string, error) {
	t := p.peek()
	switch {
	case strings.HasPrefix(t, "#"):
		n, ok := p.names[t]
		if !ok {
			return "", fmt.Errorf("name %s is not defined", t)
		}
		p.pos++
		return n, nil
	case t == "" || strings.HasPrefix(t, ":") || strings.ContainsAny(t[:1], "(),.[]=<>"):
		return "", fmt.Errorf("want an attribute name, got %q", t)
	}
	p.pos++
	return t, nil
}

// partitionValue finds "pk = :v" among the top-level conjuncts of a key condition.
func partitionValue(c cond, pk string) (types.AttributeValue, bool) {
	switch c := c.(type) {
	case andCond:
		if v, ok := partitionValue(c.l, pk); ok {
			return v, true
		}
		return partitionValue(c.r, pk)
	case compare:
		if p, ok := c.l.(path); ok && c.op == "=" && len(p) == 1 && p[0].name == pk {
			if v, ok := c.r.(literal); ok {
				return v.v, true
			}
		}
	}
	return nil, false
}

// projection is a ProjectionExpression that names top-level attributes; nil keeps all.
type projection []string

func parseProjection(expr *string, names map[string]string) (projection, error) {
	if expr == nil || strings.TrimSpace(*expr) == "" {
		return nil, nil
	}
	var out projection
	for _, part := range strings.Split(*expr, ",") {
		part = strings.TrimSpace(part)
		if strings.ContainsAny(part, ".[] ") || part == "" {
			return nil, fmt.Errorf("dynamofault: ProjectionExpression %q: only top-level attribute names are supported", *expr)
		}
		if strings.HasPrefix(part, "#") {
			n, ok := names[part]
			if !ok {
				return nil, fmt.Errorf("dynamofault: ProjectionExpression %q: name %s is not defined", *expr, part)
			}
			part = n
		}
		out = append(out, part)
	}
	return out, nil
}

func (p projection) apply(it item) item {
	if p == nil || it == nil {
		return it
	}
	out := make(item, len(p))
	for _, n := range p {
		if v, ok := it[n]; ok {
			out[n] = v
		}
	}
	return out
}

func (p projection) has(name string) bool {
	if p == nil {
		return true
	}
	for _, n := range p {
		if n == name {
			return true
		}
	}
	return false
}
