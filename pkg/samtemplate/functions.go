package samtemplate

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// Function is an AWS::Serverless::Function with Globals.Function merged in.
//
// Fields the template leaves out, or gives as an intrinsic where a plain value is expected,
// are zero: Architectures is nil when neither the function nor Globals name one (Lambda
// then runs x86_64).
type Function struct {
	LogicalID     string
	CodeURI       string // empty when CodeUri is an S3 location map rather than a path
	BuildMethod   string // Metadata.BuildMethod
	Handler       string
	Runtime       string
	Architectures []string
	// Environment is Environment.Variables, Globals and the function's own merged (the
	// function wins), with raw values that may be intrinsics like map{"Ref": "Table"}.
	Environment map[string]any
	Policies    []any   // raw; a single policy given without a list is wrapped in one
	Events      []Event // sorted by Name
	// Properties holds every property after the Globals merge (MemorySize, Timeout, ...).
	Properties map[string]any
}

// Event is one entry of a function's Events.
type Event struct {
	Name       string
	Type       string
	Properties map[string]any
}

// Route is an HttpApi event: the route API Gateway sends to a function.
type Route struct {
	Method     string // upper-case; ANY matches every method
	Path       string // as in the template, e.g. "/v1/team/{id}"; "$default" for the catch-all route
	FunctionID string
}

// DefaultRoute is the Path (and route key) of an HTTP API's catch-all route, which SAM
// creates for an HttpApi event that names neither Path nor Method.
const DefaultRoute = "$default"

// RouteKey returns the HTTP API route key, e.g. "GET /v1/team/{id}" or "$default".
func (r Route) RouteKey() string {
	if r.Path == DefaultRoute {
		return DefaultRoute
	}
	return r.Method + " " + r.Path
}

// Functions returns every AWS::Serverless::Function, sorted by LogicalID, with
// Globals.Function merged in by SAM's rules: maps merge key by key, the function's
// scalars win, lists are concatenated (globals first), a value of a different kind or an
// intrinsic replaces the global one, and IgnoreGlobals is honoured.
func (t *Template) Functions() []Function {
	globals, _ := t.Globals["Function"].(map[string]any)
	var fns []Function
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		r := t.Resources[id]
		if r.Type != TypeFunction {
			continue
		}
		props, _ := mergeGlobals(withoutIgnored(globals, r.IgnoreGlobals), r.Properties).(map[string]any)
		props = deepCopy(props).(map[string]any)
		fn := Function{
			LogicalID:     id,
			CodeURI:       stringOf(props["CodeUri"]),
			BuildMethod:   stringOf(r.Metadata["BuildMethod"]),
			Handler:       stringOf(props["Handler"]),
			Runtime:       stringOf(props["Runtime"]),
			Architectures: stringsOf(props["Architectures"]),
			Properties:    props,
		}
		if env, ok := props["Environment"].(map[string]any); ok {
			fn.Environment, _ = env["Variables"].(map[string]any)
		}
		switch p := props["Policies"].(type) {
		case nil:
		case []any:
			fn.Policies = p
		default:
			fn.Policies = []any{p}
		}
		events, _ := props["Events"].(map[string]any)
		for _, name := range slices.Sorted(maps.Keys(events)) {
			e, _ := events[name].(map[string]any)
			ep, _ := e["Properties"].(map[string]any)
			fn.Events = append(fn.Events, Event{Name: name, Type: stringOf(e["Type"]), Properties: ep})
		}
		fns = append(fns, fn)
	}
	return fns
}

// HTTPRoutes returns the route of every HttpApi event, sorted by Path then Method.
func (t *Template) HTTPRoutes() []Route {
	var routes []Route
	for _, fn := range t.Functions() {
		for _, e := range fn.Events {
			if e.Type != "HttpApi" {
				continue
			}
			r := Route{
				Method:     strings.ToUpper(stringOf(e.Properties["Method"])),
				Path:       stringOf(e.Properties["Path"]),
				FunctionID: fn.LogicalID,
			}
			if r.Method == "" && r.Path == "" {
				r.Method, r.Path = "ANY", DefaultRoute
			}
			routes = append(routes, r)
		}
	}
	slices.SortFunc(routes, func(a, b Route) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Method, b.Method),
			strings.Compare(a.FunctionID, b.FunctionID))
	})
	return routes
}

// TableLogicalIDs returns the logical IDs of every AWS::DynamoDB::Table, sorted.
func (t *Template) TableLogicalIDs() []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == TypeTable {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// withoutIgnored drops from globals what the resource's IgnoreGlobals names.
func withoutIgnored(globals map[string]any, ignore any) map[string]any {
	switch ignore := ignore.(type) {
	case string:
		if ignore == "*" {
			return nil
		}
	case []any:
		globals = maps.Clone(globals)
		for _, k := range ignore {
			if k, ok := k.(string); ok {
				delete(globals, k)
			}
		}
	}
	return globals
}

// mergeGlobals merges a global value into a local one the way the SAM translator does
// (samtranslator/plugins/globals/globals.py). It builds new maps and lists rather than
// changing either input.
func mergeGlobals(global, local any) any {
	if global == nil {
		return local
	}
	if local == nil {
		return global
	}
	g, gMap := global.(map[string]any)
	l, lMap := local.(map[string]any)
	if gMap && lMap && !IsIntrinsic(g) && !IsIntrinsic(l) {
		merged := make(map[string]any, len(g)+len(l))
		maps.Copy(merged, g)
		for k, v := range l {
			merged[k] = mergeGlobals(g[k], v)
		}
		return merged
	}
	gList, gIsList := global.([]any)
	lList, lIsList := local.([]any)
	if gIsList && lIsList {
		return slices.Concat(gList, lList)
	}
	return local
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(v))
		for k, e := range v {
			c[k] = deepCopy(e)
		}
		return c
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = deepCopy(e)
		}
		return c
	default:
		return v
	}
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

func stringsOf(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
