// Package contract holds the API to its contract in tests: every request and response
// that passes through a handler it wraps is checked against openapi.yaml with
// kin-openapi. A request the document allows must get an answer the document describes;
// a request it does not allow must be refused with a 4xx and the error shape, which the
// document must describe too.
package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/leaderboardapi/leaderboard"
)

// Document loads openapi.yaml, validated, examples included.
func Document() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(leaderboard.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not valid: %w", err)
	}
	return doc, nil
}

// Checker checks exchanges against the document and counts the operations it saw.
type Checker struct {
	t      testing.TB
	router routers.Router
	mu     sync.Mutex
	seen   map[string]int // operationId -> exchanges
}

// New returns a Checker that reports to t.
func New(t testing.TB) *Checker {
	t.Helper()
	doc, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	// Routes are matched on the path alone, whatever host the test server has.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &Checker{t: t, router: router, seen: map[string]int{}}
}

// Wrap returns h with every exchange checked.
func (c *Checker) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r.Clone(r.Context()))

		c.check(r, body, rec)

		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

func (c *Checker) check(r *http.Request, body []byte, rec *httptest.ResponseRecorder) {
	c.t.Helper()
	exchange := fmt.Sprintf("%s %s -> %d", r.Method, r.URL.RequestURI(), rec.Code)
	route, params, err := c.router.FindRoute(r)
	if err != nil {
		// Not in the document: the API must not serve it either.
		if rec.Code != http.StatusNotFound || !isError(rec.Body.Bytes()) {
			c.t.Errorf("contract: %s: the route is not in openapi.yaml, yet it was answered %s", exchange, rec.Body)
		}
		return
	}
	c.mu.Lock()
	c.seen[route.Operation.OperationID]++
	c.mu.Unlock()

	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{
		Request: r.Clone(ctx), PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	in.Request.Body = io.NopCloser(bytes.NewReader(body))
	// The API reads every body as JSON whatever its Content-Type (curl -d sends a form
	// type), as openapi.yaml's description says; the document lists JSON alone.
	if ct := r.Header.Get("Content-Type"); len(body) > 0 && (ct == "" || strings.HasPrefix(ct, "application/x-www-form-urlencoded")) {
		in.Request.Header.Set("Content-Type", "application/json")
	}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		// The document refuses it: so must the API.
		if rec.Code < 400 || rec.Code > 499 || !isError(rec.Body.Bytes()) {
			c.t.Errorf("contract: %s: openapi.yaml refuses the request (%v), but the API answered %s", exchange, err, rec.Body)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		c.t.Errorf("contract: %s: the answer is not as openapi.yaml describes it: %v\nbody: %.500s", exchange, err, rec.Body)
	}
}

// isError reports whether body is the API's error shape, {"message": "..."}.
func isError(body []byte) bool {
	var e map[string]any
	if json.Unmarshal(body, &e) != nil || len(e) != 1 {
		return false
	}
	_, ok := e["message"].(string)
	return ok
}

// Seen lists the operations checked so far, with how many exchanges each.
func (c *Checker) Seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for op, n := range c.seen {
		out = append(out, fmt.Sprintf("%s x%d", op, n))
	}
	sort.Strings(out)
	return out
}
