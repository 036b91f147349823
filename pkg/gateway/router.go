package gateway

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// defaultRouteKey is the catch-all route, taken only when no other route matches.
const defaultRouteKey = "$default"

type segmentKind int

// Ordered by precedence, least specific first.
const (
	greedy segmentKind = iota
	param
	literal
)

type segment struct {
	kind  segmentKind
	value string // the literal, or the parameter name
}

type compiledRoute struct {
	Route
	key      string // route key as HTTP API sends it: "GET /v1/team/{id}"
	segments []segment
}

type router struct {
	routes   []*compiledRoute
	fallback *compiledRoute // the $default route, if any
}

func newRouter(routes []Route) (router, error) {
	var rt router
	shapes := map[string]string{} // route shape -> the route key that has it
	for _, r := range routes {
		c, err := compile(r)
		if err != nil {
			return router{}, err
		}
		if c.key == defaultRouteKey {
			if rt.fallback != nil {
				return router{}, fmt.Errorf("route %s: defined twice", defaultRouteKey)
			}
			rt.fallback = c
			continue
		}
		// Routes differing only in parameter names would match the same requests, and
		// HTTP API refuses them as it refuses exact duplicates.
		shape := c.Method + " " + c.shape()
		if prev, dup := shapes[shape]; dup {
			return router{}, fmt.Errorf("route %s: conflicts with route %s", c.key, prev)
		}
		shapes[shape] = c.key
		rt.routes = append(rt.routes, c)
	}
	return rt, nil
}

func compile(r Route) (*compiledRoute, error) {
	if r.Handler == nil {
		return nil, fmt.Errorf("route %s %s: no handler", r.Method, r.Path)
	}
	if r.Path == defaultRouteKey {
		return &compiledRoute{Route: r, key: defaultRouteKey}, nil
	}
	r.Method = strings.ToUpper(r.Method)
	key := r.Method + " " + r.Path
	if r.Method == "" || strings.ContainsFunc(r.Method, func(c rune) bool { return c < 'A' || c > 'Z' }) {
		return nil, fmt.Errorf("route %s: bad method %q", key, r.Method)
	}
	if !strings.HasPrefix(r.Path, "/") {
		return nil, fmt.Errorf("route %s: path must start with /", key)
	}
	parts := strings.Split(r.Path[1:], "/")
	segments := make([]segment, 0, len(parts))
	names := map[string]bool{}
	for i, p := range parts {
		last := i == len(parts)-1
		if !strings.ContainsAny(p, "{}") {
			// An empty segment is "/" itself or a trailing slash; "//" inside a path is a mistake.
			if p == "" && !last {
				return nil, fmt.Errorf("route %s: empty path segment", key)
			}
			segments = append(segments, segment{kind: literal, value: p})
			continue
		}
		name, ok := strings.CutPrefix(p, "{")
		if name, ok = strings.CutSuffix(name, "}"); !ok || name == "" || strings.ContainsAny(name, "{}") {
			return nil, fmt.Errorf("route %s: segment %q: a path variable is a whole segment, {name} or {name+}", key, p)
		}
		kind := param
		if n, isGreedy := strings.CutSuffix(name, "+"); isGreedy {
			if !last {
				return nil, fmt.Errorf("route %s: greedy %s must be the last segment", key, p)
			}
			kind, name = greedy, n
		}
		if name == "" || names[name] {
			return nil, fmt.Errorf("route %s: bad or repeated path variable %s", key, p)
		}
		names[name] = true
		segments = append(segments, segment{kind: kind, value: name})
	}
	return &compiledRoute{Route: r, key: key, segments: segments}, nil
}

// shape is the path with variable names dropped.
func (c *compiledRoute) shape() string {
	var b strings.Builder
	for _, s := range c.segments {
		b.WriteByte('/')
		switch s.kind {
		case literal:
			b.WriteString(s.value)
		case param:
			b.WriteString("{}")
		case greedy:
			b.WriteString("{+}")
		}
	}
	return b.String()
}

// match finds the route for method and the escaped request path the way HTTP API
// ranks them: a route without a greedy variable over one with it; then, at the first
// segment where two routes differ, literal over {param} over {proxy+}; then a named
// method over ANY; and $default only when nothing else matches.
func (rt router) match(method, rawPath string) (*compiledRoute, map[string]string, bool) {
	var (
		best       *compiledRoute
		bestParams map[string]string
		bestRank   []int
	)
	if strings.HasPrefix(rawPath, "/") {
		parts := strings.Split(rawPath[1:], "/")
		for _, c := range rt.routes {
			if c.Method != method && c.Method != "ANY" {
				continue
			}
			params, ok := c.matchPath(parts)
			if !ok {
				continue
			}
			rank := c.rank()
			if best == nil || slices.Compare(rank, bestRank) > 0 {
				best, bestParams, bestRank = c, params, rank
			}
		}
	}
	if best != nil {
		return best, bestParams, true
	}
	if rt.fallback != nil {
		return rt.fallback, nil, true
	}
	return nil, nil, false
}

func (c *compiledRoute) rank() []int {
	rank := make([]int, 1, len(c.segments)+2)
	if len(c.segments) == 0 || c.segments[len(c.segments)-1].kind != greedy {
		rank[0] = 1
	}
	for _, s := range c.segments {
		rank = append(rank, int(s.kind))
	}
	// Two routes that match one request have the same segment count unless one ends in a
	// greedy segment where the other has a more specific one, which decides first; so the
	// method rank is only ever compared with another method rank.
	if c.Method == "ANY" {
		return append(rank, 0)
	}
	return append(rank, 1)
}

// matchPath matches the escaped request path segments and returns the decoded path
// parameters (nil when the route has none, as HTTP API omits them).
func (c *compiledRoute) matchPath(parts []string) (map[string]string, bool) {
	var params map[string]string
	set := func(name, raw string) {
		if params == nil {
			params = map[string]string{}
		}
		params[name] = unescapePath(raw)
	}
	for i, s := range c.segments {
		switch s.kind {
		case greedy:
			rest := strings.Join(parts[min(i, len(parts)):], "/")
			if rest == "" {
				return nil, false
			}
			set(s.value, rest)
			return params, true
		case param:
			if i >= len(parts) || parts[i] == "" {
				return nil, false
			}
			set(s.value, parts[i])
		case literal:
			if i >= len(parts) || unescapePath(parts[i]) != s.value {
				return nil, false
			}
		}
	}
	return params, len(parts) == len(c.segments)
}

func unescapePath(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}
